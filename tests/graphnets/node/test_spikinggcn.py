"""SpikingGCN: features vs dense powers, LIF multi-step == single steps (and the official
spikingjelly-0.0.0.0.4 equations), sparse == dense current, equivariance, training, bad inputs.
(The encoders themselves are tested in tests/spiking/test_encoding.py.)"""

import pytest
import torch

from graphnets.node import make_sbm, spikinggcn_preset
from graphnets.node.spikinggcn import SpikingGCN, symmetrize
from graphnets.node.train_spikinggcn import train_spikinggcn
from sampling import Graph
from spiking.encoding import sparse_bernoulli_encode
from spiking.neurons import LIF
from tests.equivariance import assert_node_equivariant


def _graph(n=10, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, 25), generator=gen)
    return Graph.from_edge_index(ei, num_nodes=n)  # directed on purpose: features() symmetrises


def test_features_are_a_hat_squared_x_on_the_symmetrised_graph():
    g = _graph()
    x = torch.rand(10, 4, dtype=torch.float64)
    a = g.to_dense().double()
    a = ((a + a.T) > 0).double()
    a.fill_diagonal_(0)
    a = a + torch.eye(10, dtype=torch.float64)
    d = a.sum(1).pow(-0.5)
    a_hat = d[:, None] * a * d[None, :]
    torch.testing.assert_close(SpikingGCN.features(g, x, hops=2, offset=0.05), a_hat @ a_hat @ x + 0.05)
    assert symmetrize(g).is_symmetric()


def _official_lif_loop(x_seq, tau, v_th):
    """spikingjelly 0.0.0.0.4 LIFNode(v_reset=None) step by step: v += (x - v) / tau; fire; v -= s * v_th."""
    v = torch.zeros_like(x_seq[0])
    out = []
    for x in x_seq:
        v = v + (x - v) / tau
        s = (v - v_th >= 0).to(x.dtype)
        out.append(s)
        v = v - s * v_th
    return torch.stack(out)


def test_multistep_neuron_equals_loop_of_single_steps_and_official_equations():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(50, 6, 7, generator=gen, dtype=torch.float64) * 0.6
    model = SpikingGCN(5, 7, T=50, tau=8.0, v_threshold=0.2).double()
    assert isinstance(model.lif, LIF) and model.lif.v_reset is None and model.lif.alpha == 1.0
    multi = model.neurons(x)
    single = LIF(tau=8.0, v_threshold=0.2, v_reset=None, alpha=1.0)
    steps = torch.stack([single(x[t]) for t in range(50)])
    assert torch.equal(multi, steps)
    assert torch.equal(multi, _official_lif_loop(x, 8.0, 0.2))
    assert torch.equal(model.neurons(x), multi)  # the state is reset before every batch
    assert 0 < float(multi.mean()) < 1  # the check is not vacuous


def test_forward_sparse_equals_dense_with_the_same_spikes_and_shapes():
    gen = torch.Generator().manual_seed(0)
    model = SpikingGCN(30, 4, T=25, tau=5.0, v_threshold=0.1)
    h = torch.rand(6, 30, generator=gen) * 0.5
    spikes = sparse_bernoulli_encode(h, 25, generator=gen)
    torch.testing.assert_close(model.current(spikes), model.current(spikes.to_dense()))
    torch.testing.assert_close(model.current(spikes.to_csr()), model.current(spikes.to_dense()))
    out = model(h, torch.Generator().manual_seed(3))
    assert out.shape == (25, 6, 4)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    spikes_in = model.input_spikes(h, torch.Generator().manual_seed(3))
    assert torch.equal(model.run(spikes_in), out) and torch.equal(model(h, torch.Generator().manual_seed(3)), out)
    assert "T=25" in repr(model) and "bias=False" in repr(model) and "(lif): LIF(\n    tau=5.0" in repr(model)


