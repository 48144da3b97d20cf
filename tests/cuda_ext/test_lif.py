"""cuda_ext.lif_multistep / lif_multistep_sequence: hand tables, spikingjelly parity, the reference,
gradients (gradcheck, gradgradcheck), opcheck, memory, bad input -- on CPU and, marked ``cuda``, on the
CUDA kernel (the same tests, parametrised by device)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from cuda_ext._backend import extension_status
from cuda_ext.lif import lif_multistep, lif_multistep_sequence
from cuda_ext.neuron import LIFParams, lif_multistep_reference

OPTIONS = list(itertools.product([True, False], [0.0, None, -0.25], [False, True], ["sigmoid", "atan"]))


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request) -> torch.device:
    if request.param == "cuda":
        available, reason = extension_status()
        if not available:  # a GPU without the kernel is a failure, not a skip
            pytest.fail(f"a CUDA GPU is visible but the compiled extension is unavailable: {reason}")
    return torch.device(request.param)


@pytest.fixture
def kernel() -> torch.device:
    """The CUDA device for kernel-only tests (marked ``cuda``); fails when the extension is missing."""
    available, reason = extension_status()
    if not available:
        pytest.fail(f"a CUDA GPU is visible but the compiled extension is unavailable: {reason}")
    return torch.device("cuda")


@pytest.fixture
def sj():
    """spikingjelly's neuron and surrogate modules, for the parity tests only."""
    neuron = pytest.importorskip("spikingjelly.activation_based.neuron")
    surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")
    return neuron, surrogate


def _backend(device: torch.device) -> str:
    return "cuda" if device.type == "cuda" else "torch"


def _inputs(T: int, N: int, dtype=torch.float32, seed: int = 0, scale: float = 1.5, device="cpu") -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(T, N, generator=g, dtype=torch.float64) * scale + 0.6).to(dtype).to(device)


def _tol(dtype):
    return {
        torch.float64: (1e-10, 1e-10),
        torch.float32: (1e-5, 1e-5),
        torch.float16: (2e-3, 2e-3),
        torch.bfloat16: (1.6e-2, 1.6e-2),
    }[dtype]


# ----------------------------------------------------------------------------- hand tables
def test_hand_table_hard_reset_decay_input(device):
    # tau=2, V_r=0: H0 = 0.5/2 = 0.25; H1 = 0.25 + (1.5-0.25)/2 = 0.875; H2 = 0.875 + (2-0.875)/2 = 1.4375 -> spike, V=0
    x = torch.tensor([[0.5], [1.5], [2.0]], device=device)
    s, v = lif_multistep_sequence(x, params=LIFParams(tau=2.0), backend=_backend(device))
    assert s.flatten().tolist() == [0.0, 0.0, 1.0] and v.flatten().tolist() == [0.25, 0.875, 0.0]
    s2, v_last = lif_multistep(x, params=LIFParams(tau=2.0), backend=_backend(device))
    assert torch.equal(s2, s) and v_last.tolist() == [0.0]


def test_hand_table_no_decay_input(device):
    # H0 = 0.8 -> V 0.8; H1 = 0.8 - 0.8/2 + 0.8 = 1.2 -> spike, V = 0
    x = torch.tensor([[0.8], [0.8]], device=device)
    s, v = lif_multistep_sequence(x, params=LIFParams(tau=2.0, decay_input=False), backend=_backend(device))
    torch.testing.assert_close(s.cpu(), torch.tensor([[0.0], [1.0]]))
    torch.testing.assert_close(v.cpu(), torch.tensor([[0.8], [0.0]]))


def test_hand_table_if_soft_reset(device):
    # tau = inf: H = V + X. Soft reset subtracts the threshold: 1.2 -> 0.2, 1.4 -> 0.4, 0.4 stays.
    x = torch.tensor([[1.2], [1.2], [0.0]], dtype=torch.float64, device=device)
    s, v = lif_multistep_sequence(x, params=LIFParams(tau=math.inf, v_reset=None), backend=_backend(device))
    torch.testing.assert_close(s.cpu(), torch.tensor([[1.0], [1.0], [0.0]], dtype=torch.float64))
    torch.testing.assert_close(v.cpu(), torch.tensor([[0.2], [0.4], [0.4]], dtype=torch.float64))


