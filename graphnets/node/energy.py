"""Energy of SpikingGCN inference per node (an :class:`spiking.energy.EnergyTarget`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from graphnets.node.dataset import NodeDataset
from graphnets.node.spikinggcn import SpikingGCN
from sampling import Graph
from spiking.energy import estimate_energy
from spiking.energy.targets import EnergyTarget

__all__ = ["SpikingGCNFeatures", "spikinggcn_energy_target"]


class SpikingGCNFeatures(nn.Module):
    """SpikingGCN's preprocessing ``A^hops X + offset`` (``[N, F]``), computed once per graph."""

    def __init__(self, graph: Graph, hops: int = 2, offset: float = 0.0) -> None:
        super().__init__()
        self.graph, self.hops, self.offset = graph, hops, offset

    def forward(self, x: Tensor) -> Tensor:
        return SpikingGCN.features(self.graph, x, self.hops, self.offset)  # [N, F]


def spikinggcn_energy_target(
    model: SpikingGCN,
    data: NodeDataset,
    generator: torch.Generator,
    *,
    nodes: int = 0,
    offset: float = 0.0,
    source: str = "",
    preset: Any = "45nm-fp32",
    memory: bool = False,
    device: str | torch.device = "cpu",
) -> EnergyTarget:
    """The energy of classifying the first ``nodes`` nodes (0: all) with ``model`` over ``model.T`` steps.

    The spiking layer is counted on the model's own Bernoulli input spikes (``generator`` draws
    them); its ANN counterpart is SGC (the same linear layer on the real features). The feature
    propagation, computed once per graph, is reported apart as ``propagation_once``. ``model`` and
    ``data`` are moved to ``device`` (``generator`` must live there), where the counting runs.
    """
    if not isinstance(model, SpikingGCN):
        raise TypeError(f"spikinggcn_energy_target: model must be a SpikingGCN (got {type(model).__name__})")
    model, data = model.to(device), data.to(device)
    feats = SpikingGCNFeatures(data.graph, offset=offset)
    with torch.no_grad():
        h = feats(data.x)  # [N, F]: firing probabilities of the Bernoulli encoder
    num_nodes, T = data.x.shape[0], model.T
    n = num_nodes if nodes <= 0 else min(nodes, num_nodes)
    h = h[:n]
    with torch.no_grad():
        expected_in = float(h.clamp(0, 1).sum()) * T / n
    target = EnergyTarget(
        "SpikingGCN",
        model,
        (h, generator),
        weight_reads=T,
        ann_model=model.fc,
        ann_example=h,
        per=("node", float(n)),
        notes=[
            f"{source or 'data'}: {num_nodes} nodes ({n} counted), {data.graph.num_edges} edges, "
            f"F={data.x.shape[1]}, C={data.num_classes}, T={T}",
            "features A^2 X (+ offset) precomputed once per graph (propagation_once); the spiking "
            "layer takes the model's Bernoulli input spikes (dense: linear on spikes; sparse: "
            "scatter-add of weight rows), one AC per input spike and class; expected input "
            f"spikes per node {expected_in:.1f}; output spikes drive no synapse (no energy)",
            "ANN counterpart: SGC (the same linear layer on the real features)",
        ],
    )
    target.extra_reports = {"propagation_once": estimate_energy(feats, data.x, preset=preset, memory=memory)}
    return target
