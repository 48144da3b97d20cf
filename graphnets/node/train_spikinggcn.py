"""Official SpikingGCN training protocol (``handcode/model_lif_fc.py``), one run per call.

Features :math:`\\hat A^2 X` (+ offset) are computed once from the raw features. Each epoch:
shuffled mini-batches of ``batch_size`` training nodes, T steps of Bernoulli encoding + LIF,
``MSE(counts / T, onehot(y))``, Adam(lr, weight_decay); the learning rate is *set* at the epochs
of ``lr_drops`` (``model_lif_fc.py``: 1e-3 at 50 and 1e-4 at 80, its ``StepLR`` being re-created
inside the batch loop and never taking effect; the Cora notebook's ``model_lif_fc_with_val.py``
sequence is in :mod:`graphnets.node.presets`). After each epoch the validation accuracy (argmax of output
spike counts) is measured; the weights with the best validation accuracy (strictly better
replaces) are kept and evaluated once on the test nodes, counting spikes per node: input spikes
(encoder output, the official ``num_s1``) and output spikes (``num_s2``).

Differences from the official loop: randomness (init, shuffling, encoding) from one
``torch.Generator``; the best weights are kept in memory instead of ``torch.save``; evaluation
batches may be larger than 64 (``eval_batch_size``; nodes are independent and the neuron state
is reset per batch, so results are distributed identically); with ``fixed_val_encoding`` (the
default) the validation input spikes are drawn once per run and reused every epoch (each epoch's
validation accuracy has the official distribution, but epochs share their noise; this removes
~80% of the CPU cost of an epoch); the initial weights are the
fallback if no epoch beats 0 validation accuracy (the official code would crash loading a
checkpoint that was never written).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from graphnets.node.dataset import NodeDataset, check_split
from graphnets.node.presets import SpikingGCNConfig
from graphnets.node.results import RunResult
from graphnets.node.spikinggcn import SpikingGCN
from sampling import Split
from sampling.finite import check_loss, check_parameters
from spiking.sparse_spikes import CSRSpikes

__all__ = ["train_spikinggcn", "evaluate_spikinggcn"]


def encode_batches(
    model: SpikingGCN, h: Tensor, index: Tensor, batch_size: int, generator: torch.Generator
) -> list[CSRSpikes]:
    """Input spikes of nodes ``index`` in batches, as reusable CSR spike matrices."""
    return [model.encode(h[index[s : s + batch_size]], generator).to_csr() for s in range(0, index.numel(), batch_size)]


@torch.no_grad()
def evaluate_spikinggcn(
    model: SpikingGCN,
    h: Tensor,
    y: Tensor,
    index: Tensor,
    batch_size: int,
    generator: torch.Generator,
    encoded: Optional[list[CSRSpikes]] = None,
) -> dict:
    """Accuracy, MSE and per-node spike counts of ``model`` on nodes ``index``.

    ``encoded``: pre-drawn input spikes from :func:`encode_batches` (same ``index`` and
    ``batch_size``); otherwise fresh spikes are drawn from ``generator``.
    Returns a dict with ``acc``, ``loss`` and tensors ``input_spikes`` / ``output_spikes`` ``[len(index)]``.
    """
    model.eval()
    correct, loss_sum = 0, 0.0
    n_in, n_out = [], []
    for i, start in enumerate(range(0, index.numel(), batch_size)):
        idx = index[start : start + batch_size]
        if encoded is not None:
            out, inp = model.run(encoded[i]), encoded[i].per_node()  # [T, B, C], [B]
        else:
            spikes_in = model.input_spikes(h[idx], generator)  # [T, B, F]
            out, inp = model.run(spikes_in, generator), spikes_in.sum(dim=(0, 2))  # [T, B, C], [B]
        counts = out.sum(0)  # [B, C]
        correct += int((counts.argmax(-1) == y[idx]).sum())
        loss_sum += (
            float(F.mse_loss(counts / model.T, F.one_hot(y[idx], model.out_channels).to(counts.dtype), reduction="sum"))
            / model.out_channels
        )
        n_in.append(inp)
        n_out.append(counts.sum(-1))
    return {
        "acc": correct / index.numel(),
        "loss": loss_sum / index.numel(),
        "input_spikes": torch.cat(n_in),
        "output_spikes": torch.cat(n_out),
    }


def train_spikinggcn(
    data: NodeDataset,
    split: Split,
    config: SpikingGCNConfig,
    generator: torch.Generator,
    *,
    on_epoch: Optional[Callable[[dict[str, float]], None]] = None,
) -> RunResult:
    """Train a fresh SpikingGCN and return the result, with spike counts in ``result.extra``.

    ``result.extra`` holds ``input_spikes_per_node`` / ``output_spikes_per_node`` (means over the
    test nodes, the official ``num_s1`` / ``num_s2``), their sum, and the per-node test counts
    (lists) under ``input_spikes`` / ``output_spikes``.
    """
    fn = "train_spikinggcn"
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")
    check_split(split, data.num_nodes, fn, data.y, data.num_classes)
    if config.batch_size < 1 or config.eval_batch_size < 1:
        raise ValueError(f"{fn}: batch sizes must be positive (got {config.batch_size}, {config.eval_batch_size})")
    h = SpikingGCN.features(data.graph, data.x, config.hops, config.feature_offset)  # [N, F], once
    model = SpikingGCN(
        data.num_features,
        data.num_classes,
        config.T,
        config.tau,
        config.v_threshold,
        config.surrogate_alpha,
        config.dropout,
    ).to(data.x.device)
    model.reset_parameters(generator)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    drops = dict(config.lr_drops)
    y = data.y

    val_encoded = None
    if config.fixed_val_encoding:
        val_encoded = encode_batches(model, h, split.val, config.eval_batch_size, generator)
    best_acc, best_loss, best_epoch = 0.0, float("inf"), 0
    best_state = copy.deepcopy(model.state_dict())
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    for epoch in range(config.epochs):
        if epoch in drops:
            for group in opt.param_groups:
                group["lr"] = drops[epoch]
        model.train()
        order = split.train[torch.randperm(split.train.numel(), generator=generator, device=split.train.device)]
        losses, correct = [], 0
        for s in range(0, order.numel(), config.batch_size):
            idx = order[s : s + config.batch_size]
            opt.zero_grad()
            rate = model(h[idx], generator).sum(0) / config.T  # [B, C]
            loss = F.mse_loss(rate, F.one_hot(y[idx], data.num_classes).to(rate.dtype))
            losses.append(check_loss(loss, fn, epoch=epoch + 1, batch=s // config.batch_size))  # before the update
            loss.backward()
            opt.step()
            correct += int((rate.argmax(-1) == y[idx]).sum())
        # NaN weights make the neurons silent, not NaN: the loss stays finite, so check the weights
        check_parameters(model, fn, epoch=epoch + 1)
        val = evaluate_spikinggcn(model, h, y, split.val, config.eval_batch_size, generator, val_encoded)
        info = {
            "epoch": epoch + 1,
            "lr": opt.param_groups[0]["lr"],
            "train_loss": sum(losses) / len(losses),
            "train_acc": correct / order.numel(),
            "val_loss": val["loss"],
            "val_acc": val["acc"],
        }
        history.append(info)
        if on_epoch is not None:
            on_epoch(info)
        if val["acc"] > best_acc:
            best_acc, best_loss, best_epoch = val["acc"], val["loss"], epoch + 1
            best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    test = evaluate_spikinggcn(model, h, y, split.test, config.eval_batch_size, generator)
    seconds = time.perf_counter() - start
    n_in, n_out = test["input_spikes"], test["output_spikes"]
    extra = {
        "input_spikes_per_node": float(n_in.float().mean()),
        "output_spikes_per_node": float(n_out.float().mean()),
        "spikes_per_node": float((n_in + n_out).float().mean()),
        "input_spikes": [int(v) for v in n_in.tolist()],
        "output_spikes": [int(v) for v in n_out.tolist()],
        "test_loss": test["loss"],
    }
    return RunResult(
        test_acc=test["acc"],
        val_acc=best_acc,
        val_loss=best_loss,
        best_epoch=best_epoch,
        epochs_run=config.epochs,
        seconds=seconds,
        history=history,
        extra=extra,
        state=best_state,
    )
