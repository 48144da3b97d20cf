"""Pure functional core of the LIF family: one step over explicit state, and the time loop.

Model (spikingjelly 2.0 ``LIFNode`` semantics; Gerstner & Kistler, *Spiking Neuron Models*, 2002):

.. math::
    H[t] &= V[t-1] + \\tfrac{1}{\\tau}\\big(X[t] - (V[t-1] - V_{reset})\\big)
            \\quad\\text{(decay\\_input=True)}\\\\
    H[t] &= V[t-1] - \\tfrac{1}{\\tau}(V[t-1] - V_{reset}) + X[t]
            \\quad\\text{(decay\\_input=False)}\\\\
    H[t] &= V[t-1] + X[t] \\quad (\\tau = \\infty,\\ \\text{IF})\\\\
    S[t] &= \\Theta(H[t] - V_{th})\\\\
    V[t] &= H[t](1 - S[t]) + V_{reset} S[t] \\ \\text{(hard)} \\quad\\text{or}\\quad
            H[t] - V_{th} S[t] \\ \\text{(soft, } V_{reset}=\\text{None)}

:math:`\\Theta` is the heaviside step in the forward pass and the surrogate's derivative in the
backward pass; with ``detach_reset`` the spike used in the reset is detached. For soft reset the
leak term uses :math:`V_{reset}=0`.

Functions here own no state: the modules in this package keep ``v`` as a spikingjelly memory and
call these. ``lif_multistep`` runs the fused ``cuda_ext.lif_multistep`` op where it implements
the surrogate, and :func:`lif_multistep_loop` (the executable specification) otherwise.
"""
from __future__ import annotations

import math

import torch
from cuda_ext.lif import lif_multistep as _fused_lif_multistep
from cuda_ext.surrogate import SURROGATES as _FUSED_SURROGATES

from .surrogate import SurrogateSpec

TauLike = float | torch.Tensor


def _is_inf(tau: TauLike) -> bool:
    return not isinstance(tau, torch.Tensor) and math.isinf(tau)


def check_neuron_args(fn: str, tau: TauLike, v_threshold: float, v_reset: float | None) -> None:
    """Validate neuron hyperparameters; raise ``ValueError``/``TypeError`` naming ``fn``."""
    if isinstance(tau, torch.Tensor):
        if tau.dim() != 0:
            raise ValueError(f"{fn}: tau must be a float or a 0-dim tensor (got shape {tuple(tau.shape)})")
    elif not isinstance(tau, (int, float)):
        raise TypeError(f"{fn}: tau must be a float or a 0-dim tensor (got {type(tau).__name__})")
    elif not tau > 1.0:
        raise ValueError(f"{fn}: tau must be > 1 (1/tau is the leak fraction; inf gives IF) (got {tau})")
    if not isinstance(v_threshold, (int, float)):
        raise TypeError(f"{fn}: v_threshold must be a float (got {type(v_threshold).__name__})")
    if v_reset is not None:
        if not isinstance(v_reset, (int, float)):
            raise TypeError(f"{fn}: v_reset must be a float or None (got {type(v_reset).__name__})")
        if not v_reset < v_threshold:
            raise ValueError(f"{fn}: v_reset must be below v_threshold (got v_reset={v_reset}, v_threshold={v_threshold})")


def lif_charge(x: torch.Tensor, v: torch.Tensor, tau: TauLike, decay_input: bool, v_reset: float | None) -> torch.Tensor:
    """Membrane potential before firing, ``H[t]`` (see module docstring). ``tau=inf`` is IF."""
    if _is_inf(tau):
        return v + x
    v_rest = 0.0 if v_reset is None else v_reset
    if decay_input:
        return v + (x - (v - v_rest)) / tau
    return v - (v - v_rest) / tau + x


