r"""Fused multi-step leaky integrate-and-fire (LIF) neuron with surrogate gradients.

Model (Gerstner & Kistler, *Spiking Neuron Models*, 2002; discretisation and surrogate training
as in Fang et al., "Incorporating Learnable Membrane Time Constant to Enhance Learning of
Spiking Neural Networks", ICCV 2021, and spikingjelly 2.0 ``LIFNode(step_mode='m')``). For each
neuron and time step :math:`t = 0..T-1`, starting from :math:`V[-1] = V_{init}`:

.. math::
    H[t] &= V[t-1] + \tfrac{1}{\tau}\big(X[t] - (V[t-1] - V_{reset})\big)
        && \text{(decay\_input=True)} \\
    H[t] &= V[t-1] - \tfrac{1}{\tau}\big(V[t-1] - V_{reset}\big) + X[t]
        && \text{(decay\_input=False)} \\
    H[t] &= V[t-1] + X[t] && (\tau = \infty\text{: IF neuron, either flag}) \\
    S[t] &= \Theta(H[t] - V_{th}) \\
    V[t] &= S[t]\,V_{reset} + (1 - S[t])\,H[t] && \text{(hard reset)} \\
    V[t] &= H[t] - S[t]\,V_{th} && \text{(soft reset, } V_{reset} = \text{None; charge uses } 0)

Backward replaces :math:`\Theta'` by a surrogate :math:`g'` (:mod:`cuda_ext.surrogate`);
``detach_reset`` cuts the gradient through :math:`S[t]` in the reset equation. Gradients reach
``x_seq``, ``v_init`` and ``tau`` (a 0-dim tensor that requires grad gives a parametric LIF).

Pieces (ARCHITECTURE.md, "cuda_ext: one op, four pieces"):

* :func:`lif_multistep` -- the public typed function (validates, resolves the backend once).
* :func:`lif_multistep_reference` -- the executable spec: the time loop above in plain
  PyTorch, differentiated by autograd. Tests hold the ops to it.
* ``torch.ops.graphspike.lif_multistep`` -> ``(spikes, h_seq)`` and
  ``torch.ops.graphspike.lif_multistep_backward`` -> ``(grad_x, grad_v_init, grad_tau)``:
  custom ops with a PyTorch implementation (CPU, and CUDA when the kernel is not used), the
  CUDA kernels of ``csrc/lif.cu`` (forward loops over T in registers; backward is one kernel
  running t = T-1..0), fake implementations, and the autograd link between them.

What is stored for backward: only the charged potential :math:`H` (``h_seq``) and
:math:`V_{init}`. Spikes are recomputed as :math:`H \ge V_{th}`, and :math:`V[t-1]` (needed
for the gradient of :math:`\tau`) from :math:`H[t-1]`. In inference (no input requires grad
and ``return_v=False``) nothing but the spikes is written. The membrane sequence asked for
by ``return_v=True`` is computed from ``h_seq`` and the spikes by the reset equation in
PyTorch, so its gradient flows back through the op's two outputs.

Differences from spikingjelly: one functional op (no module state; the caller passes
``v_init`` and reads the final state from ``v_seq[-1]``); ``tau=inf`` gives the IF neuron;
float16/bfloat16 compute in float32 (spikingjelly's native kernels do the same) and
``h_seq`` is kept in float32 so recomputed spikes match the forward ones exactly; the
surrogate is named by a string plus ``alpha`` instead of an object.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Union

import torch
from torch import Tensor

from cuda_ext._backend import extension, resolve_backend
from cuda_ext.surrogate import heaviside_spike, surrogate_grad, surrogate_id

__all__ = ["lif_multistep", "lif_multistep_reference", "lif_charge", "lif_reset"]

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
TauLike = Union[float, Tensor]


def _opmath(dtype: torch.dtype) -> torch.dtype:
    """Compute dtype: float32 for half types, else the dtype itself."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


# ---------------------------------------------------------------------------------------------
# Pure functional core (one time step). Shared by the reference and the PyTorch op path.
# ---------------------------------------------------------------------------------------------
def lif_charge(x: Tensor, v: Tensor, tau: TauLike, decay_input: bool, v_reset: Optional[float]) -> Tensor:
    """Charge :math:`H[t]` from :math:`X[t]` and :math:`V[t-1]` (see the module docstring)."""
    vr = 0.0 if v_reset is None else v_reset
    if isinstance(tau, Tensor):
        h = v + (x - (v - vr)) / tau if decay_input else v - (v - vr) / tau + x
        # tau = inf is the IF neuron; selecting (not branching on a host value) avoids a sync.
        return torch.where(torch.isinf(tau), v + x, h)
    if math.isinf(tau):
        return v + x
    return v + (x - (v - vr)) / tau if decay_input else v - (v - vr) / tau + x