def test_hand_gradient_sigmoid(device):
    # T=1, x=1, tau=2: H = 0.5, dS/dH = 4 sigma(-2)(1 - sigma(-2)), dH/dx = 1/2
    x = torch.tensor([[1.0]], dtype=torch.float64, device=device, requires_grad=True)
    lif_multistep(x, params=LIFParams(tau=2.0), backend=_backend(device))[0].sum().backward()
    sig = 1 / (1 + math.exp(2.0))
    assert x.grad.item() == pytest.approx(0.5 * 4 * sig * (1 - sig), rel=1e-12)


def test_hand_gradient_atan(device):
    # dS/dH = (alpha/2) / (1 + (pi/2 alpha (H - 1))^2) with alpha=2, H=0.5
    x = torch.tensor([[1.0]], dtype=torch.float64, device=device, requires_grad=True)
    p = LIFParams(tau=2.0, surrogate="atan", alpha=2.0)
    lif_multistep(x, params=p, backend=_backend(device))[0].sum().backward()
    assert x.grad.item() == pytest.approx(0.5 * 1.0 / (1 + (math.pi / 2 * 2.0 * 0.5) ** 2), rel=1e-12)


def test_pinned_gradients_through_spikes_and_v_last():
    # Pins today's values bitwise (float64, atan: IEEE-exact arithmetic on every machine). The
    # gradient of v_last reaches the last spike through the reset, -(g H) then + g V_r: the
    # order the op reproduces so that gradients stayed bitwise what they were before v_last.
    x = torch.tensor(
        [[1.5, 0.25, 2.0], [0.5, 1.75, -1.0], [2.5, 1.0, 0.75], [1.25, 2.0, 0.5]],
        dtype=torch.float64,
        requires_grad=True,
    )
    p = LIFParams(tau=2.0, v_reset=-0.25, v_threshold=0.75, surrogate="atan", alpha=2.0)
    s, v = lif_multistep(x, params=p)
    gx = torch.autograd.grad(
        (s * torch.tensor([[1.0, -2.0, 0.5]] * 4, dtype=torch.float64)).sum()
        + (v * torch.tensor([0.5, 1.5, -1.0], dtype=torch.float64)).sum(),
        x,
    )[0]
    assert s.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert v.tolist() == [0.375, -0.25, 0.0625]
    want = [
        "0x1.7addda31c6180p-2",
        "-0x1.3b0c3ba4d3cf2p-1",
        "0x1.2a06f2b71be45p-2",
        "0x1.d012d7f3d2646p-3",
        "-0x1.02fe462cd8c40p+0",
        "-0x1.503795b8df22ap-4",
        "0x1.7df278a296128p-5",
        "-0x1.00dc323befffcp+0",
        "-0x1.7452144530f5bp-3",
        "0x1.9368b761b6483p-2",
        "-0x1.4656176ac8a32p-1",
        "-0x1.b690d3d885808p-2",
    ]
    assert [v.hex() for v in gx.flatten().tolist()] == want


# ----------------------------------------------------------------------------- spikingjelly parity
@pytest.mark.parametrize("decay_input,v_reset,detach_reset,surrogate", OPTIONS)
def test_parity_with_spikingjelly_lifnode(sj, decay_input, v_reset, detach_reset, surrogate):
    sj_neuron, sj_surrogate = sj
    x = _inputs(8, 67).requires_grad_()
    fn = sj_surrogate.Sigmoid(alpha=3.0) if surrogate == "sigmoid" else sj_surrogate.ATan(alpha=3.0)
    node = sj_neuron.LIFNode(
        tau=2.5,
        decay_input=decay_input,
        v_reset=v_reset,
        surrogate_function=fn,
        detach_reset=detach_reset,
        step_mode="m",
        store_v_seq=True,
    )
    g = torch.randn(8, 67)
    s_ref = node(x)
    (gx_ref,) = torch.autograd.grad((s_ref * g).sum(), x)
    p = LIFParams(
        tau=2.5, decay_input=decay_input, v_reset=v_reset, detach_reset=detach_reset, surrogate=surrogate, alpha=3.0
    )
    s, v = lif_multistep_sequence(x, params=p)
    (gx,) = torch.autograd.grad((s * g).sum(), x)
    s2, v_last = lif_multistep(x, params=p)
    assert 0.05 < s.mean().item() < 0.8  # the inputs exercise both spiking and silent steps
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(s2, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, node.v_seq, rtol=0, atol=0)
    torch.testing.assert_close(v_last, node.v, rtol=0, atol=0)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("v_reset", [0.0, None])
