"""The compiled CPU LIF kernel (``csrc/cpu/lif_cpu.cpp``) against the PyTorch loop: forward
bitwise, gradients to rounding, every neuron option, thread-count independence, NaN, the
backend choice. Skipped when the CPU kernels are not built (``python -m cuda_ext build``; CI
builds them with ``--require``, so there they always run)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from cuda_ext._backend import cpu_extension_status
from cuda_ext.lif import _prepare, lif_multistep, lif_multistep_sequence
from cuda_ext.neuron import LIFParams

pytestmark = pytest.mark.skipif(
    not cpu_extension_status()[0], reason=f"CPU kernels not built: {cpu_extension_status()[1]}"
)

# decay_input, v_reset, detach_reset, surrogate
OPTIONS = list(itertools.product([True, False], [0.0, None, -0.25], [True, False], ["sigmoid", "atan"]))
TOL = {torch.float64: (1e-12, 1e-12), torch.float32: (2e-4, 1e-6)}


def _x(T: int, N: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(T, N, generator=g, dtype=torch.float64) * 1.5 + 0.6).to(dtype)


def _run(x, v0, params, backend, sequence):
    """Outputs and the gradients of x, v_init and a tensor tau under a fixed random loss."""
    x = x.clone().requires_grad_()
    v0 = v0.clone().requires_grad_()
    fn = lif_multistep_sequence if sequence else lif_multistep
    s, v = fn(x, v0, params, backend=backend)
    g = torch.Generator().manual_seed(7)
    loss = (s * torch.randn(s.shape, generator=g, dtype=s.dtype)).sum()
    loss = loss + (v * torch.randn(v.shape, generator=g, dtype=v.dtype)).sum()
    inputs = (x, v0) + ((params.tau,) if isinstance(params.tau, torch.Tensor) else ())
    return (s, v), torch.autograd.grad(loss, inputs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("decay_input,v_reset,detach_reset,surrogate", OPTIONS)
def test_kernel_matches_the_pytorch_loop(dtype, decay_input, v_reset, detach_reset, surrogate):
    x = _x(5, 1500, dtype)  # 1500 neurons: two blocks, the second one partial
    v0 = _x(1, 1500, dtype, seed=1)[0] * 0.3
    for tau in (2.0, torch.tensor(1.7, dtype=dtype, requires_grad=True)):
        params = LIFParams(
            tau=tau, v_reset=v_reset, decay_input=decay_input, detach_reset=detach_reset, surrogate=surrogate
        )
        for sequence in (False, True):
            (s_k, v_k), grads_k = _run(x, v0, params, "auto", sequence)
            (s_t, v_t), grads_t = _run(x, v0, params, "torch", sequence)
            assert torch.equal(s_k, s_t) and torch.equal(v_k, v_t)  # forward: bitwise
            rtol, atol = TOL[dtype]
            for a, b in zip(grads_k, grads_t):
                torch.testing.assert_close(a, b, rtol=rtol, atol=atol)


def test_if_neuron_and_single_step():
    x = _x(1, 37, torch.float32)
    params = LIFParams(tau=math.inf)
    (s_k, v_k), g_k = _run(x, torch.zeros(37), params, "auto", False)
    (s_t, v_t), g_t = _run(x, torch.zeros(37), params, "torch", False)
    assert torch.equal(s_k, s_t) and torch.equal(v_k, v_t)
    for a, b in zip(g_k, g_t):
        torch.testing.assert_close(a, b)


def test_auto_on_cpu_picks_the_kernel_for_float32_and_float64_only():
    for dtype in (torch.float32, torch.float64):
        assert _prepare("lif_multistep", torch.zeros(2, 3, dtype=dtype), None, None, "auto")[1] == "cpu"
        assert _prepare("lif_multistep", torch.zeros(2, 3, dtype=dtype), None, None, "torch")[1] == "torch"
    assert _prepare("lif_multistep", torch.zeros(2, 3, dtype=torch.float16), None, None, "auto")[1] == "torch"
    with pytest.raises(ValueError, match="backend must be one of"):
        _prepare("lif_multistep", torch.zeros(2, 3), None, None, "cpu")  # internal name, not a user backend


def test_results_do_not_depend_on_the_thread_count():
    x = _x(4, 5000, torch.float32).requires_grad_()  # five blocks
    params = LIFParams(tau=torch.tensor(2.5, requires_grad=True))
    threads = torch.get_num_threads()
    outs = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            s, v = lif_multistep(x, None, params)
            grads = torch.autograd.grad((s * x.detach()).sum() + v.sum(), (x, params.tau))
            outs.append((s, v, *grads))
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(*outs):
        assert torch.equal(a, b)


def test_nan_and_saturated_inputs_propagate_like_the_loop():
    x = _x(3, 64, torch.float32)
    x[1, 5] = float("nan")
    x[:, 6] = 1e30
    x[:, 7] = -1e30
    x[2, 8] = 88.0  # alpha * (H - V_th) beyond float exp's range
    params = LIFParams()
    (s_k, v_k), (gx_k, gv_k) = _run(x, torch.zeros(64), params, "auto", True)
    (s_t, v_t), (gx_t, gv_t) = _run(x, torch.zeros(64), params, "torch", True)
    assert torch.equal(s_k, s_t)
    torch.testing.assert_close(v_k, v_t, rtol=0, atol=0, equal_nan=True)
    assert torch.equal(torch.isnan(gx_k), torch.isnan(gx_t)) and torch.isnan(gx_k[:, 5]).any()
    keep = ~torch.isnan(gx_t)
    torch.testing.assert_close(gx_k[keep], gx_t[keep], rtol=2e-4, atol=1e-6)


def test_non_contiguous_input():
    x = _x(4, 200, torch.float32).t().contiguous().t()  # [4, 200] over column-major storage
    xt = _x(8, 100, torch.float32)[::2]  # a strided time axis
    for inp in (x, xt):
        (s_k, v_k), g_k = _run(inp, torch.zeros(inp.shape[1:]), LIFParams(), "auto", False)
        (s_t, v_t), g_t = _run(inp, torch.zeros(inp.shape[1:]), LIFParams(), "torch", False)
        assert torch.equal(s_k, s_t) and torch.equal(v_k, v_t)
        for a, b in zip(g_k, g_t):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_opcheck_forward_and_backward_on_the_kernel(requires_grad):
    d = dict(dtype=torch.float64)
    x = _x(4, 9, torch.float64).requires_grad_(requires_grad)
    tau = torch.tensor(2.0, **d).requires_grad_(requires_grad)
    fwd = (x, torch.zeros(9, **d), tau, 1.0, 0.0, True, False, "sigmoid", 4.0, requires_grad, "cpu")
    torch.library.opcheck(torch.ops.graphspike.lif_multistep.default, fwd)
    h = _x(4, 9, torch.float64)
    bwd = (torch.randn(4, 9, **d), torch.randn(9, **d), torch.randn(4, 9, **d), h, torch.zeros(9, **d))
    bwd += (torch.tensor(2.0, **d), 1.0, None, False, True, "atan", 2.0, torch.float64, True, "cpu")
    torch.library.opcheck(torch.ops.graphspike.lif_multistep_backward.default, bwd)


def test_gradcheck_through_the_kernel():
    # detach_reset: the membrane is piecewise smooth in (x, v_init, tau), so finite differences
    # check the kernel's analytic backward (float64; inputs keep H away from the threshold).
    x = _x(4, 6, torch.float64).requires_grad_()
    v0 = (torch.rand(6, dtype=torch.float64) * 0.3).requires_grad_()
    tau = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)

    def seq(x, v0, tau):
        return lif_multistep_sequence(x, v0, LIFParams(tau=tau, v_reset=None, detach_reset=True), backend="auto")[1]

    assert _prepare("lif_multistep", x, None, None, "auto")[1] == "cpu"
    assert torch.autograd.gradcheck(seq, (x, v0, tau), eps=1e-6, atol=1e-6)
