r"""Fused multi-step leaky integrate-and-fire (LIF): the op, its CPU and CUDA kernels, its autograd.

The equations and the parameter record are in :mod:`cuda_ext.neuron` (the reference step
:func:`~cuda_ext.neuron.lif_step` is the spec; tests hold this op to it). Gradients reach
``x_seq``, ``v_init`` and a tensor ``tau`` (the parametric LIF).

Entry points (fixed arity whatever the arguments):

* :func:`lif_multistep` -> ``(spikes [T, *N], v_last [*N])``: what a layer needs. Inference
  writes the spikes and the final state only; no ``[T, ...]`` membrane buffer exists.
* :func:`lif_multistep_sequence` -> ``(spikes [T, *N], v_seq [T, *N])``: also the membrane
  potential after every step (for monitors, ``store_v_seq``, losses on the membrane).

Pieces (ARCHITECTURE.md, "cuda_ext: one op, four pieces"):

* ``torch.ops.graphspike.lif_multistep`` -> ``(spikes, v_last, h_seq)`` and
  ``torch.ops.graphspike.lif_multistep_backward`` -> ``(grad_x, grad_v_init, grad_tau)``:
  custom ops with a PyTorch implementation (CPU, and CUDA without the kernel), the CUDA
  kernels of ``csrc/lif.cu`` (forward loops over T in registers; backward is one kernel
  running t = T-1..0), the CPU kernels of ``csrc/cpu/lif_cpu.cpp`` (float32/float64; blocks of
  neurons loop over T with their state in L1, vectorised, threads over blocks), fake
  implementations, and the autograd link between them.
* On CPU, ``backend="auto"`` runs the compiled CPU kernel when ``python -m cuda_ext build`` has
  built it (a C++ compiler is all it needs), else the PyTorch loop; ``backend="torch"`` always
  runs the loop. The kernel's spikes, ``h_seq`` and ``v_last`` are bitwise the loop's; its
  gradients differ by rounding (the sigmoid surrogate's exp is a vectorisable polynomial, not
  libm's), not bitwise, so the bitwise spikingjelly match holds for ``backend="torch"``.
* What is stored for backward: only the charged potential :math:`H` (``h_seq``, in the
  compute dtype) and :math:`V_{init}`, and only when an input requires grad. Spikes are
  recomputed as :math:`H \ge V_{th}`, :math:`V[t-1]` from :math:`H[t-1]`. Unused outputs
  reach the backward as ``None`` (no zero tensors are materialised). With ``create_graph``
  the backward runs as differentiable PyTorch ops, so double backward works (on every
  backend, at the speed of the PyTorch loop).
* :func:`lif_multistep_sequence` computes ``v_seq`` from ``h_seq`` and the spikes by the reset
  equation in PyTorch, so its gradient flows back through the op's outputs.

Differences from spikingjelly 2.0 (``lif_multi_step``): one functional op without module state;
``tau=inf`` gives the IF neuron; float16/bfloat16 compute in float32 (the default ``v_init`` is
created in float32 too), and ``h_seq`` is kept in float32 so recomputed spikes match the forward
ones exactly; the surrogate is a name plus ``alpha`` (or a callable, on the PyTorch loop).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Optional, Union

import torch
from torch import Tensor

from cuda_ext._backend import BACKENDS, cpu_extension, extension, resolve_backend
from cuda_ext.neuron import LIFParams, lif_charge, lif_reset, lif_step, opmath_dtype
from cuda_ext.surrogate import SURROGATES, heaviside_spike, surrogate_grad, surrogate_id

__all__ = ["lif_multistep", "lif_multistep_sequence"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_CPU_KERNEL_DTYPES = (torch.float32, torch.float64)  # csrc/cpu/lif_cpu.cpp; half types stay on the loop
TauLike = Union[float, Tensor]


# ---------------------------------------------------------------------------------------------
# PyTorch implementations of the two ops (no autograd inside; used on CPU and as CUDA fallback)
# ---------------------------------------------------------------------------------------------
def _tau_for(tau: Tensor, om: torch.dtype) -> TauLike:
    # On CPU reading the value is free and lets the float formulas (bitwise spikingjelly's) run.
    return float(tau) if tau.device.type == "cpu" else tau.to(om)


def _lif_forward_torch(
    x_seq: Tensor,
    v_init: Tensor,
    tau: Tensor,
    v_threshold: float,
    v_reset: Optional[float],
    decay_input: bool,
    store_h: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    om = opmath_dtype(x_seq.dtype)
    tau_v = _tau_for(tau, om)
    spikes = torch.empty(x_seq.shape, dtype=x_seq.dtype, device=x_seq.device)  # [T, *N]
    h_seq = x_seq.new_empty(x_seq.shape if store_h else (0,), dtype=om)
    if not isinstance(tau_v, Tensor):
        v = _lif_forward_cpu(
            x_seq, v_init.to(om), tau_v, v_threshold, v_reset, decay_input, spikes, h_seq if store_h else None
        )
        return spikes, v.to(x_seq.dtype), h_seq
    v = v_init.to(om)
    for t in range(x_seq.shape[0]):
        h = lif_charge(x_seq[t].to(om), v, tau_v, decay_input, v_reset)
        spike = (h >= v_threshold).to(om)
        spikes[t] = spike
        if store_h:
            h_seq[t] = h
        v = lif_reset(h, spike, v_threshold, v_reset)
    return spikes, v.to(x_seq.dtype), h_seq


def _lif_forward_cpu(
    x_seq: Tensor,
    v_init: Tensor,
    tau: float,
    v_threshold: float,
    v_reset: Optional[float],
    decay_input: bool,
    spikes: Tensor,
    h_seq: Optional[Tensor],
) -> Tensor:
    """The CPU kernel for a Python-float tau: the floating-point operations of
    :func:`cuda_ext.neuron.lif_step` in the same order (so bitwise its values), written in place
    into buffers allocated once, so a step allocates nothing. The reset is one select:
    ``S V_r + (1 - S) H`` equals ``where(S, V_r, H)`` and ``H - V_th S`` equals
    ``where(S, H - V_th, H)`` for finite ``H``. Returns ``V[T-1]`` (a new tensor)."""
    vr = 0.0 if v_reset is None else v_reset
    is_if = math.isinf(tau)
    v = v_init.clone()  # [*N], the state, updated in place
    scratch = torch.empty_like(v)
    h_buf = torch.empty_like(v) if h_seq is None else None
    x_buf = torch.empty_like(v) if x_seq.dtype != v.dtype else None
    fire = torch.empty(v.shape, dtype=torch.bool, device=v.device)
    for t in range(x_seq.shape[0]):
        x = x_seq[t] if x_buf is None else x_buf.copy_(x_seq[t])
        h = h_seq[t] if h_seq is not None else h_buf
        if is_if:
            torch.add(v, x, out=h)
        elif decay_input:
            torch.sub(v, vr, out=scratch)  # V - V_r
            torch.sub(x, scratch, out=h)  # X - (V - V_r)
            h.div_(tau).add_(v)  # V + (X - (V - V_r)) / tau
        else:
            torch.sub(v, vr, out=scratch)
            scratch.div_(tau)  # (V - V_r) / tau
            torch.sub(v, scratch, out=h)
            h.add_(x)  # V - (V - V_r) / tau + X
        torch.ge(h, v_threshold, out=fire)
        spikes[t].copy_(fire)
        if v_reset is None:
            torch.sub(h, v_threshold, out=scratch)
            torch.where(fire, scratch, h, out=v)
        else:
            v.copy_(h).masked_fill_(fire, v_reset)
    return v


def _last_step_grad(
    grad_spikes_t: Optional[Tensor],
    grad_v_last: Tensor,
    h: Tensor,
    spike: Tensor,
    v_threshold: float,
    v_reset: Optional[float],
    detach_reset: bool,
    x_dtype: torch.dtype,
) -> tuple[Optional[Tensor], Tensor]:
    """Fold ``dL/dV[T-1]`` into the last step: ``(dL/dS[T-1], extra dL/dH[T-1])``.

    The terms and their order are those autograd produced when ``v_last`` was ``lif_reset``
    of the op's ``h_seq`` and spikes in PyTorch (first the spike's own gradient, then
    ``-(g H)``, then ``g V_r``), so gradients stay bitwise what they were."""
    om = h.dtype
    g = grad_v_last.to(om)
    if v_reset is None:
        extra = g
        terms = [] if detach_reset else [(-g) * v_threshold]
    else:
        extra = g * (1.0 - spike)
        terms = [] if detach_reset else [-(g * h), g * v_reset]
    if not terms:
        return grad_spikes_t, extra
    if x_dtype != om:  # the spike's gradient went through spikes.to(om) in PyTorch
        reset = terms[0] if len(terms) == 1 else terms[0] + terms[1]
        reset = reset.to(x_dtype)
        return (reset if grad_spikes_t is None else grad_spikes_t + reset), extra
    out = grad_spikes_t
    for term in terms:
        out = term if out is None else out + term
    return out, extra


def _lif_backward_torch(
    grad_spikes: Optional[Tensor],
    grad_v_last: Optional[Tensor],
    grad_h: Optional[Tensor],
    h_seq: Tensor,
    v_init: Tensor,
    tau: Tensor,
    v_threshold: float,
    v_reset: Optional[float],
    decay_input: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
    x_dtype: torch.dtype,
    need_tau_grad: bool,
    differentiable: bool = False,
) -> tuple[Tensor, Tensor, Tensor]:
    """Backward through time, t = T-1..0. ``differentiable``: keep ``tau`` a tensor so that
    autograd can differentiate this function (double backward)."""
    om = h_seq.dtype
    tau_v = tau.to(om) if differentiable else _tau_for(tau, om)
    if isinstance(tau_v, Tensor):
        inv_tau = torch.where(torch.isinf(tau_v), torch.zeros_like(tau_v), 1.0 / tau_v)
        gain_x: TauLike = torch.where(torch.isinf(tau_v), torch.ones_like(tau_v), inv_tau) if decay_input else 1.0
    else:
        inv_tau = 0.0 if math.isinf(tau_v) else 1.0 / tau_v
        gain_x = (1.0 if math.isinf(tau_v) else inv_tau) if decay_input else 1.0
    vr0 = 0.0 if v_reset is None else v_reset

    def fired(h: Tensor) -> Tensor:
        """S = [H >= V_th]; for double backward with the surrogate derivative that autograd gives
        the reference (detached like the reference's reset when ``detach_reset``)."""
        if not differentiable:
            return (h >= v_threshold).to(om)
        s = heaviside_spike(h - v_threshold, alpha, surrogate)
        return s.detach() if detach_reset else s

    T = h_seq.shape[0]
    grad_x = torch.empty(h_seq.shape, dtype=x_dtype, device=h_seq.device)  # [T, *N]
    carry = torch.zeros_like(h_seq[0])  # dL/dV[t], flowing from step t+1
    grad_tau = torch.zeros((), dtype=om, device=h_seq.device)
    for t in range(T - 1, -1, -1):
        h = h_seq[t]
        sg = surrogate_grad(h - v_threshold, alpha, surrogate)
        if v_reset is None:
            dv_dh = 1.0 if detach_reset else 1.0 - v_threshold * sg
        else:
            dv_dh = 1.0 - fired(h)
            if not detach_reset:
                dv_dh = dv_dh + (v_reset - h) * sg
        gs = None if grad_spikes is None else grad_spikes[t]
        extra = None
        if t == T - 1 and grad_v_last is not None:
            gs, extra = _last_step_grad(gs, grad_v_last, h, fired(h), v_threshold, v_reset, detach_reset, x_dtype)
        gh = carry * dv_dh if gs is None else gs.to(om) * sg + carry * dv_dh
        if extra is not None:
            gh = gh + extra
        if grad_h is not None:
            gh = gh + grad_h[t].to(om)
        grad_x[t] = gh * gain_x
        if need_tau_grad:
            if t == 0:
                v_prev = v_init.to(om)
            else:
                h_prev = h_seq[t - 1]
                v_prev = lif_reset(h_prev, fired(h_prev), v_threshold, v_reset)
            # dH/dtau: -(X - (V - V_r)) / tau^2 = -(H - V) / tau, or (V - V_r) / tau^2; 0 for IF.
            dh_dtau = -(h - v_prev) * inv_tau if decay_input else (v_prev - vr0) * inv_tau * inv_tau
            grad_tau = grad_tau + (gh * dh_dtau).sum()
        carry = gh - gh * inv_tau
    return grad_x, carry.to(v_init.dtype), grad_tau.to(tau.dtype)


# ---------------------------------------------------------------------------------------------
# Custom ops
# ---------------------------------------------------------------------------------------------
@torch.library.custom_op("graphspike::lif_multistep", mutates_args=())
def _lif_op(
    x_seq: Tensor,
    v_init: Tensor,
    tau: Tensor,
    v_threshold: float,
    v_reset: Optional[float],
    decay_input: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
    store_h: bool,
    backend: str,
) -> tuple[Tensor, Tensor, Tensor]:
    if backend == "cpu":
        spikes, v_last, h_seq = cpu_extension().lif_forward(
            x_seq.contiguous(), v_init.contiguous(), float(tau), v_threshold, v_reset, decay_input, store_h
        )
        return spikes, v_last, h_seq
    return _lif_forward_torch(x_seq, v_init, tau, v_threshold, v_reset, decay_input, store_h)


@_lif_op.register_kernel("cuda")
def _lif_cuda(x_seq, v_init, tau, v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha, store_h, backend):
    if backend == "cuda":
        spikes, v_last, h_seq = extension().lif_forward(
            x_seq.contiguous(),
            v_init.contiguous(),
            tau.to(torch.float64),
            v_threshold,
            v_reset,
            decay_input,
            store_h,
        )
        return spikes, v_last, h_seq
    return _lif_forward_torch(x_seq, v_init, tau, v_threshold, v_reset, decay_input, store_h)


@_lif_op.register_fake
def _lif_fake(x_seq, v_init, tau, v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha, store_h, backend):
    om = opmath_dtype(x_seq.dtype)
    spikes = torch.empty_like(x_seq, memory_format=torch.contiguous_format)
    v_last = x_seq.new_empty(x_seq.shape[1:])
    h_seq = x_seq.new_empty(x_seq.shape if store_h else (0,), dtype=om)
    return spikes, v_last, h_seq


@torch.library.custom_op("graphspike::lif_multistep_backward", mutates_args=())
def _lif_bwd_op(
    grad_spikes: Optional[Tensor],
    grad_v_last: Optional[Tensor],
    grad_h: Optional[Tensor],
    h_seq: Tensor,
    v_init: Tensor,
    tau: Tensor,
    v_threshold: float,
    v_reset: Optional[float],
    decay_input: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
    x_dtype: torch.dtype,
    need_tau_grad: bool,
    backend: str,
) -> tuple[Tensor, Tensor, Tensor]:
    args = (grad_spikes, grad_v_last, grad_h, h_seq, v_init, tau, v_threshold, v_reset, decay_input)
    args += (detach_reset, surrogate, alpha, x_dtype, need_tau_grad)
    return (_lif_backward_cpu if backend == "cpu" else _lif_backward_torch)(*args)


@_lif_bwd_op.register_kernel("cuda")
def _lif_bwd_cuda(*args):
    """The op's arguments in schema order, ``backend`` last: the kernel of ``csrc/lif.cu`` for
    ``backend="cuda"``, else the PyTorch loop."""
    *bwd_args, backend = args
    return (_lif_backward_cuda if backend == "cuda" else _lif_backward_torch)(*bwd_args)


def _lif_backward_compiled(
    module: Any,
    tau_arg: Union[float, Tensor],
    grad_spikes: Optional[Tensor],
    grad_v_last: Optional[Tensor],
    grad_h: Optional[Tensor],
    h_seq: Tensor,
    v_init: Tensor,
    tau: Tensor,
    v_threshold: float,
    v_reset: Optional[float],
    decay_input: bool,
    detach_reset: bool,
    surrogate: str,
    alpha: float,
    x_dtype: torch.dtype,
    need_tau_grad: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """A compiled backward (``module.lif_backward``: the CUDA extension or the CPU kernels) with
    the op's arguments; ``tau_arg`` is ``tau`` as that kernel takes it."""
    grad_x = torch.empty(h_seq.shape, dtype=x_dtype, device=h_seq.device)  # [T, *N]

    def c(t: Optional[Tensor]) -> Optional[Tensor]:
        return None if t is None else t.contiguous()

    grad_v, grad_tau = module.lif_backward(
        grad_x,
        c(grad_spikes),
        c(grad_v_last),
        c(grad_h),
        h_seq.contiguous(),
        v_init.contiguous(),
        tau_arg,
        v_threshold,
        v_reset,
        decay_input,
        detach_reset,
        surrogate_id(surrogate),
        alpha,
        need_tau_grad,
    )
    return grad_x, grad_v, grad_tau.to(tau.dtype)


def _lif_backward_cuda(*args: Any) -> tuple[Tensor, Tensor, Tensor]:
    """``csrc/lif.cu`` (tau as a float64 device scalar: read in the kernel, no host sync)."""
    return _lif_backward_compiled(extension(), args[5].to(torch.float64), *args)


def _lif_backward_cpu(*args: Any) -> tuple[Tensor, Tensor, Tensor]:
    """``csrc/cpu/lif_cpu.cpp`` (float32/float64, so ``x_dtype`` is ``h_seq``'s; tau a float)."""
    return _lif_backward_compiled(cpu_extension(), float(args[5]), *args)


@_lif_bwd_op.register_fake
def _lif_bwd_fake(
    grad_spikes,
    grad_v_last,
    grad_h,
    h_seq,
    v_init,
    tau,
    v_threshold,
    v_reset,
    decay_input,
    detach_reset,
    surrogate,
    alpha,
    x_dtype,
    need_tau_grad,
    backend,
):
    grad_x = h_seq.new_empty(h_seq.shape, dtype=x_dtype)
    return grad_x, torch.empty_like(v_init, memory_format=torch.contiguous_format), torch.empty_like(tau)


def _setup_context(ctx: Any, inputs: tuple, output: tuple) -> None:
    (x_seq, v_init, tau, v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha, store_h, backend) = inputs
    ctx.set_materialize_grads(False)  # an unused output's gradient arrives as None, not as zeros
    ctx.params = (v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha)
    ctx.backend = backend
    ctx.store_h = store_h
    ctx.x_dtype = x_seq.dtype
    ctx.save_for_backward(output[2], v_init, tau)


def _backward(ctx: Any, grad_spikes: Optional[Tensor], grad_v_last: Optional[Tensor], grad_h: Optional[Tensor]):
    none = (None,) * 8
    if grad_spikes is None and grad_v_last is None and grad_h is None:
        return (None, None, None, *none)
    h_seq, v_init, tau = ctx.saved_tensors
    if not ctx.store_h:
        raise RuntimeError(
            "lif_multistep: backward needs the charged potentials, but the op ran with store_h=False "
            "(call cuda_ext.lif_multistep, which sets it when an input requires grad)"
        )
    args = (
        grad_spikes,
        grad_v_last,
        grad_h,
        h_seq,
        v_init,
        tau,
        *ctx.params,
        ctx.x_dtype,
        bool(ctx.needs_input_grad[2]),
    )
    if torch.is_grad_enabled():  # create_graph=True: differentiable PyTorch ops, for double backward
        grad_x, grad_v, grad_tau = _lif_backward_torch(*args, differentiable=True)
    else:
        grad_x, grad_v, grad_tau = _lif_bwd_op(*args, ctx.backend)
    return (
        grad_x if ctx.needs_input_grad[0] else None,
        grad_v if ctx.needs_input_grad[1] else None,
        grad_tau if ctx.needs_input_grad[2] else None,
        *none,
    )


_lif_op.register_autograd(_backward, setup_context=_setup_context)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------
def _prepare(fn: str, x_seq: Any, v_init: Any, params: Any, backend: Any) -> tuple[LIFParams, str, Tensor, Tensor]:
    """Validate; return ``(params, resolved backend, v_init in the compute dtype, tau tensor)``."""
    if not isinstance(x_seq, Tensor) or x_seq.dtype not in _FLOAT_DTYPES:
        got = f"{x_seq.dtype} tensor" if isinstance(x_seq, Tensor) else type(x_seq).__name__
        raise TypeError(f"{fn}: x_seq must be a float16/bfloat16/float32/float64 tensor (got {got})")
    if x_seq.dim() < 1 or x_seq.shape[0] < 1:
        raise ValueError(f"{fn}: x_seq must be time-major [T, ...] with T >= 1 (got shape {tuple(x_seq.shape)})")
    if params is None:
        params = LIFParams()
    elif not isinstance(params, LIFParams):
        raise TypeError(f"{fn}: params must be a cuda_ext.LIFParams (got {type(params).__name__})")
    om = opmath_dtype(x_seq.dtype)
    if v_init is None:
        v_init = torch.full(x_seq.shape[1:], params.v_rest, dtype=om, device=x_seq.device)  # [*N]
    else:
        if not isinstance(v_init, Tensor):
            raise TypeError(f"{fn}: v_init must be a tensor or None (got {type(v_init).__name__})")
        if v_init.shape != x_seq.shape[1:]:
            raise ValueError(
                f"{fn}: v_init must have the shape of one time step {tuple(x_seq.shape[1:])} "
                f"(got {tuple(v_init.shape)})"
            )
        if v_init.dtype not in (x_seq.dtype, om) or v_init.device != x_seq.device:
            raise TypeError(
                f"{fn}: v_init must be on x_seq's device ({x_seq.device}) in its dtype or compute dtype "
                f"({x_seq.dtype} or {om}) (got {v_init.dtype}, {v_init.device})"
            )
        v_init = v_init.to(om)
    if isinstance(params.tau, Tensor):
        tau = params.tau.to(device=x_seq.device, dtype=om)
    else:
        tau = torch.full((), params.tau, dtype=om, device=x_seq.device)
    if params.fused:
        resolved = resolve_backend(fn, backend, x_seq.device, cpu_kernel=x_seq.dtype in _CPU_KERNEL_DTYPES)
    elif backend == "cuda":
        raise ValueError(
            f"{fn}: backend='cuda' needs a named surrogate {tuple(SURROGATES)} "
            f"(got the callable {params.surrogate!r}); use backend='auto' or 'torch'"
        )
    elif backend not in BACKENDS:
        raise ValueError(f"{fn}: backend must be one of {BACKENDS} (got {backend!r})")
    else:
        resolved = "torch"
    return params, resolved, v_init, tau


def _run_op(
    x_seq: Tensor, v_init: Tensor, tau: Tensor, params: LIFParams, store_h: bool, backend: str
) -> tuple[Tensor, Tensor, Tensor]:
    needs_grad = torch.is_grad_enabled() and (x_seq.requires_grad or v_init.requires_grad or tau.requires_grad)
    return _lif_op(
        x_seq,
        v_init,
        tau,
        params.v_threshold,
        params.v_reset,
        params.decay_input,
        params.detach_reset,
        params.surrogate,
        params.alpha,
        store_h or needs_grad,
        backend,
    )


def lif_multistep(
    x_seq: Tensor, v_init: Optional[Tensor] = None, params: Optional[LIFParams] = None, *, backend: str = "auto"
) -> tuple[Tensor, Tensor]:
    """Run a layer of LIF neurons over ``T`` steps: ``(spikes, v_last)``.

    Args:
        x_seq: input current ``[T, *N]``, time-major; float16/bfloat16/float32/float64.
        v_init: membrane potential before step 0, ``[*N]``, in the dtype of ``x_seq`` or its
            compute dtype (float32 for half inputs); ``None`` starts at ``params.v_rest``
            (``v_reset``, or 0 for soft reset), as spikingjelly's ``reset_net`` state does.
        params: the neuron's :class:`~cuda_ext.LIFParams` (default ``LIFParams()``: tau 2,
            threshold 1, hard reset to 0, sigmoid surrogate with alpha 4).
        backend: ``"auto"``, ``"torch"`` or ``"cuda"`` (see :mod:`cuda_ext._backend`; ``"auto"``
            on CPU float32/float64 tensors runs the compiled CPU kernel when built). A callable
            surrogate runs the PyTorch loop of :func:`cuda_ext.lif_step` (``"cuda"`` raises).

    Returns:
        ``spikes [T, *N]`` (0/1 in the dtype of ``x_seq``) and ``v_last [*N]``, the membrane
        potential after the last step (the ``v_init`` of the next call), in the dtype of ``x_seq``.

    Raises:
        TypeError / ValueError: bad tensors, params or backend (messages name the argument).
        RuntimeError: ``backend="cuda"`` without the compiled extension.

    Example:
        >>> spikes, v = lif_multistep(torch.tensor([[0.5], [1.5], [2.0]]), params=LIFParams(tau=2.0))
        >>> spikes.flatten().tolist(), v.tolist()
        ([0.0, 0.0, 1.0], [0.0])
    """
    params, resolved, v_init, tau = _prepare("lif_multistep", x_seq, v_init, params, backend)
    if not params.fused:
        return _reference_loop(x_seq, v_init, tau, params, keep_seq=False)
    spikes, v_last, _ = _run_op(x_seq, v_init, tau, params, False, resolved)
    return spikes, v_last


def lif_multistep_sequence(
    x_seq: Tensor, v_init: Optional[Tensor] = None, params: Optional[LIFParams] = None, *, backend: str = "auto"
) -> tuple[Tensor, Tensor]:
    """As :func:`lif_multistep`, but returns ``(spikes [T, *N], v_seq [T, *N])``: the membrane
    potential after the reset of every step (``v_seq[-1]`` is ``v_last``). Costs a ``[T, *N]``
    compute-dtype buffer and the ``v_seq`` output; ask for it only when the sequence is used.

    Example:
        >>> _, v_seq = lif_multistep_sequence(torch.tensor([[0.5], [1.5], [2.0]]))
        >>> v_seq.flatten().tolist()
        [0.25, 0.875, 0.0]
    """
    params, resolved, v_init, tau = _prepare("lif_multistep_sequence", x_seq, v_init, params, backend)
    if not params.fused:
        return _reference_loop(x_seq, v_init, tau, params, keep_seq=True)
    om = tau.dtype
    spikes, _, h_seq = _run_op(x_seq, v_init, tau, params, True, resolved)
    s = spikes.to(om)
    v_seq = lif_reset(h_seq, s.detach() if params.detach_reset else s, params.v_threshold, params.v_reset)
    return spikes, v_seq.to(x_seq.dtype)


def _reference_loop(
    x_seq: Tensor, v_init: Tensor, tau: Tensor, params: LIFParams, keep_seq: bool
) -> tuple[Tensor, Tensor]:
    """The loop of :func:`cuda_ext.lif_step` in the compute dtype (for callable surrogates):
    ``(spikes, v_seq)`` when ``keep_seq``, else ``(spikes, v_last)``."""
    om = tau.dtype
    if isinstance(params.tau, Tensor):
        params = replace(params, tau=tau)
    spikes, voltages, v = [], [], v_init
    for x in x_seq:  # [*N]
        s, v = lif_step(x.to(om), v, params)
        spikes.append(s)
        if keep_seq:
            voltages.append(v)
    v_out = torch.stack(voltages) if keep_seq else v
    return torch.stack(spikes).to(x_seq.dtype), v_out.to(x_seq.dtype)