def test_parity_with_spikingjelly_ifnode(sj, v_reset):
    x = _inputs(6, 50, scale=0.8).requires_grad_()
    node = sj[0].IFNode(v_reset=v_reset, step_mode="m")
    s_ref = node(x)
    (gx_ref,) = torch.autograd.grad(s_ref.sum(), x)
    s, v = lif_multistep(x, params=LIFParams(tau=math.inf, v_reset=v_reset))
    (gx,) = torch.autograd.grad(s.sum(), x)
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, node.v, rtol=0, atol=0)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("decay_input", [True, False])
def test_parity_with_spikingjelly_parametric_lif(sj, decay_input):
    x = _inputs(8, 40, dtype=torch.float64).requires_grad_()
    node = sj[0].ParametricLIFNode(init_tau=2.0, decay_input=decay_input, step_mode="m").double()
    s_ref = node(x)
    gx_ref, gw_ref = torch.autograd.grad(s_ref.sum(), (x, node.w))
    w = node.w.detach().clone().requires_grad_()
    s, _ = lif_multistep(x, params=LIFParams(tau=1.0 / w.sigmoid(), decay_input=decay_input))
    gx, gw = torch.autograd.grad(s.sum(), (x, w))
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(gx, gx_ref)
    torch.testing.assert_close(gw, gw_ref)


# ----------------------------------------------------------------------------- op vs reference
@pytest.mark.parametrize("decay_input,v_reset,detach_reset,surrogate", OPTIONS)
def test_op_matches_reference_all_grads(device, decay_input, v_reset, detach_reset, surrogate):
    N = 33 if device.type == "cpu" else 1023
    x = _inputs(5, N, dtype=torch.float64, device=device).requires_grad_()
    v0 = (torch.rand(N, dtype=torch.float64) * 0.5).to(device).requires_grad_()
    tau = torch.tensor(3.0, dtype=torch.float64, device=device, requires_grad=True)
    p = LIFParams(
        tau=tau, v_reset=v_reset, decay_input=decay_input, detach_reset=detach_reset, surrogate=surrogate, alpha=2.5
    )
    gs, gv, gl = (
        torch.randn(5, N, dtype=torch.float64, device=device),
        torch.randn(5, N, dtype=torch.float64, device=device),
        torch.randn(N, dtype=torch.float64, device=device),
    )
    s_ref, v_ref = lif_multistep_reference(x, v0, p)
    want_seq = torch.autograd.grad((s_ref * gs).sum() + (v_ref * gv).sum(), (x, v0, tau))
    s_ref, v_ref = lif_multistep_reference(x, v0, p)
    want_last = torch.autograd.grad((s_ref * gs).sum() + (v_ref[-1] * gl).sum(), (x, v0, tau))
    s, v = lif_multistep_sequence(x, v0, p, backend=_backend(device))
    got_seq = torch.autograd.grad((s * gs).sum() + (v * gv).sum(), (x, v0, tau))
    s2, v_last = lif_multistep(x, v0, p, backend=_backend(device))
    got_last = torch.autograd.grad((s2 * gs).sum() + (v_last * gl).sum(), (x, v0, tau))
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(s2, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, v_ref)
    torch.testing.assert_close(v_last, v_ref[-1])
    for a, b in zip(got_seq + got_last, want_seq + want_last):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("T,N", [(1, 1), (1, 113), (4, 1023), (3, 1)])
