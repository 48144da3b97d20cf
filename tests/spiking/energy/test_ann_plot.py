"""ANN twin copies (graphs shared, neurons replaced) and the bar-chart helper."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cuda_ext
from sampling import Graph
from spiking.energy import estimate_energy, make_ann_twin, plot_energy
from spiking.neurons import LIF


class GraphSNN(nn.Module):
    def __init__(self, graph):
        super().__init__()
        self.graph = graph  # an immutable sampling.Graph (cannot be deep-copied attribute by attribute)
        self.fc = nn.Linear(4, 4)
        self.lif = LIF(v_threshold=0.1, step_mode="m")

    def forward(self, x):  # [T, N, 4]
        h = self.lif(self.fc(x))  # [T, N, 4]
        return torch.stack([cuda_ext.spmm(self.graph, h[t]) for t in range(h.shape[0])])


def _graph():
    return Graph(torch.tensor([0, 1, 3, 4]), torch.tensor([1, 0, 2, 1]))


def test_twin_shares_graph_and_replaces_neurons():
    model = GraphSNN(_graph())
    twin = make_ann_twin(model)
    assert twin.graph is model.graph and isinstance(twin.lif, nn.ReLU) and isinstance(model.lif, LIF)
    assert twin.fc.weight is not model.fc.weight
    torch.testing.assert_close(twin.fc.weight, model.fc.weight)
    r = estimate_energy(model, torch.rand(3, 4), T=3, ann=True)
    # the twin: one step, the linear is a MAC (real input) and the unweighted spmm sums (AC)
    assert r.ann.mac == 3 * 4 * 4 and r.ann.ac == 4 * 4
    spmm_row = next(row for row in r.layers if row.op == "spmm")
    assert spmm_row.input_rate is not None and spmm_row.mac == 0  # spikes aggregated: AC


def test_model_without_neurons_skips_twin_with_a_note():
    r = estimate_energy(nn.Linear(3, 2), torch.rand(1, 3), ann=True)
    assert r.ann is None and any("ANN twin skipped" in n for n in r.notes)
    assert make_ann_twin(LIF()).__class__ is nn.ReLU
    with pytest.raises(TypeError, match="make_ann_twin: expected an nn.Module"):
        make_ann_twin("lif")


def test_plot_energy_writes_png(tmp_path):
    r = estimate_energy(GraphSNN(_graph()), torch.rand(3, 4), T=2, ann=True)
    path = plot_energy(r, tmp_path / "e.png")
    data = (tmp_path / "e.png").read_bytes()
    assert path.endswith("e.png") and data[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(TypeError, match="plot_energy: expected an EnergyReport"):
        plot_energy({"total": 1}, tmp_path / "x.png")


def test_estimate_ann_energy_counts_binary_inputs_as_mac():
    from spiking.energy import estimate_ann_energy

    x = torch.tensor([[1.0, 0, 0, 1]])
    r = estimate_ann_energy(nn.Linear(4, 2), x)
    assert (r.mac, r.ac) == (8, 0)
    assert estimate_energy(nn.Linear(4, 2), x).mac == 0
    with pytest.raises(TypeError, match="estimate_ann_energy: model must be an nn.Module"):
        estimate_ann_energy(None, x)