def lif_reset(h: Tensor, spike: Tensor, v_threshold: float, v_reset: Optional[float]) -> Tensor:
    """:math:`V[t]` after firing: hard reset to ``v_reset`` or soft reset (subtract threshold)."""
    if v_reset is None:
        return h - spike * v_threshold
    return spike * v_reset + (1.0 - spike) * h


def lif_multistep_reference(
    x_seq: Tensor,
    v_init: Optional[Tensor] = None,
    *,
    tau: TauLike = 2.0,
    v_threshold: float = 1.0,
    v_reset: Optional[float] = 0.0,
    decay_input: bool = True,
    detach_reset: bool = False,
    surrogate: str = "sigmoid",
    alpha: float = 4.0,
) -> tuple[Tensor, Tensor]:
    """Executable spec of :func:`lif_multistep`: ``(spikes, v_seq)``, differentiable by autograd.

    Same arguments as :func:`lif_multistep` (without validation). Computes in float32 for
    half inputs; returns tensors in the dtype of ``x_seq``.
    """
    om = _opmath(x_seq.dtype)
    if v_init is None:
        v = x_seq.new_full(x_seq.shape[1:], 0.0 if v_reset is None else v_reset, dtype=om)
    else:
        v = v_init.to(om)
    if isinstance(tau, Tensor):
        tau = tau.to(om)
    spikes, voltages = [], []
    for x in x_seq:
        h = lif_charge(x.to(om), v, tau, decay_input, v_reset)
        spike = heaviside_spike(h - v_threshold, alpha, surrogate)
        v = lif_reset(h, spike.detach() if detach_reset else spike, v_threshold, v_reset)
        spikes.append(spike)
        voltages.append(v)
    return torch.stack(spikes).to(x_seq.dtype), torch.stack(voltages).to(x_seq.dtype)


# ---------------------------------------------------------------------------------------------
# PyTorch implementations of the two ops (no autograd inside; used on CPU and as CUDA fallback)
# ---------------------------------------------------------------------------------------------
def _tau_for(tau: Tensor, om: torch.dtype) -> TauLike:
    # On CPU reading the value is free and lets the float formulas (bitwise spikingjelly's) run.
    return float(tau) if tau.device.type == "cpu" else tau.to(om)


def _lif_forward_torch(
    x_seq: Tensor, v_init: Tensor, tau: Tensor, v_threshold: float, v_reset: Optional[float],
    decay_input: bool, store_h: bool,
) -> tuple[Tensor, Tensor]:
    om = _opmath(x_seq.dtype)
    tau_v = _tau_for(tau, om)
    v = v_init.to(om)
    spikes = torch.empty(x_seq.shape, dtype=x_seq.dtype, device=x_seq.device)  # [T, *N]
    h_seq = x_seq.new_empty(x_seq.shape if store_h else (0,), dtype=om)
    if not isinstance(tau_v, Tensor):
        _lif_forward_fast(x_seq, v, tau_v, v_threshold, v_reset, decay_input, spikes, h_seq if store_h else None)
        return spikes, h_seq
    for t in range(x_seq.shape[0]):
        h = lif_charge(x_seq[t].to(om), v, tau_v, decay_input, v_reset)
        spike = (h >= v_threshold).to(om)
        spikes[t] = spike
        if store_h:
            h_seq[t] = h
        v = lif_reset(h, spike, v_threshold, v_reset)
    return spikes, h_seq