def test_sizes(device, T, N):
    x = _inputs(T, N, device=device).requires_grad_()
    p = LIFParams(detach_reset=True)
    s, v = lif_multistep(x, params=p, backend=_backend(device))
    (gx,) = torch.autograd.grad(s.sum(), x)
    x_ref = x.detach().cpu().requires_grad_()
    s_ref, v_ref = lif_multistep_reference(x_ref, None, p)
    (gx_ref,) = torch.autograd.grad(s_ref.sum(), x_ref)
    assert s.shape == (T, N) and v.shape == (N,)
    torch.testing.assert_close(s.cpu(), s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v.cpu(), v_ref[-1])
    torch.testing.assert_close(gx.cpu(), gx_ref)


def test_multidim_and_noncontiguous_input(device):
    base = _inputs(6, 2 * 5 * 7, device=device).reshape(6, 2, 5, 7)
    x = base.transpose(1, 3)  # [T, 7, 5, 2], non-contiguous
    assert not x.is_contiguous()
    x.requires_grad_()
    p = LIFParams(v_reset=None)
    s, v = lif_multistep_sequence(x, params=p, backend=_backend(device))
    s_ref, v_ref = lif_multistep_reference(x.detach().contiguous(), None, p)
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, v_ref)
    (gx,) = torch.autograd.grad(s.sum(), x)
    assert gx.shape == x.shape


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("N", [64, 63])  # even: paired half2 lanes on CUDA; odd: one lane per thread
def test_half_dtypes_follow_input_and_compute_in_float32(device, dtype, N):
    x32 = _inputs(6, N, device=device)
    x = x32.to(dtype).requires_grad_()
    s, v = lif_multistep_sequence(x, backend=_backend(device))
    s2, v_last = lif_multistep(x, backend=_backend(device))
    assert s.dtype == v.dtype == v_last.dtype == dtype
    s_ref, v_ref = lif_multistep_reference(x.detach().float(), None, LIFParams())
    torch.testing.assert_close(s.float(), s_ref, rtol=0, atol=0)
    torch.testing.assert_close(s2, s, rtol=0, atol=0)
    assert torch.equal(v, v_ref.to(dtype)) and torch.equal(v_last, v[-1])  # float32 compute, one rounding
    (gx,) = torch.autograd.grad(s.float().sum(), x)
    assert gx.dtype == dtype


def test_default_v_init_is_made_in_the_compute_dtype(device):
    # Before the fix a float16 x got v_init = v_reset rounded to float16 (-0.300048828125), so H at
    # step 0 missed this threshold, which the reference (float32 state) reaches exactly.
    v_th = float(torch.tensor(-0.3) + 0.5)  # H = -0.3 + (1 - (-0.3 - -0.3)) / 2 in float32
    p = LIFParams(tau=2.0, v_reset=-0.3, v_threshold=v_th)
    x = torch.ones(1, 4, dtype=torch.float16, device=device)
    s_ref, _ = lif_multistep_reference(x, None, p)
    s, _ = lif_multistep(x, params=p, backend=_backend(device))
    assert s_ref.sum() == 4 and torch.equal(s, s_ref)


def test_multistep_equals_loop_of_single_steps(device):
    x = _inputs(7, 29, dtype=torch.float64, device=device).requires_grad_()
    tau = torch.tensor(2.5, dtype=torch.float64, device=device, requires_grad=True)
    p = LIFParams(tau=tau, v_reset=None, decay_input=False, surrogate="atan", alpha=2.0)
    w = torch.arange(7.0, dtype=torch.float64, device=device)[:, None]
    s_all, v_all = lif_multistep(x, params=p, backend=_backend(device))
    g_all = torch.autograd.grad((s_all * w).sum() + v_all.sum(), (x, tau))
    v, spikes = None, []
    for t in range(7):
        s_t, v = lif_multistep(x[t : t + 1], v, p, backend=_backend(device))
        spikes.append(s_t)
    s_loop = torch.cat(spikes)
    g_loop = torch.autograd.grad((s_loop * w).sum() + v.sum(), (x, tau))
    torch.testing.assert_close(s_all, s_loop, rtol=0, atol=0)
    torch.testing.assert_close(v_all, v)
    for a, b in zip(g_all, g_loop):
        torch.testing.assert_close(a, b)


