"""Hand-computed counts for every counted operation on tiny networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cuda_ext
from cuda_ext.lif import lif_multistep
from sampling import Graph
from spiking.energy import estimate_energy

E_MAC, E_AC = 4.6, 0.9


def _row(report, op, name=None):
    rows = [r for r in report.layers if r.op == op and (name is None or r.name == name)]
    assert len(rows) == 1, [(r.name, r.op) for r in report.layers]
    return rows[0]


# ---------------------------------------------------------------- linear
def test_linear_binary_input_counts_ac():
    lin = nn.Linear(4, 3)
    x = torch.tensor([[1.0, 0, 0, 1], [0, 0, 1, 0]])  # nnz 3 of 8
    for mode in ("rate", "exact"):
        r = estimate_energy(lin, x, ac_count=mode)
        row = _row(r, "linear")
        assert row.flops == 2 * 4 * 3
        assert row.input_rate == pytest.approx(3 / 8)
        # rate: 3/8 * 24 = 9; exact: 3 spikes x 3 outputs = 9
        assert row.ac == pytest.approx(9) and row.mac == 0
        assert r.energy_pJ == pytest.approx(9 * E_AC)


def test_linear_real_input_counts_mac():
    lin = nn.Linear(4, 3)
    r = estimate_energy(lin, torch.full((2, 4), 0.5))
    row = _row(r, "linear")
    assert (row.mac, row.ac, row.input_rate) == (24, 0, None)
    assert r.energy_mJ == pytest.approx(24 * E_MAC * 1e-9)


def test_linear_on_time_major_input_folds_time():
    lin = nn.Linear(4, 3, bias=False)
    x = torch.zeros(5, 2, 4)
    x[0, 0, 0] = x[4, 1, 3] = 1.0  # [T=5, B=2, 4], 2 spikes
    r = estimate_energy(lin, x)
    row = _row(r, "linear")
    assert row.flops == 5 * 2 * 4 * 3 and row.ac == pytest.approx(2 * 3)


# ---------------------------------------------------------------- conv
def test_conv1d_rate_vs_exact_no_padding():
    conv = nn.Conv1d(1, 2, 3, bias=False)
    x = torch.tensor([[[1.0, 0, 0, 0, 1]]])  # length 5 -> 3 outputs
    rate = estimate_energy(conv, x, ac_count="rate")
    exact = estimate_energy(conv, x, ac_count="exact")
    # FLOPs = 3 positions x 2 channels x 3 taps = 18; rate 2/5 -> 7.2
    assert _row(rate, "conv").flops == 18
    assert _row(rate, "conv").ac == pytest.approx(7.2)
    # each border spike reaches one output position x 2 channels -> 4 weight uses
    assert _row(exact, "conv").ac == pytest.approx(4)


def test_conv1d_exact_with_padding():
    conv = nn.Conv1d(1, 2, 3, padding=1, bias=False)
    x = torch.tensor([[[1.0, 0, 0, 0, 1]]])
    r = estimate_energy(conv, x, ac_count="exact")
    # 5 outputs x 2 ch x 3 = 30 FLOPs; x[0] reaches outputs 0,1 and x[4] outputs 3,4 -> 4 x 2 channels
    assert _row(r, "conv").flops == 30 and _row(r, "conv").ac == pytest.approx(8)


def test_conv2d_real_input_macs_and_grouped():
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    x = torch.rand(2, 4, 8, 8) + 0.1
    r = estimate_energy(conv, x)
    # out 2 x 6 x 4 x 4; each output sums (4/2) x 3 x 3 products
    assert _row(r, "conv").mac == 2 * 6 * 4 * 4 * 2 * 9


def test_conv_transpose_counts_input_side():
    conv = nn.ConvTranspose2d(2, 3, 2, stride=2, bias=False)
    x = torch.zeros(1, 2, 3, 3)
    x[0, 0, 1, 1] = 1.0
    r = estimate_energy(conv, x, ac_count="exact")
    row = _row(r, "conv")
    assert row.flops == 2 * 9 * 3 * 4  # every input element feeds C_out x k x k outputs
    assert row.ac == pytest.approx(3 * 4)


# ---------------------------------------------------------------- attention
class TinySpikingAttention(nn.Module):
    """STAtten-style linear attention with spikes: A = K^T V (spike x spike), out = Q A (spike x real)."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(2, 2, bias=False)

    def forward(self, q, k, v):
        a = k.transpose(-2, -1) @ v  # [B, d, d]
        out = q @ a  # [B, N, d]
        return self.proj(out)