def fire_and_reset(
    h: torch.Tensor, v_threshold: float, v_reset: float | None, surrogate: SurrogateSpec, detach_reset: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spike ``S = Theta(H - V_th)`` (surrogate gradient) and the membrane after reset."""
    spike = surrogate.fn(h - v_threshold)
    s = spike.detach() if detach_reset else spike
    if v_reset is None:
        v = h - v_threshold * s
    else:
        v = h * (1.0 - s) + v_reset * s
    return spike, v


def lif_step(
    x: torch.Tensor,
    v: torch.Tensor | float,
    tau: TauLike,
    *,
    decay_input: bool,
    v_threshold: float,
    v_reset: float | None,
    surrogate: SurrogateSpec,
    detach_reset: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LIF step. ``x`` [B, ...], ``v`` [B, ...] or a float -> ``(spike [B, ...], v_next [B, ...])``."""
    if not isinstance(v, torch.Tensor):
        v = torch.full_like(x, float(v))
    h = lif_charge(x, v, tau, decay_input, v_reset)
    return fire_and_reset(h, v_threshold, v_reset, surrogate, detach_reset)


def lif_multistep_loop(
    x_seq: torch.Tensor,
    v: torch.Tensor | float,
    tau: TauLike,
    *,
    decay_input: bool,
    v_threshold: float,
    v_reset: float | None,
    surrogate: SurrogateSpec,
    detach_reset: bool,
    return_v_seq: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The time loop over :func:`lif_step`: ``x_seq`` [T, B, ...] ->
    ``(spikes [T, B, ...], v_last [B, ...], v_seq [T, B, ...] or None)`` (v after reset)."""
    spikes, vs = [], []
    for x in x_seq:  # x: [B, ...]
        s, v = lif_step(x, v, tau, decay_input=decay_input, v_threshold=v_threshold, v_reset=v_reset,
                        surrogate=surrogate, detach_reset=detach_reset)
        spikes.append(s)
        if return_v_seq:
            vs.append(v)
    return torch.stack(spikes), v, (torch.stack(vs) if return_v_seq else None)


def lif_multistep(
    x_seq: torch.Tensor,
    v: torch.Tensor | float,
    tau: TauLike,
    *,
    decay_input: bool,
    v_threshold: float,
    v_reset: float | None,
    surrogate: SurrogateSpec,
    detach_reset: bool,
    return_v_seq: bool = False,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Multi-step LIF over ``x_seq`` [T, B, ...] starting from ``v``; same contract as
    :func:`lif_multistep_loop`, which is its specification.

    Runs the fused op ``cuda_ext.lif_multistep`` (CUDA kernel on GPU, a loop without per-step
    autograd nodes on CPU, one backward pass over t = T-1..0) when the surrogate is one it
    implements (``sigmoid``, ``atan``); any other spikingjelly surrogate runs the loop.
    ``backend`` is passed to the op ("auto" | "torch" | "cuda").
    """
    if x_seq.dim() < 1 or x_seq.shape[0] < 1:
        raise ValueError(f"lif_multistep: x_seq must be [T, ...] with T >= 1 (got shape {tuple(x_seq.shape)})")
    if surrogate.name not in _FUSED_SURROGATES:
        return lif_multistep_loop(x_seq, v, tau, decay_input=decay_input, v_threshold=v_threshold, v_reset=v_reset,
                                  surrogate=surrogate, detach_reset=detach_reset, return_v_seq=return_v_seq)
    if not isinstance(v, torch.Tensor):
        v = torch.full(x_seq.shape[1:], float(v), dtype=x_seq.dtype, device=x_seq.device)  # [B, ...]
    spikes, v_seq = _fused_lif_multistep(
        x_seq, v, tau=tau, v_threshold=v_threshold, v_reset=v_reset, decay_input=decay_input,
        detach_reset=detach_reset, surrogate=surrogate.name, alpha=surrogate.alpha, return_v=True, backend=backend)
    # clone: a view would break spikingjelly's in-place detach_net/reset
    return spikes, v_seq[-1].clone(), (v_seq if return_v_seq else None)