def test_v_init_default_is_reset_potential_and_compute_dtype_v_init_is_accepted():
    x = _inputs(3, 10)
    p = LIFParams(v_reset=-0.3)
    s_default, _ = lif_multistep(x, params=p)
    s_explicit, _ = lif_multistep(x, torch.full((10,), -0.3), p)
    torch.testing.assert_close(s_default, s_explicit, rtol=0, atol=0)
    s16, _ = lif_multistep(x.half(), torch.full((10,), -0.3), p)  # float32 state for float16 input
    assert s16.dtype == torch.float16


def test_callable_surrogate_runs_the_reference_loop(sj):
    _, sj_surrogate = sj
    x = _inputs(5, 12, dtype=torch.float64).requires_grad_()
    p = LIFParams(tau=2.0, v_reset=-0.1, surrogate=sj_surrogate.PiecewiseQuadratic(alpha=1.5))
    s, v = lif_multistep(x, params=p)
    s_seq, v_seq = lif_multistep_sequence(x, params=p)
    s_ref, v_ref = lif_multistep_reference(x, None, p)
    assert torch.equal(s, s_ref) and torch.equal(s_seq, s_ref) and torch.equal(v, v_ref[-1])
    assert torch.equal(v_seq, v_ref)
    g = torch.autograd.grad((s * x.detach()).sum() + v.sum(), x)[0]
    g_ref = torch.autograd.grad((s_ref * x.detach()).sum() + v_ref[-1].sum(), x)[0]
    assert torch.equal(g, g_ref)
    with pytest.raises(ValueError, match="backend='cuda' needs a named surrogate"):
        lif_multistep(x, params=p, backend="cuda")