def _lif_forward_fast(
    x_seq: Tensor, v: Tensor, tau: float, v_threshold: float, v_reset: Optional[float], decay_input: bool,
    spikes: Tensor, h_seq: Optional[Tensor],
) -> None:
    """:func:`_lif_forward_torch` for a Python-float tau (CPU): the same floating-point operations
    in the same order (so bitwise the same results), written in place into preallocated
    buffers, with the reset as one select: ``S V_r + (1 - S) H`` equals ``where(S, V_r, H)``
    and ``H - S V_th`` equals ``where(S, H - V_th, H)`` for finite ``H``."""
    vr = 0.0 if v_reset is None else v_reset
    is_if = math.isinf(tau)
    scratch = torch.empty_like(v)
    for t in range(x_seq.shape[0]):
        x = x_seq[t].to(v.dtype)
        h = h_seq[t] if h_seq is not None else torch.empty_like(v)
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
        fire = h >= v_threshold
        spikes[t].copy_(fire)
        if v_reset is None:
            v = torch.where(fire, h - v_threshold, h)
        else:
            v = torch.where(fire, torch.full_like(h, v_reset), h) if h_seq is not None else h.masked_fill_(fire, v_reset)


def _lif_backward_torch(
    grad_spikes: Tensor, grad_h: Optional[Tensor], h_seq: Tensor, v_init: Tensor, tau: Tensor,
    v_threshold: float, v_reset: Optional[float], decay_input: bool, detach_reset: bool,
    surrogate: str, alpha: float, need_tau_grad: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    om = h_seq.dtype
    tau_v = _tau_for(tau, om)
    if isinstance(tau_v, Tensor):
        inv_tau = torch.where(torch.isinf(tau_v), torch.zeros_like(tau_v), 1.0 / tau_v)
        gain_x: TauLike = torch.where(torch.isinf(tau_v), torch.ones_like(tau_v), inv_tau) if decay_input else 1.0
    else:
        inv_tau = 0.0 if math.isinf(tau_v) else 1.0 / tau_v
        gain_x = (1.0 if math.isinf(tau_v) else inv_tau) if decay_input else 1.0
    vr0 = 0.0 if v_reset is None else v_reset
    grad_x = torch.empty(h_seq.shape, dtype=grad_spikes.dtype, device=h_seq.device)  # [T, *N]
    carry = torch.zeros_like(h_seq[0])  # dL/dV[t], flowing from step t+1
    grad_tau = torch.zeros((), dtype=om, device=h_seq.device)
    for t in range(h_seq.shape[0] - 1, -1, -1):
        h = h_seq[t]
        sg = surrogate_grad(h - v_threshold, alpha, surrogate)
        if v_reset is None:
            dv_dh = 1.0 if detach_reset else 1.0 - v_threshold * sg
        else:
            dv_dh = 1.0 - (h >= v_threshold).to(om)
            if not detach_reset:
                dv_dh = dv_dh + (v_reset - h) * sg
        gh = grad_spikes[t].to(om) * sg + carry * dv_dh
        if grad_h is not None:
            gh = gh + grad_h[t].to(om)
        grad_x[t] = gh * gain_x
        if need_tau_grad:
            if t == 0:
                v_prev = v_init.to(om)
            else:
                h_prev = h_seq[t - 1]
                v_prev = lif_reset(h_prev, (h_prev >= v_threshold).to(om), v_threshold, v_reset)
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
) -> tuple[Tensor, Tensor]:
    return _lif_forward_torch(x_seq, v_init, tau, v_threshold, v_reset, decay_input, store_h)


@_lif_op.register_kernel("cuda")
def _lif_cuda(x_seq, v_init, tau, v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha,
              store_h, backend):
    if backend == "cuda":
        spikes, h_seq = extension().lif_forward(
            x_seq.contiguous(), v_init.contiguous(), tau.to(torch.float64), v_threshold, v_reset,
            decay_input, store_h,
        )
        return spikes, h_seq
    return _lif_forward_torch(x_seq, v_init, tau, v_threshold, v_reset, decay_input, store_h)


@_lif_op.register_fake
def _lif_fake(x_seq, v_init, tau, v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha,
              store_h, backend):
    om = _opmath(x_seq.dtype)
    spikes = torch.empty_like(x_seq, memory_format=torch.contiguous_format)
    h_seq = x_seq.new_empty(x_seq.shape if store_h else (0,), dtype=om)
    return spikes, h_seq


@torch.library.custom_op("graphspike::lif_multistep_backward", mutates_args=())
def _lif_bwd_op(
    grad_spikes: Tensor,
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
    need_tau_grad: bool,
    backend: str,
) -> tuple[Tensor, Tensor, Tensor]:
    return _lif_backward_torch(grad_spikes, grad_h, h_seq, v_init, tau, v_threshold, v_reset,
                               decay_input, detach_reset, surrogate, alpha, need_tau_grad)


