"""Energy of LightGCN recommendation queries (an :class:`spiking.energy.EnergyTarget`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from graphnets.recsys.data import InteractionData
from graphnets.recsys.lightgcn import LightGCN
from spiking.energy import estimate_energy
from spiking.energy.targets import EnergyTarget

__all__ = ["LightGCNRecommend", "lightgcn_energy_target"]


class LightGCNRecommend(nn.Module):
    """One batch of recommendation requests: propagate the embeddings over the model's graph
    (``[U + I]`` nodes, :meth:`LightGCN.set_graph`), then score the requested ``users`` ``[B]``
    against every item: ``[B, I]``."""

    def __init__(self, model: LightGCN) -> None:
        super().__init__()
        self.model = model

    def forward(self, users: Tensor) -> Tensor:
        u, i = self.model()  # [U, D], [I, D]
        return u.index_select(0, users) @ i.t()  # [B, I] scores


class _Propagate(nn.Module):
    def __init__(self, model: LightGCN) -> None:
        super().__init__()
        self.model = model

    def forward(self, dummy: Tensor) -> Tensor:
        return self.model.propagate()


class _Score(nn.Module):
    def forward(self, user_emb: Tensor, item_emb: Tensor) -> Tensor:
        return user_emb @ item_emb.t()


def lightgcn_energy_target(
    model: LightGCN,
    data: InteractionData,
    *,
    batch: int = 1,
    source: str = "",
    preset: Any = "45nm-fp32",
    memory: bool = False,
    device: str | torch.device = "cpu",
) -> EnergyTarget:
    """The energy of ``batch`` LightGCN queries (one user scored against every item) on ``data``'s graph.

    Besides the whole request (propagation + scoring, energy per query), the target carries
    ``propagation_once`` (one full-graph propagation), ``scoring_one_query`` and
    ``amortised_per_query_mJ`` = propagation / ``num_users`` + one scoring: the propagation is shared
    by all users of a serving system, so that is the realistic per-query figure. ``model`` is
    moved to ``device``, where the counting runs.
    """
    if not isinstance(model, LightGCN):
        raise TypeError(f"lightgcn_energy_target: model must be a LightGCN (got {type(model).__name__})")
    if batch < 1:
        raise ValueError(f"lightgcn_energy_target: batch must be >= 1 (got {batch})")
    model = model.to(device)
    graph = data.bipartite_graph().to(device)
    model.set_graph(graph)
    users = torch.arange(min(batch, data.num_users), device=device)
    target = EnergyTarget(
        "LightGCN",
        LightGCNRecommend(model),
        users,
        per=("query", float(users.numel())),
        notes=[
            f"{source or 'data'}: {data.num_users} users x {data.num_items} items, "
            f"{graph.num_edges} graph entries, D={model.embedding_dim}, K={model.num_layers}",
            "a query = one user scored against every item; the propagation is shared by "
            "all users, so its amortised share per query is propagation / num_users",
        ],
    )
    with torch.no_grad():
        u, i = model()
    prop = estimate_energy(_Propagate(model), torch.zeros(1, device=device), preset=preset, memory=memory)
    score = estimate_energy(_Score(), (u[:1], i), preset=preset, memory=memory)
    target.extra_reports = {
        "propagation_once": prop,
        "scoring_one_query": score,
        "amortised_per_query_mJ": prop.energy_mJ / data.num_users + score.energy_mJ,
    }
    return target
