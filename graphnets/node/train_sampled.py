"""One epoch of node classification on sampled blocks (or the whole graph), and its evaluation.

* :func:`train_sampled_epoch`: a pass over a :class:`sampling.Loader` (or one full-graph step) with cross-entropy;
* :func:`evaluate_sampled`: accuracy of node sets, on the whole graph or on sampled blocks;
* :func:`node_accuracy`: ``argmax`` accuracy, ``nan`` for an empty set.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from graphnets.node.sampled_gnn import SampledGNN
from sampling import FeatureStore, Graph, Loader, NeighborSampler

__all__ = ["evaluate_sampled", "node_accuracy", "train_sampled_epoch"]


def node_accuracy(out: Tensor, y: Tensor) -> float:
    """Fraction of rows of ``out [n, C]`` whose ``argmax`` equals ``y [n]``; ``nan`` when ``n == 0``."""
    return float((out.argmax(1) == y).float().mean()) if y.numel() else float("nan")


def train_sampled_epoch(
    model: SampledGNN,
    opt: torch.optim.Optimizer,
    batches: Optional[Iterable],
    *,
    graph: Graph,
    store: FeatureStore,
    labels: Tensor,
    train: Tensor,
) -> tuple[float, int, int]:
    """Train ``model`` for one epoch; ``(mean batch loss, seeds trained, edges aggregated)``.

    ``batches`` are the :class:`sampling.Loader`'s mini-batches (blocks, input features, labels); ``None`` makes one
    full-batch step instead: the whole ``graph`` (on the model's device) for every layer, the feature table of
    ``store``, the loss over the ``train`` nodes (``labels [num_nodes]``). One optimiser step per batch.
    """
    model.train()
    device = next(model.parameters()).device
    losses, seeds, edges = [], 0, 0
    for batch in [None] if batches is None else batches:
        if batch is None:  # full-batch baseline: the whole graph, loss on the training nodes
            out = model([graph] * len(model.convs), store.table.to(device))[train.to(device)]
            y, seeds, edges = labels[train].to(device), seeds + train.numel(), edges + graph.num_edges
        else:
            out, y = model(batch.blocks, batch.x), batch.y
            seeds, edges = seeds + batch.seeds.numel(), edges + batch.num_edges
        loss = F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return statistics.mean(losses), seeds, edges


@torch.no_grad()
def evaluate_sampled(
    model: SampledGNN,
    graph: Graph,
    store: FeatureStore,
    labels: Tensor,
    ids: Sequence[Tensor],
    *,
    mode: str = "full",
    fanouts: Optional[Sequence[int]] = None,
    batch_size: int = 4096,
) -> list[float]:
    """Accuracy of each node set in ``ids`` (CPU int64 ids). ``mode="full"``: one eval-mode pass over the whole
    ``graph`` (on the model's device) with ``store``'s whole table; ``mode="sampled"``: the nodes' sampled blocks
    (``fanouts``, one per layer, ``-1`` = all neighbours; first hop first) in batches of ``batch_size``, features
    gathered from ``store`` (so a memory-mapped table works), accuracy ``0`` for an empty set.

    Raises:
        ValueError: an unknown ``mode``, or ``mode="sampled"`` without ``fanouts``.
    """
    if mode not in ("full", "sampled"):
        raise ValueError(f"evaluate_sampled: mode must be 'full' or 'sampled' (got {mode!r})")
    model.eval()
    device = next(model.parameters()).device
    if mode == "full":
        out = model([graph] * len(model.convs), store.table.to(device))
        return [node_accuracy(out[i.to(device)], labels[i].to(device)) for i in ids]
    if fanouts is None:
        raise ValueError("evaluate_sampled: mode='sampled' needs fanouts (got None)")
    sampler = NeighborSampler(graph, list(fanouts))
    accs = []
    for i in ids:
        loader = Loader(sampler, store, i, labels=labels, batch_size=batch_size, shuffle=False, device=device)
        correct = sum(int((model(b.blocks, b.x).argmax(1) == b.y).sum()) for b in loader)
        accs.append(correct / max(i.numel(), 1))
    return accs