@_lif_bwd_op.register_kernel("cuda")
def _lif_bwd_cuda(grad_spikes, grad_h, h_seq, v_init, tau, v_threshold, v_reset, decay_input,
                  detach_reset, surrogate, alpha, need_tau_grad, backend):
    if backend == "cuda":
        grad_x, grad_v, grad_tau = extension().lif_backward(
            grad_spikes.contiguous(), None if grad_h is None else grad_h.contiguous(), h_seq.contiguous(),
            v_init.contiguous(), tau.to(torch.float64), v_threshold, v_reset, decay_input, detach_reset,
            surrogate_id(surrogate), alpha, need_tau_grad,
        )
        return grad_x, grad_v, grad_tau.to(tau.dtype)
    return _lif_backward_torch(grad_spikes, grad_h, h_seq, v_init, tau, v_threshold, v_reset,
                               decay_input, detach_reset, surrogate, alpha, need_tau_grad)


@_lif_bwd_op.register_fake
def _lif_bwd_fake(grad_spikes, grad_h, h_seq, v_init, tau, v_threshold, v_reset, decay_input,
                  detach_reset, surrogate, alpha, need_tau_grad, backend):
    grad_x = torch.empty_like(grad_spikes, memory_format=torch.contiguous_format)
    return grad_x, torch.empty_like(v_init, memory_format=torch.contiguous_format), torch.empty_like(tau)


def _setup_context(ctx: Any, inputs: tuple, output: tuple) -> None:
    (x_seq, v_init, tau, v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha,
     store_h, backend) = inputs
    _, h_seq = output
    ctx.params = (v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha)
    ctx.backend = backend
    ctx.store_h = store_h
    ctx.save_for_backward(h_seq, v_init, tau)


def _backward(ctx: Any, grad_spikes: Optional[Tensor], grad_h: Optional[Tensor]):
    h_seq, v_init, tau = ctx.saved_tensors
    if not ctx.store_h:
        raise RuntimeError(
            "lif_multistep: backward needs the charged potentials, but the op ran with store_h=False "
            "(call cuda_ext.lif_multistep, which sets it when an input requires grad)"
        )
    if grad_spikes is None:
        grad_spikes = torch.zeros(h_seq.shape, dtype=v_init.dtype, device=h_seq.device)
    v_threshold, v_reset, decay_input, detach_reset, surrogate, alpha = ctx.params
    grad_x, grad_v, grad_tau = _lif_bwd_op(
        grad_spikes, grad_h, h_seq, v_init, tau, v_threshold, v_reset, decay_input, detach_reset,
        surrogate, alpha, bool(ctx.needs_input_grad[2]), ctx.backend,
    )
    return (
        grad_x,
        grad_v if ctx.needs_input_grad[1] else None,
        grad_tau if ctx.needs_input_grad[2] else None,
        None, None, None, None, None, None, None, None,
    )


_lif_op.register_autograd(_backward, setup_context=_setup_context)


# ---------------------------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------------------------
def _check_number(name: str, value: Any, allow_none: bool = False) -> None:
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        expected = "a finite float or None" if allow_none else "a finite float"
        raise TypeError(f"lif_multistep: {name} must be {expected} (got {value!r})")


def _validate(x_seq: Any, v_init: Any, tau: Any, v_threshold: Any, v_reset: Any, surrogate: Any,
              alpha: Any) -> None:
    if not isinstance(x_seq, Tensor) or x_seq.dtype not in _FLOAT_DTYPES:
        got = f"{x_seq.dtype} tensor" if isinstance(x_seq, Tensor) else type(x_seq).__name__
        raise TypeError(f"lif_multistep: x_seq must be a float16/bfloat16/float32/float64 tensor (got {got})")
    if x_seq.dim() < 1 or x_seq.shape[0] < 1:
        raise ValueError(f"lif_multistep: x_seq must be time-major [T, ...] with T >= 1 (got shape {tuple(x_seq.shape)})")
    if v_init is not None:
        if not isinstance(v_init, Tensor):
            raise TypeError(f"lif_multistep: v_init must be a tensor or None (got {type(v_init).__name__})")
        if v_init.shape != x_seq.shape[1:]:
            raise ValueError(
                f"lif_multistep: v_init must have the shape of one time step {tuple(x_seq.shape[1:])} "
                f"(got {tuple(v_init.shape)})"
            )
        if v_init.dtype != x_seq.dtype or v_init.device != x_seq.device:
            raise TypeError(
                f"lif_multistep: v_init must match x_seq's dtype and device ({x_seq.dtype}, {x_seq.device}) "
                f"(got {v_init.dtype}, {v_init.device})"
            )
    if isinstance(tau, Tensor):
        if tau.dim() != 0 or not tau.is_floating_point():
            raise TypeError(f"lif_multistep: a tensor tau must be a 0-dim float tensor (got {tau.dtype} of shape {tuple(tau.shape)})")
    elif isinstance(tau, bool) or not isinstance(tau, (int, float)) or math.isnan(tau) or tau < 1.0:
        raise ValueError(f"lif_multistep: tau must be a float >= 1 (inf gives IF) or a 0-dim tensor (got {tau!r})")
    _check_number("v_threshold", v_threshold)
    _check_number("v_reset", v_reset, allow_none=True)
    surrogate_id(surrogate)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"lif_multistep: alpha must be a positive finite float (got {alpha!r})")


