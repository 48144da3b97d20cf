r"""LightGCN trained on sampled neighbourhoods, for graphs too large to propagate in full at every step.

LightGCN-PyTorch propagates the whole user-item graph for every minibatch. Here a BPR batch's
users, positives and negatives are the seeds of a :class:`sampling.NeighborSampler` with one
fan-out per layer, and the layers run on the sampled blocks (GraphSAGE-style, Hamilton et al.
2017) instead of the graph: layer :math:`k+1` at node :math:`i` is

.. math::
    \tilde e^{(k+1)}_i = \frac{d_i}{s_i} \sum_{j \in S(i)} \hat A_{ij}\, \tilde e^{(k)}_j,

with :math:`S(i)` the :math:`s_i` neighbours sampled (uniformly, without replacement) out of
:math:`d_i`: an unbiased estimate of :math:`(\hat A E^{(k)})_i` given the layer below, and
exactly it when the fan-out covers the degree (fan-out ``-1``). The final embedding is the
mean of layers :math:`0..K` at the seeds, as in LightGCN; loss and regulariser are LightGCN's.
Evaluation still propagates the whole graph once (``model()``).

Differences from the official code: sampled propagation during training (the official code has
none); the rest of the training loop is :class:`graphnets.recsys.LightGCNTrainer`'s.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Union

import torch
from torch import Tensor

from graphnets.recsys.data import InteractionData
from graphnets.recsys.lightgcn import LightGCN
from graphnets.recsys.losses import bpr_loss, l2_batch_reg
from graphnets.recsys.presets import LightGCNConfig
from graphnets.recsys.trainer import LightGCNTrainer, Progress
from sampling import Block, Graph, NeighborSampler
from sampling.bpr import sample_bpr_triples

__all__ = ["SampledLightGCNTrainer", "block_weights", "propagate_blocks"]


def block_weights(block: Block, graph: Graph) -> Tensor:
    r"""Edge weights :math:`\hat A_{ij} d_i / s_i` of a block sampled from the normalised ``graph``.

    Args:
        block: a block of :meth:`NeighborSampler.sample_blocks` on ``graph``'s structure (its
            ``edge_ids`` index ``graph``'s CSR).
        graph: the normalised user-item graph (weights :math:`\hat A`).
    """
    if block.edge_ids is None or graph.weight is None:
        raise ValueError(
            "block_weights: needs a block with edge_ids and a weighted (normalised) graph "
            f"(got edge_ids={block.edge_ids is not None}, weighted={graph.weight is not None})"
        )
    sampled = block.graph.indptr[1:] - block.graph.indptr[:-1]  # [num_dst] s_i
    degree = (graph.indptr[1:] - graph.indptr[:-1]).index_select(0, block.dst_nodes)  # [num_dst] d_i
    scale = degree.to(graph.weight.dtype) / sampled.clamp_min(1).to(graph.weight.dtype)
    return graph.weight.index_select(0, block.edge_ids) * scale.index_select(0, block.graph.row)


def propagate_blocks(model: LightGCN, blocks: Sequence[Block], graph: Graph) -> Tensor:
    """Mean of layers ``0..K`` at the seeds ``blocks[-1].dst_nodes``: ``[B, D]`` (``K = len(blocks)``)."""
    x = torch.cat([model.user_embedding, model.item_embedding]).index_select(0, blocks[0].src_nodes)  # [S_0, D]
    seeds = blocks[-1].num_dst
    out = x[:seeds]
    for block in blocks:
        x = model.conv(x, block, edge_weight=block_weights(block, graph))  # [num_dst, D]
        out = out + x[:seeds]
    return out / (len(blocks) + 1)


class SampledLightGCNTrainer(LightGCNTrainer):
    """:class:`~graphnets.recsys.LightGCNTrainer` whose steps propagate over sampled blocks.

    Args:
        data, config, device, seed: as for :class:`~graphnets.recsys.LightGCNTrainer`.
        fanouts: one fan-out per LightGCN layer (``len == config.num_layers``), first hop first;
            ``-1`` takes every neighbour (then a step equals the full-graph step).

    Raises:
        ValueError: ``len(fanouts) != config.num_layers`` or a bad fan-out.
    """

    def __init__(
        self,
        data: InteractionData,
        config: LightGCNConfig,
        *,
        fanouts: Sequence[int],
        device: Union[str, torch.device] = "cpu",
        seed: int = 2020,
    ) -> None:
        fanouts = list(fanouts)
        if len(fanouts) != config.num_layers:
            raise ValueError(
                f"SampledLightGCNTrainer: one fan-out per layer ({config.num_layers}) is needed "
                f"(got {len(fanouts)}: {fanouts})"
            )
        super().__init__(data, config, device=device, seed=seed)
        self.fanouts = fanouts
        self.sampler = NeighborSampler(self.model.graph, fanouts)  # sampling where the graph lives

    def _sampling_generator(self) -> torch.Generator:
        if self.sampler.device.type == "cpu":
            return self.generator
        seed = int(torch.randint(2**62, (), generator=self.generator))
        return torch.Generator(device=self.sampler.device).manual_seed(seed)

    def train_epoch(self, progress: Progress = None) -> dict[str, float]:
        cfg, model, graph = self.config, self.model, self.model.graph
        t0 = time.perf_counter()
        users, pos, neg = sample_bpr_triples(
            self.positives, self.data.num_train, mode=cfg.sampling, generator=self.generator
        )
        gen = self._sampling_generator()
        total = torch.zeros((), device=self.device)
        u_off = self.data.num_users
        for start in range(0, users.numel(), cfg.batch_size):
            u, p, q = (t[start : start + cfg.batch_size].to(self.device) for t in (users, pos, neg))
            seeds, where = torch.unique(torch.cat([u, p + u_off, q + u_off]), return_inverse=True)
            emb = propagate_blocks(model, self.sampler.sample_blocks(seeds, gen), graph)  # [S, D]
            u_e, p_e, q_e = emb.index_select(0, where).split(u.numel())
            loss = bpr_loss((u_e * p_e).sum(-1), (u_e * q_e).sum(-1))
            reg = l2_batch_reg(
                model.user_embedding.index_select(0, u),
                model.item_embedding.index_select(0, p),
                model.item_embedding.index_select(0, q),
            )
            total += self._step(loss + model.decay * reg, progress)
        return self._finish_epoch(t0, total, users.numel())

    def state_dict(self) -> dict:
        return {**super().state_dict(), "fanouts": self.fanouts}

    def load_state_dict(self, state: dict) -> None:
        if state.get("fanouts") != self.fanouts:
            raise ValueError(
                f"SampledLightGCNTrainer.load_state_dict: checkpoint has fanouts {state.get('fanouts')} "
                f"(got a trainer with {self.fanouts})"
            )
        super().load_state_dict(state)