def test_permutation_equivariance_with_common_random_numbers():
    g = _graph(12)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(12, 8, generator=gen, dtype=torch.float64)
    u = torch.rand(30, 12, 8, generator=gen, dtype=torch.float64)  # [T, N, F]: node dim 1
    model = SpikingGCN(8, 3, T=30, tau=4.0, v_threshold=0.3).double()
    with torch.no_grad():
        model.fc.weight.abs_()  # make the neurons fire so the check is not vacuous

    def fn(inputs, graph):
        feats, noise = inputs
        return model(SpikingGCN.features(graph, feats), uniform=noise)  # [T, N, C]

    assert float(fn((x, u), g).detach().mean()) > 0
    assert_node_equivariant(fn, (x, u), g, node_dims=(0, 1), out_node_dims=1, generator=gen)


def test_bad_inputs():
    model = SpikingGCN(8, 3, T=5)
    with pytest.raises(ValueError, match=r"in_channels=8 features \(got 7\)"):
        model(torch.rand(4, 7))
    with pytest.raises(TypeError, match="2-D floating"):
        model(torch.rand(4, 8, 2))
    with pytest.raises(ValueError, match="T must be"):
        SpikingGCN(8, 3, T=0)
    with pytest.raises(ValueError, match="10 x 10"):
        SpikingGCN.features(_graph(12), torch.rand(10, 4))
    with pytest.raises(ValueError, match="uniform must have shape"):
        model(torch.rand(4, 8), uniform=torch.rand(4, 4, 8))
    with pytest.raises(ValueError, match="tau must be > 1"):
        SpikingGCN(8, 3, tau=1.0)


def test_training_on_sbm_learns_and_reports_spikes():
    data = make_sbm(torch.Generator().manual_seed(0))
    cfg = spikinggcn_preset("sbm", epochs=12)
    res = train_spikinggcn(data, data.split, cfg, torch.Generator().manual_seed(0))
    assert res.test_acc > 0.4  # chance 0.25
    assert len(res.extra["input_spikes"]) == data.split.test.numel()
    assert res.extra["input_spikes_per_node"] > 0 and res.extra["output_spikes_per_node"] > 0
    assert res.best_epoch >= 1 and len(res.history) == 12
    bad = data.__class__(**{**data.__dict__, "y": data.y - 1})
    with pytest.raises(ValueError, match="labels must lie in"):
        train_spikinggcn(bad, data.split, cfg, torch.Generator())


def test_current_dropout_only_in_training_and_drawn_from_the_generator():
    model = SpikingGCN(6, 3, T=30, tau=4.0, v_threshold=0.3, dropout=0.6)
    spikes = torch.ones(30, 5, 6)
    with torch.no_grad():
        model.fc.weight.fill_(0.1)
    model.eval()
    assert torch.equal(model.run(spikes), model.neurons(model.current(spikes)))
    model.train()
    a = model.run(spikes, torch.Generator().manual_seed(0))
    b = model.run(spikes, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and not torch.equal(a, model.neurons(model.current(spikes)))
    with pytest.raises(ValueError, match="dropout"):
        SpikingGCN(6, 3, dropout=1.0)


def test_cora_preset_is_the_official_notebook_run():
    cfg = spikinggcn_preset("cora")
    assert (cfg.T, cfg.tau, cfg.v_threshold, cfg.lr, cfg.epochs, cfg.batch_size) == (200, 80.0, 0.2, 2e-3, 200, 64)
    assert cfg.feature_offset == 0.05 and cfg.dropout == 0.6 and cfg.weight_decay == 0.0
    assert spikinggcn_preset("citeseer").weight_decay == 0.01


def test_docstring_on_the_class_and_hyperparameters_from_the_neuron():
    assert "Spiking Graph Convolutional Networks" in SpikingGCN.__doc__
    model = SpikingGCN(4, 2, T=3, tau=10.0, v_threshold=0.3, surrogate_alpha=2.0)
    assert (model.tau, model.v_threshold, model.surrogate_alpha) == (10.0, 0.3, 2.0)
    model.lif.v_threshold = 0.5  # one neuron core: the model reads its neuron's hyperparameters
    assert model.v_threshold == 0.5 and "v_threshold=0.5" in model.extra_repr()
    assert list(model.state_dict()) == ["fc.weight"]  # checkpoints unchanged by the neuron module