def lif_multistep(
    x_seq: Tensor,
    v_init: Optional[Tensor] = None,
    *,
    tau: TauLike = 2.0,
    v_threshold: float = 1.0,
    v_reset: Optional[float] = 0.0,
    decay_input: bool = True,
    detach_reset: bool = False,
    surrogate: str = "sigmoid",
    alpha: float = 4.0,
    return_v: bool = False,
    backend: str = "auto",
) -> Union[Tensor, tuple[Tensor, Tensor]]:
    """Run a layer of LIF neurons over ``T`` time steps (the math is in the module docstring).

    Args:
        x_seq: input current ``[T, *N]``, time-major; float16/bfloat16/float32/float64.
        v_init: membrane potential before step 0, ``[*N]``; ``None`` starts at ``v_reset``
            (or 0 for soft reset), as spikingjelly's ``reset_net`` state does.
        tau: membrane time constant, a float ``>= 1`` (``inf`` gives the IF neuron) or a
            0-dim tensor (may require grad: parametric LIF).
        v_threshold: firing threshold :math:`V_{th}`.
        v_reset: hard-reset potential; ``None`` selects soft reset (subtract the threshold).
        decay_input: whether the input is scaled by :math:`1/\\tau` (spikingjelly's flag).
        detach_reset: cut the gradient through the spike in the reset equation.
        surrogate: ``"sigmoid"`` or ``"atan"``; ``alpha`` is its sharpness.
        return_v: also return the membrane sequence after reset, ``v_seq[-1]`` being the state
            to pass as ``v_init`` to the next call.
        backend: ``"auto"``, ``"torch"`` or ``"cuda"`` (see :mod:`cuda_ext._backend`).

    Returns:
        ``spikes [T, *N]`` (0/1 in the dtype of ``x_seq``), plus ``v_seq [T, *N]`` when
        ``return_v``.

    Example:
        >>> lif_multistep(torch.tensor([[0.5], [1.5], [2.0]]), tau=2.0)
        tensor([[0.],
                [0.],
                [1.]])
    """
    _validate(x_seq, v_init, tau, v_threshold, v_reset, surrogate, alpha)
    v_threshold = float(v_threshold)
    v_reset = None if v_reset is None else float(v_reset)
    alpha = float(alpha)
    resolved = resolve_backend("lif_multistep", backend, x_seq.device)
    om = _opmath(x_seq.dtype)
    if v_init is None:
        v_init = x_seq.new_full(x_seq.shape[1:], 0.0 if v_reset is None else v_reset)
    if isinstance(tau, Tensor):
        tau_t = tau.to(device=x_seq.device, dtype=om)
    else:
        tau_t = torch.full((), float(tau), dtype=om, device=x_seq.device)
    needs_grad = torch.is_grad_enabled() and (x_seq.requires_grad or v_init.requires_grad or tau_t.requires_grad)
    spikes, h_seq = _lif_op(x_seq, v_init, tau_t, v_threshold, v_reset, bool(decay_input), bool(detach_reset),
                            surrogate, alpha, bool(return_v or needs_grad), resolved)
    if not return_v:
        return spikes
    s = spikes.to(om)
    v_seq = lif_reset(h_seq, s.detach() if detach_reset else s, v_threshold, v_reset)
    return spikes, v_seq.to(x_seq.dtype)
