"""cuda_ext.lif_multistep on CPU: hand tables, spikingjelly parity, reference parity, gradcheck, opcheck."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from cuda_ext.lif import lif_multistep, lif_multistep_reference
from cuda_ext.surrogate import surrogate_grad

sj_neuron = pytest.importorskip("spikingjelly.activation_based.neuron")
sj_surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")

OPTIONS = list(itertools.product([True, False], [0.0, None, -0.25], [False, True], ["sigmoid", "atan"]))


def _inputs(T: int, N: int, dtype=torch.float32, seed: int = 0, scale: float = 1.5) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(T, N, generator=g, dtype=torch.float64) * scale + 0.6).to(dtype)


# ----------------------------------------------------------------------------- hand tables
def test_hand_table_hard_reset_decay_input():
    # tau=2, V_r=0: H0 = 0.5/2 = 0.25; H1 = 0.25 + (1.5-0.25)/2 = 0.875; H2 = 0.875 + (2-0.875)/2 = 1.4375 -> spike, V=0
    x = torch.tensor([[0.5], [1.5], [2.0]])
    s, v = lif_multistep(x, tau=2.0, return_v=True)
    torch.testing.assert_close(s, torch.tensor([[0.0], [0.0], [1.0]]))
    torch.testing.assert_close(v, torch.tensor([[0.25], [0.875], [0.0]]))


def test_hand_table_no_decay_input():
    # H0 = 0.8 -> V 0.8; H1 = 0.8 - 0.8/2 + 0.8 = 1.2 -> spike, V = 0
    x = torch.tensor([[0.8], [0.8]])
    s, v = lif_multistep(x, tau=2.0, decay_input=False, return_v=True)
    torch.testing.assert_close(s, torch.tensor([[0.0], [1.0]]))
    torch.testing.assert_close(v, torch.tensor([[0.8], [0.0]]))


def test_hand_table_if_soft_reset():
    # tau = inf: H = V + X. Soft reset subtracts the threshold: 1.2 -> 0.2, 1.4 -> 0.4, 0.4 stays.
    x = torch.tensor([[1.2], [1.2], [0.0]], dtype=torch.float64)
    s, v = lif_multistep(x, tau=math.inf, v_reset=None, return_v=True)
    torch.testing.assert_close(s, torch.tensor([[1.0], [1.0], [0.0]], dtype=torch.float64))
    torch.testing.assert_close(v, torch.tensor([[0.2], [0.4], [0.4]], dtype=torch.float64))


def test_hand_gradient_sigmoid():
    # T=1, x=1, tau=2: H = 0.5, dS/dH = 4 sigma(-2)(1 - sigma(-2)), dH/dx = 1/2
    x = torch.tensor([[1.0]], dtype=torch.float64, requires_grad=True)
    lif_multistep(x, tau=2.0, surrogate="sigmoid", alpha=4.0).sum().backward()
    sig = 1 / (1 + math.exp(2.0))
    assert x.grad.item() == pytest.approx(0.5 * 4 * sig * (1 - sig), rel=1e-12)


def test_hand_gradient_atan():
    # dS/dH = (alpha/2) / (1 + (pi/2 alpha (H - 1))^2) with alpha=2, H=0.5
    x = torch.tensor([[1.0]], dtype=torch.float64, requires_grad=True)
    lif_multistep(x, tau=2.0, surrogate="atan", alpha=2.0).sum().backward()
    assert x.grad.item() == pytest.approx(0.5 * 1.0 / (1 + (math.pi / 2 * 2.0 * 0.5) ** 2), rel=1e-12)


@pytest.mark.parametrize("name,primitive", [
    ("sigmoid", lambda x, a: torch.sigmoid(a * x)),
    ("atan", lambda x, a: torch.atan(math.pi / 2 * a * x) / math.pi + 0.5),
])
def test_surrogate_is_derivative_of_primitive(name, primitive):
    x = torch.linspace(-2, 2, 41, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(primitive(x, 3.0).sum(), x)
    torch.testing.assert_close(surrogate_grad(x.detach(), 3.0, name), grad)


# ----------------------------------------------------------------------------- spikingjelly parity
@pytest.mark.parametrize("decay_input,v_reset,detach_reset,surrogate", OPTIONS)
def test_parity_with_spikingjelly_lifnode(decay_input, v_reset, detach_reset, surrogate):
    x = _inputs(8, 67).requires_grad_()
    fn = sj_surrogate.Sigmoid(alpha=3.0) if surrogate == "sigmoid" else sj_surrogate.ATan(alpha=3.0)
    node = sj_neuron.LIFNode(tau=2.5, decay_input=decay_input, v_reset=v_reset, surrogate_function=fn,
                             detach_reset=detach_reset, step_mode="m", store_v_seq=True)
    g = torch.randn(8, 67)
    s_ref = node(x)
    (gx_ref,) = torch.autograd.grad((s_ref * g).sum(), x)
    s, v = lif_multistep(x, tau=2.5, decay_input=decay_input, v_reset=v_reset, detach_reset=detach_reset,
                         surrogate=surrogate, alpha=3.0, return_v=True)
    (gx,) = torch.autograd.grad((s * g).sum(), x)
    assert 0.05 < s.mean().item() < 0.8  # the inputs exercise both spiking and silent steps
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, node.v_seq, rtol=0, atol=0)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("v_reset", [0.0, None])
def test_parity_with_spikingjelly_ifnode(v_reset):
    x = _inputs(6, 50, scale=0.8).requires_grad_()
    node = sj_neuron.IFNode(v_reset=v_reset, step_mode="m")
    s_ref = node(x)
    (gx_ref,) = torch.autograd.grad(s_ref.sum(), x)
    s = lif_multistep(x, tau=math.inf, v_reset=v_reset)
    (gx,) = torch.autograd.grad(s.sum(), x)
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("decay_input", [True, False])
def test_parity_with_spikingjelly_parametric_lif(decay_input):
    x = _inputs(8, 40, dtype=torch.float64).requires_grad_()
    node = sj_neuron.ParametricLIFNode(init_tau=2.0, decay_input=decay_input, step_mode="m").double()
    s_ref = node(x)
    gx_ref, gw_ref = torch.autograd.grad(s_ref.sum(), (x, node.w))
    w = node.w.detach().clone().requires_grad_()
    s = lif_multistep(x, tau=1.0 / w.sigmoid(), decay_input=decay_input)
    gx, gw = torch.autograd.grad(s.sum(), (x, w))
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(gx, gx_ref)
    torch.testing.assert_close(gw, gw_ref)


# ----------------------------------------------------------------------------- op vs reference
@pytest.mark.parametrize("decay_input,v_reset,detach_reset,surrogate", OPTIONS)
def test_op_matches_reference_all_grads(decay_input, v_reset, detach_reset, surrogate):
    x = _inputs(5, 33, dtype=torch.float64).requires_grad_()
    v0 = (torch.rand(33, dtype=torch.float64) * 0.5).requires_grad_()
    tau = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    kw = dict(tau=tau, v_reset=v_reset, decay_input=decay_input, detach_reset=detach_reset,
              surrogate=surrogate, alpha=2.5)
    gs, gv = torch.randn(5, 33, dtype=torch.float64), torch.randn(5, 33, dtype=torch.float64)
    s, v = lif_multistep(x, v0, return_v=True, **kw)
    got = torch.autograd.grad((s * gs).sum() + (v * gv).sum(), (x, v0, tau))
    s_ref, v_ref = lif_multistep_reference(x, v0, **kw)
    want = torch.autograd.grad((s_ref * gs).sum() + (v_ref * gv).sum(), (x, v0, tau))
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, v_ref)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("T,N", [(1, 1), (1, 113), (4, 1023), (3, 1)])
def test_sizes(T, N):
    x = _inputs(T, N).requires_grad_()
    s = lif_multistep(x, detach_reset=True)
    (gx,) = torch.autograd.grad(s.sum(), x)
    s_ref = lif_multistep_reference(x, detach_reset=True)[0]
    (gx_ref,) = torch.autograd.grad(s_ref.sum(), x)
    assert s.shape == (T, N)
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(gx, gx_ref)


def test_multidim_and_noncontiguous_input():
    base = _inputs(6, 2 * 5 * 7).reshape(6, 2, 5, 7)
    x = base.transpose(1, 3)  # [T, 7, 5, 2], non-contiguous
    assert not x.is_contiguous()
    x.requires_grad_()
    s, v = lif_multistep(x, v_reset=None, return_v=True)
    s_ref, v_ref = lif_multistep_reference(x.contiguous(), v_reset=None)
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, v_ref)
    (gx,) = torch.autograd.grad(s.sum(), x)
    assert gx.shape == x.shape


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_dtypes_follow_input_and_compute_in_float32(dtype):
    x32 = _inputs(6, 64)
    x = x32.to(dtype).requires_grad_()
    s, v = lif_multistep(x, return_v=True)
    assert s.dtype == dtype and v.dtype == dtype
    s_ref, v_ref = lif_multistep_reference(x.detach().float())
    torch.testing.assert_close(s.float(), s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v.float(), v_ref, rtol=1e-2, atol=1e-2)
    (gx,) = torch.autograd.grad(s.float().sum(), x)
    assert gx.dtype == dtype


def test_multistep_equals_loop_of_single_steps():
    x = _inputs(7, 29, dtype=torch.float64).requires_grad_()
    tau = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)
    kw = dict(tau=tau, v_reset=None, decay_input=False, surrogate="atan", alpha=2.0)
    s_all, v_all = lif_multistep(x, return_v=True, **kw)
    loss_all = (s_all * torch.arange(7.0, dtype=torch.float64)[:, None]).sum() + v_all.sum()
    g_all = torch.autograd.grad(loss_all, (x, tau))
    v, spikes, volts = None, [], []
    for t in range(7):
        s_t, v_t = lif_multistep(x[t:t + 1], v, return_v=True, **kw)
        v = v_t[-1]
        spikes.append(s_t)
        volts.append(v_t)
    s_loop, v_loop = torch.cat(spikes), torch.cat(volts)
    loss_loop = (s_loop * torch.arange(7.0, dtype=torch.float64)[:, None]).sum() + v_loop.sum()
    g_loop = torch.autograd.grad(loss_loop, (x, tau))
    torch.testing.assert_close(s_all, s_loop, rtol=0, atol=0)
    torch.testing.assert_close(v_all, v_loop)
    for a, b in zip(g_all, g_loop):
        torch.testing.assert_close(a, b)


def test_v_init_default_is_reset_potential():
    x = _inputs(3, 10)
    s_default = lif_multistep(x, v_reset=-0.3)
    s_explicit = lif_multistep(x, torch.full((10,), -0.3), v_reset=-0.3)
    torch.testing.assert_close(s_default, s_explicit, rtol=0, atol=0)


def test_inference_stores_nothing_for_backward():
    x = _inputs(4, 10)
    spikes, h_seq = torch.ops.graphspike.lif_multistep(
        x, torch.zeros(10), torch.tensor(2.0), 1.0, 0.0, True, False, "sigmoid", 4.0, False, "torch")
    assert h_seq.numel() == 0
    torch.testing.assert_close(spikes, lif_multistep(x), rtol=0, atol=0)


# ----------------------------------------------------------------------------- gradcheck / opcheck
@pytest.mark.parametrize("decay_input,v_reset", [(True, 0.0), (False, 0.0), (True, None), (False, None)])
def test_gradcheck_membrane_path(decay_input, v_reset):
    # With detach_reset the membrane sequence is piecewise smooth in (x, v_init, tau), so finite
    # differences check the analytic backward (inputs keep H away from the threshold).
    x = _inputs(4, 6, dtype=torch.float64).requires_grad_()
    v0 = (torch.rand(6, dtype=torch.float64) * 0.3).requires_grad_()
    tau = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)

    def f(x, v0, tau):
        return lif_multistep(x, v0, tau=tau, v_reset=v_reset, decay_input=decay_input, detach_reset=True,
                             return_v=True)[1]

    assert torch.autograd.gradcheck(f, (x, v0, tau), eps=1e-6, atol=1e-6)


def _op_args(requires_grad: bool, store_h: bool = True):
    x = _inputs(4, 9, dtype=torch.float64).requires_grad_(requires_grad)
    v0 = torch.zeros(9, dtype=torch.float64).requires_grad_(requires_grad)
    tau = torch.tensor(2.0, dtype=torch.float64).requires_grad_(requires_grad)
    return (x, v0, tau, 1.0, 0.0, True, False, "sigmoid", 4.0, store_h, "torch")


@pytest.mark.parametrize("requires_grad", [False, True])
def test_opcheck_forward(requires_grad):
    torch.library.opcheck(torch.ops.graphspike.lif_multistep.default, _op_args(requires_grad))


def test_opcheck_backward():
    h = _inputs(4, 9, dtype=torch.float64)
    args = (torch.randn(4, 9, dtype=torch.float64), torch.randn(4, 9, dtype=torch.float64), h,
            torch.zeros(9, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64), 1.0, None, False, True,
            "atan", 2.0, True, "torch")
    torch.library.opcheck(torch.ops.graphspike.lif_multistep_backward.default, args)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,err,match", [
    (dict(tau=0.5), ValueError, "tau"),
    (dict(tau="2"), ValueError, "tau"),
    (dict(tau=torch.ones(2)), TypeError, "0-dim"),
    (dict(surrogate="relu"), ValueError, "surrogate"),
    (dict(alpha=-1.0), ValueError, "alpha"),
    (dict(v_threshold=None), TypeError, "v_threshold"),
    (dict(v_reset=float("nan")), TypeError, "v_reset"),
    (dict(backend="triton"), ValueError, "backend"),
    (dict(backend="cuda"), ValueError, "CUDA tensors"),
])
def test_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        lif_multistep(torch.zeros(2, 3), **kwargs)


def test_bad_tensors():
    with pytest.raises(TypeError, match="x_seq"):
        lif_multistep(torch.zeros(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="T >= 1"):
        lif_multistep(torch.zeros(0, 3))
    with pytest.raises(ValueError, match="v_init"):
        lif_multistep(torch.zeros(2, 3), torch.zeros(4))
    with pytest.raises(TypeError, match="v_init"):
        lif_multistep(torch.zeros(2, 3), torch.zeros(3, dtype=torch.float64))


def test_torch_compile_fullgraph_forward_and_backward():
    from cuda_ext._backend import extension_status

    extension_status()  # resolve the (cached) extension load outside the compiled region

    def f(x, tau):
        s, v = lif_multistep(x, tau=tau, v_reset=None, return_v=True)
        return (s * 2).sum() + v.sum()

    x = _inputs(4, 10).requires_grad_()
    tau = torch.tensor(2.0, requires_grad=True)
    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    got = torch.autograd.grad(compiled(x, tau), (x, tau))
    want = torch.autograd.grad(f(x, tau), (x, tau))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)