# ----------------------------------------------------------------------------- what is stored and passed
class _OpLog(TorchDispatchMode):
    """Every op dispatched (a custom op counts as one): ``(name, args, output)``."""

    def __init__(self):
        super().__init__()
        self.calls: list[tuple[str, tuple, object]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.calls.append((str(func), args, out))
        return out


def test_backward_gets_no_materialised_zero_gradient_for_unused_outputs():
    # Autograd used to hand the backward a full [T, N] zero tensor for the unused membrane output.
    x = _inputs(6, 11).requires_grad_()
    s, _ = lif_multistep(x)
    with _OpLog() as log:
        s.sum().backward()
    zeros = [
        c[0]
        for c in log.calls
        if isinstance(c[2], torch.Tensor)
        and c[2].shape == (6, 11)
        and c[0].split(".")[1] in ("zeros", "zeros_like", "new_zeros", "full", "full_like", "new_full")
    ]
    assert not zeros
    (bwd,) = [c for c in log.calls if "lif_multistep_backward" in c[0]]
    grad_spikes, grad_v_last, grad_h = bwd[1][:3]
    assert grad_spikes.shape == (6, 11) and grad_v_last is None and grad_h is None


def test_inference_stores_no_membrane_sequence():
    x = _inputs(4, 10)
    spikes, v_last, h_seq = torch.ops.graphspike.lif_multistep(
        x, torch.zeros(10), torch.tensor(2.0), 1.0, 0.0, True, False, "sigmoid", 4.0, False, "torch"
    )
    assert h_seq.numel() == 0 and v_last.shape == (10,)
    with _OpLog() as log:
        s, v = lif_multistep(x)
    assert torch.equal(spikes, s) and torch.equal(v_last, v)
    (op,) = [c for c in log.calls if "graphspike.lif_multistep" in c[0]]
    assert op[1][9] is False and op[2][2].numel() == 0  # store_h=False: no [T, N] buffer


# ----------------------------------------------------------------------------- gradcheck / opcheck
@pytest.mark.parametrize("decay_input,v_reset", [(True, 0.0), (False, 0.0), (True, None), (False, None)])
def test_gradcheck_membrane_path(device, decay_input, v_reset):
    # With detach_reset the membrane is piecewise smooth in (x, v_init, tau), so finite differences
    # check the analytic backward (inputs keep H away from the threshold).
    x = _inputs(4, 6, dtype=torch.float64, device=device).requires_grad_()
    v0 = (torch.rand(6, dtype=torch.float64) * 0.3).to(device).requires_grad_()
    tau = torch.tensor(2.0, dtype=torch.float64, device=device, requires_grad=True)

    def seq(x, v0, tau):
        p = LIFParams(tau=tau, v_reset=v_reset, decay_input=decay_input, detach_reset=True)
        return lif_multistep_sequence(x, v0, p, backend=_backend(device))[1]

    def last(x, v0, tau):
        p = LIFParams(tau=tau, v_reset=v_reset, decay_input=decay_input, detach_reset=True)
        return lif_multistep(x, v0, p, backend=_backend(device))[1]

    assert torch.autograd.gradcheck(seq, (x, v0, tau), eps=1e-6, atol=1e-6)
    assert torch.autograd.gradcheck(last, (x, v0, tau), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "decay_input,v_reset,surrogate", [(True, 0.0, "sigmoid"), (False, None, "atan"), (True, -0.2, "atan")]
)
def test_gradgradcheck(device, decay_input, v_reset, surrogate):
    # Double backward used to raise; with create_graph the backward runs as differentiable ops.
    x = _inputs(4, 5, dtype=torch.float64, device=device).requires_grad_()
    v0 = (torch.rand(5, dtype=torch.float64) * 0.3).to(device).requires_grad_()
    tau = torch.tensor(2.5, dtype=torch.float64, device=device, requires_grad=True)

    def f(x, v0, tau):
        p = LIFParams(tau=tau, v_reset=v_reset, decay_input=decay_input, detach_reset=True, surrogate=surrogate)
        return lif_multistep(x, v0, p, backend=_backend(device))

    assert torch.autograd.gradgradcheck(f, (x, v0, tau), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("detach_reset", [False, True])
def test_double_backward_matches_the_reference(device, detach_reset):
    # Without detach_reset the surrogate is not the derivative of the forward, so no finite-difference
    # check applies; the second derivative is then held to autograd through the reference loop.
    x = _inputs(5, 7, dtype=torch.float64, device=device).requires_grad_()
    tau = torch.tensor(2.5, dtype=torch.float64, device=device, requires_grad=True)
    p = LIFParams(tau=tau, v_reset=-0.2, detach_reset=detach_reset, surrogate="sigmoid", alpha=3.0)
    w = torch.randn(5, 7, dtype=torch.float64, device=device)
    s_ref, v_ref = lif_multistep_reference(x, None, p)
    outs = []
    for s, v in (lif_multistep(x, None, p, backend=_backend(device)), (s_ref, v_ref[-1])):
        gx, gtau = torch.autograd.grad((s * w).sum() + v.sum(), (x, tau), create_graph=True)
        outs.append(torch.autograd.grad((gx**2).sum() + gtau, (x, tau)))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b)


def _op_args(device, requires_grad: bool, store_h: bool = True):
    x = _inputs(4, 9, dtype=torch.float64, device=device).requires_grad_(requires_grad)
    v0 = torch.zeros(9, dtype=torch.float64, device=device).requires_grad_(requires_grad)
    tau = torch.tensor(2.0, dtype=torch.float64, device=device).requires_grad_(requires_grad)
    return (x, v0, tau, 1.0, 0.0, True, False, "sigmoid", 4.0, store_h, _backend(device))


@pytest.mark.parametrize("requires_grad", [False, True])
def test_opcheck_forward(device, requires_grad):
    torch.library.opcheck(torch.ops.graphspike.lif_multistep.default, _op_args(device, requires_grad))


@pytest.mark.parametrize("which", ["all", "spikes_only", "v_last_only"])
def test_opcheck_backward(device, which):
    d = dict(dtype=torch.float64, device=device)
    h = _inputs(4, 9, dtype=torch.float64, device=device)
    gs = torch.randn(4, 9, **d) if which != "v_last_only" else None
    gv = torch.randn(9, **d) if which != "spikes_only" else None
    gh = torch.randn(4, 9, **d) if which == "all" else None
    args = (
        gs,
        gv,
        gh,
        h,
        torch.zeros(9, **d),
        torch.tensor(2.0, **d),
        1.0,
        None,
        False,
        True,
        "atan",
        2.0,
        torch.float64,
        True,
        _backend(device),
    )
    torch.library.opcheck(torch.ops.graphspike.lif_multistep_backward.default, args)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,err,match",
    [
        (dict(params=dict(tau=2.0)), TypeError, "params must be a cuda_ext.LIFParams"),
        (dict(backend="triton"), ValueError, "backend"),
        (dict(backend="cuda"), ValueError, "CUDA tensors"),
    ],
)
def test_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        lif_multistep(torch.zeros(2, 3), **kwargs)
    with pytest.raises(err, match=match):
        lif_multistep_sequence(torch.zeros(2, 3), **kwargs)