def test_attention_block_spike_spike_and_spike_real():
    q = torch.tensor([[[1.0, 0], [0, 1], [1, 1]]])  # [B=1, N=3, d=2], 4 spikes
    k = torch.tensor([[[1.0, 0], [1, 1], [0, 0]]])  # 3 spikes
    v = torch.tensor([[[0.0, 1], [1, 1], [1, 0]]])  # 4 spikes
    model = TinySpikingAttention()
    exact = estimate_energy(model, (q, k, v), ac_count="exact")
    rate = estimate_energy(model, (q, k, v), ac_count="rate")
    mm_exact = [r for r in exact.layers if r.op == "matmul"]
    mm_rate = [r for r in rate.layers if r.op == "matmul"]
    # one row per (module, op): both products sit in the root module's forward
    assert len(mm_exact) == 1 and mm_exact[0].calls == 2
    # K^T V: FLOPs 2*3*2 = 12; products with both factors 1 = sum(K^T V) = sum([[1,2],[1,1]]) = 5
    # Q A (A = [[1,2],[1,1]] is not binary): FLOPs 12; 4 spikes x 2 outputs = 8
    assert mm_exact[0].flops == 24
    assert mm_exact[0].ac == pytest.approx(5 + 8)
    # rate: r_k r_v 12 = 0.5 * (4/6) * 12 = 4; then (4/6) * 12 = 8
    assert mm_rate[0].ac == pytest.approx(4 + 8)
    # the projection sees real values: 3 x 2 x 2 MACs
    assert _row(exact, "linear").mac == 12
    assert exact.energy_pJ == pytest.approx(13 * E_AC + 12 * E_MAC)


def test_real_by_real_matmul_is_mac():
    class M(nn.Module):
        def forward(self, a, b):
            return torch.einsum("bij,bjk->bik", a, b)

    r = estimate_energy(M(), (torch.rand(2, 3, 4) + 2, torch.rand(2, 4, 5) + 2))
    assert r.mac == 2 * 3 * 4 * 5 and r.ac == 0


# ---------------------------------------------------------------- spmm
class Aggregate(nn.Module):
    def __init__(self, graph):
        super().__init__()
        self.graph = graph

    def forward(self, x):
        return cuda_ext.spmm(self.graph, x)


def _graph(weight=None):
    # rows (destinations): 0 <- {1, 2}, 1 <- {0}, 2 <- {0}; column degrees 2, 1, 1
    indptr = torch.tensor([0, 2, 3, 4])
    indices = torch.tensor([1, 2, 0, 0])
    return Graph(indptr, indices, weight=weight)


def test_spmm_binary_features_counts_ac():
    x = torch.tensor([[1.0, 1], [0, 0], [1, 0]])  # nnz per row 2, 0, 1
    g = _graph(torch.rand(4) + 0.5)
    exact = estimate_energy(Aggregate(g), x, ac_count="exact")
    rate = estimate_energy(Aggregate(g), x, ac_count="rate")
    row = _row(exact, "spmm")
    assert row.flops == 4 * 2  # nnz x F
    assert row.ac == pytest.approx(2 * 2 + 1 * 0 + 1 * 1)  # col degree . nnz per row
    assert _row(rate, "spmm").ac == pytest.approx(3 / 6 * 8)


def test_spmm_real_features_weighted_is_mac_unweighted_is_ac():
    x = torch.rand(3, 5) + 0.5
    weighted = estimate_energy(Aggregate(_graph(torch.rand(4))), x)
    assert (_row(weighted, "spmm").mac, _row(weighted, "spmm").ac) == (20, 0)
    plain = estimate_energy(Aggregate(_graph()), x)  # sums only: additions
    assert (_row(plain, "spmm").mac, _row(plain, "spmm").ac) == (0, 20)


def test_spmm_memory_term_counts_graph_structure():
    x = torch.rand(3, 5) + 0.5
    w = torch.rand(4)
    r = estimate_energy(Aggregate(_graph(w)), x, memory=True)
    bits = (4 + 4) * 64 + 4 * 32  # indptr + indices int64, weight fp32
    assert _row(r, "spmm").memory_bits == bits
    assert r.memory_mJ == pytest.approx(bits * 3.12e-9)


# ---------------------------------------------------------------- pooling, BN
def test_avg_pool_and_adaptive_pool_are_additions():
    r = estimate_energy(nn.AvgPool2d(2), torch.rand(1, 2, 4, 4))
    assert _row(r, "pool").ac == 2 * 4 * 3  # 8 outputs x (4 - 1) additions
    r = estimate_energy(nn.AdaptiveAvgPool2d(1), torch.rand(1, 2, 4, 4))
    assert _row(r, "pool").ac == 2 * 16 - 2


def test_batch_norm_fold_or_count():
    bn = nn.BatchNorm2d(3)
    x = torch.rand(2, 3, 4, 4)
    assert estimate_energy(bn, x).energy_pJ == 0
    r = estimate_energy(bn, x, bn="count")
    assert _row(r, "bn").mac == 2 * 3 * 16


# ---------------------------------------------------------------- event-driven scatter, functional LIF
def test_index_add_scatter_counts_one_addition_per_source_element():
    class EventSynapse(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.rand(6, 3))

        def forward(self, rows, cols):  # spike coordinates -> currents [4, 3]
            return self.w.new_zeros(4, 3).index_add(0, rows, self.w.index_select(0, cols))

    r = estimate_energy(EventSynapse(), (torch.tensor([0, 2, 2, 3, 1]), torch.tensor([5, 0, 1, 1, 4])))
    row = _row(r, "scatter")
    assert (row.ac, row.mac) == (5 * 3, 0)


def test_functional_lif_op_counted_as_neuron_row():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4, bias=False)

        def forward(self, x):  # [T, B, 3]
            return lif_multistep(self.fc(x), params=cuda_ext.LIFParams(tau=2.0, v_threshold=0.1))[0]

    model = Functional()
    x = torch.rand(5, 2, 3)
    spikes = model(x)
    r = estimate_energy(model, x)
    row = _row(r, "neuron")
    assert row.name == "(root)" and row.spikes == spikes.sum() and row.outputs == 5 * 2 * 4
    assert row.flops == 5 * 2 * 4  # state updates


def test_first_layer_is_one_op_kind_of_one_module():
    class TwoOps(nn.Module):
        def forward(self, x, w):
            return (x @ w) @ w.t()  # mm then mm: one row; a bmm would be a second op kind

    r = estimate_energy(TwoOps(), (torch.rand(2, 3) + 1, torch.rand(3, 3) + 1))
    assert sum(row.first_layer for row in r.layers) == 1


def test_mv_and_dot():
    class Vec2(nn.Module):
        def forward(self, a, v):
            y = a @ v  # [3]
            return y @ y  # dot

    r = estimate_energy(Vec2(), (torch.rand(3, 4) + 1, torch.tensor([1.0, 0, 0, 1])))
    rows = [row for row in r.layers if row.op == "matmul"]
    # mv with a spike vector on the right: 2 spikes x 3 outputs = 6 AC of 12 FLOPs; dot of reals: 3 MAC
    assert rows[0].flops == 12 + 3 and rows[0].ac == pytest.approx(6) and rows[0].mac == 3


def test_fused_attention_kernels():
    class SDPA(nn.Module):
        def forward(self, q, k, v):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v)

    q = torch.rand(1, 2, 3, 4) + 1  # [B, H, L, E]
    r = estimate_energy(SDPA(), (q, q, q))
    assert (r.mac, r.ac) == (2 * 3 * 3 * 4 * 2, 0)  # Q K^T and P V, 72 MACs each
    v = torch.zeros(1, 2, 3, 4)
    v[0, 0, 0, 0] = v[0, 1, 2, 3] = 1.0  # 2 value spikes, each used by L = 3 rows
    r = estimate_energy(SDPA(), (q, q, v))
    assert (r.mac, r.ac) == (72, 2 * 3)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.rand(2, 5, 8)
    r = estimate_energy(mha, (x, x, x))
    # projections q, k, v, out: 4 x (2 * 5) x 8 x 8; products: 2 x B x L x S x E
    assert _row(r, "linear").mac == 4 * 10 * 64 and _row(r, "matmul").mac == 2 * 2 * 5 * 5 * 8