def test_bad_tensors():
    with pytest.raises(TypeError, match="lif_multistep: x_seq"):
        lif_multistep(torch.zeros(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="T >= 1"):
        lif_multistep(torch.zeros(0, 3))
    with pytest.raises(ValueError, match="v_init must have the shape"):
        lif_multistep(torch.zeros(2, 3), torch.zeros(4))
    with pytest.raises(TypeError, match="v_init must be on x_seq's device"):
        lif_multistep(torch.zeros(2, 3), torch.zeros(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="v_init must be a tensor"):
        lif_multistep(torch.zeros(2, 3), [0.0, 0.0, 0.0])


def test_torch_compile_fullgraph_forward_and_backward():
    extension_status()  # resolve the (cached) extension load outside the compiled region

    def f(x, tau):
        s, v = lif_multistep(x, params=LIFParams(tau=tau, v_reset=None))
        s2, v_seq = lif_multistep_sequence(x, params=LIFParams(tau=tau, v_reset=None))
        return (s * 2).sum() + v.sum() + (s2 * v_seq).sum()

    x = _inputs(4, 10).requires_grad_()
    tau = torch.tensor(2.0, requires_grad=True)
    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    got = torch.autograd.grad(compiled(x, tau), (x, tau))
    want = torch.autograd.grad(f(x, tau), (x, tau))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


# ----------------------------------------------------------------------------- CUDA kernel only
@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("T,N", [(1, 1), (1, 113), (4, 1023), (16, 4097), (16, 4096)])
def test_kernel_against_pytorch_path_dtypes_and_sizes(kernel, dtype, T, N):
    device = kernel
    x = _inputs(T, N, dtype, seed=T * N, device=device).requires_grad_()
    grad = torch.randn(T, N, device=device, dtype=dtype)
    s, v = lif_multistep(x, backend="cuda")
    (gx,) = torch.autograd.grad(s, x, grad)
    x_ref = x.detach().clone().requires_grad_()
    s_ref, v_ref = lif_multistep(x_ref, backend="torch")
    (gx_ref,) = torch.autograd.grad(s_ref, x_ref, grad)
    # Both compute in float32 with the same IEEE operations, so spikes should agree everywhere;
    # gradients are compared on every neuron whose spike train matches (always nearly all).
    same = (s == s_ref).all(dim=0)  # [N]
    assert same.float().mean() > 0.99 and same.any()
    rtol, atol = _tol(dtype)
    torch.testing.assert_close(gx[:, same], gx_ref[:, same], rtol=rtol, atol=atol)
    torch.testing.assert_close(v[same], v_ref[same], rtol=rtol, atol=atol)


@pytest.mark.cuda
def test_kernel_deterministic(kernel):
    device = kernel
    for dtype in (torch.float32, torch.float16):
        x = _inputs(16, 100_000, dtype, device=device).requires_grad_()
        tau = torch.tensor(2.0, device=device, requires_grad=True)
        runs = []
        for _ in range(2):
            s, v = lif_multistep(x, params=LIFParams(tau=tau), backend="cuda")
            runs.append((s, v, *torch.autograd.grad(s.sum() + v.sum(), (x, tau))))
        for a, b in zip(*runs):
            assert torch.equal(a, b)
