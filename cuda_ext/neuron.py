r"""The LIF neuron core: one parameter record and one reference step, shared by every LIF path.

Model (Gerstner & Kistler, *Spiking Neuron Models*, 2002; the discretisation and surrogate
training of spikingjelly 2.0 ``LIFNode``, Fang et al., ICCV 2021). For each neuron and step,
from :math:`V[t-1]` and the input :math:`X[t]`:

.. math::
    H[t] &= V[t-1] + \tfrac{1}{\tau}\big(X[t] - (V[t-1] - V_{reset})\big)
        && \text{(decay\_input=True)} \\
    H[t] &= V[t-1] - \tfrac{1}{\tau}\big(V[t-1] - V_{reset}\big) + X[t]
        && \text{(decay\_input=False)} \\
    H[t] &= V[t-1] + X[t] && (\tau = \infty\text{: the IF neuron, either flag}) \\
    S[t] &= \Theta(H[t] - V_{th}) \\
    V[t] &= S[t]\,V_{reset} + (1 - S[t])\,H[t] && \text{(hard reset)} \\
    V[t] &= H[t] - V_{th}\,S[t] && \text{(soft reset: } V_{reset} = \text{None; the charge uses 0)}

Backward replaces :math:`\Theta'` by a surrogate derivative (:mod:`cuda_ext.surrogate`);
``detach_reset`` cuts the gradient through :math:`S[t]` in the reset equation.

* :class:`LIFParams` -- the hyperparameters, validated here and nowhere else.
* :func:`lif_step` -- one step, plain PyTorch, differentiated by autograd: the executable spec.
  The order of floating-point operations is spikingjelly 2.0's (``neuronal_charge`` /
  ``neuronal_reset``), so values match it bitwise.
* :func:`lif_multistep_reference` -- the time loop over :func:`lif_step`; the fused op
  :func:`cuda_ext.lif_multistep` (CPU loop and CUDA kernel) is held to it by the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Optional, Union

import torch
from torch import Tensor

from cuda_ext.surrogate import SURROGATES, heaviside_spike

__all__ = ["LIFParams", "lif_charge", "lif_fire", "lif_reset", "lif_step", "lif_multistep_reference", "opmath_dtype"]

TauLike = Union[float, Tensor]
SpikeFn = Callable[[Tensor], Tensor]


def opmath_dtype(dtype: torch.dtype) -> torch.dtype:
    """The compute dtype of a multi-step LIF: float32 for float16/bfloat16, else ``dtype``."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _real(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class LIFParams:
    r"""Hyperparameters of a layer of LIF neurons (the equations are in :mod:`cuda_ext.neuron`).

    Args:
        tau: membrane time constant :math:`\tau`, a float ``> 1`` (``inf`` gives the IF neuron)
            or a 0-dim floating tensor (may require grad: the parametric LIF). The bound is
            spikingjelly's: ``LIFNode`` asserts ``tau > 1``, since :math:`\tau = 1` forgets the
            membrane every step and :math:`\tau < 1` over-shoots it. A tensor's value is not
            read (that would synchronise with the device); it must be ``> 1`` too.
        v_threshold: firing threshold :math:`V_{th}`, a finite float.
        v_reset: hard-reset potential (a finite float below ``v_threshold``), or ``None`` for
            soft reset (subtract the threshold).
        decay_input: whether the input is scaled by :math:`1/\tau`.
        detach_reset: cut the gradient through the spike in the reset equation.
        surrogate: ``"sigmoid"`` or ``"atan"`` (:data:`cuda_ext.SURROGATES`, implemented by the
            fused op), or any callable ``f(H - V_th) -> spikes`` with its own surrogate
            backward, such as a spikingjelly ``surrogate.PiecewiseQuadratic()`` (runs only on
            the PyTorch loop).
        alpha: sharpness of a named surrogate, a positive finite float (not used, nor checked, with a
            callable).

    Raises:
        TypeError: a field of the wrong type. ValueError: a value out of range.

    Example:
        >>> LIFParams(tau=2.0, v_reset=None).soft_reset
        True
    """

    tau: TauLike = 2.0
    v_threshold: float = 1.0
    v_reset: Optional[float] = 0.0
    decay_input: bool = True
    detach_reset: bool = False
    surrogate: Union[str, SpikeFn] = "sigmoid"
    alpha: float = 4.0

    def __post_init__(self) -> None:
        fn = "LIFParams"
        tau = self.tau
        if isinstance(tau, Tensor):
            if tau.dim() != 0 or not tau.is_floating_point():
                raise TypeError(
                    f"{fn}: a tensor tau must be a 0-dim floating tensor (got {tau.dtype} of shape {tuple(tau.shape)})"
                )
        elif not _real(tau):
            raise TypeError(f"{fn}: tau must be a float or a 0-dim tensor (got {type(tau).__name__})")
        elif not tau > 1.0:  # also rejects NaN
            raise ValueError(f"{fn}: tau must be > 1 (spikingjelly's bound; inf gives the IF neuron) (got {tau})")
        else:
            object.__setattr__(self, "tau", float(tau))
        if not _real(self.v_threshold):
            raise TypeError(f"{fn}: v_threshold must be a float (got {type(self.v_threshold).__name__})")
        if not math.isfinite(self.v_threshold):
            raise ValueError(f"{fn}: v_threshold must be finite (got {self.v_threshold})")
        object.__setattr__(self, "v_threshold", float(self.v_threshold))
        if self.v_reset is not None:
            if not _real(self.v_reset):
                raise TypeError(f"{fn}: v_reset must be a float or None (got {type(self.v_reset).__name__})")
            if not (math.isfinite(self.v_reset) and self.v_reset < self.v_threshold):
                raise ValueError(
                    f"{fn}: v_reset must be finite and below v_threshold "
                    f"(got v_reset={self.v_reset}, v_threshold={self.v_threshold})"
                )
            object.__setattr__(self, "v_reset", float(self.v_reset))
        for name in ("decay_input", "detach_reset"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{fn}: {name} must be a bool (got {getattr(self, name)!r})")
        if isinstance(self.surrogate, str):
            if self.surrogate not in SURROGATES:
                raise ValueError(
                    f"{fn}: surrogate must be one of {tuple(SURROGATES)} or a callable (got {self.surrogate!r})"
                )
        elif not callable(self.surrogate):
            raise TypeError(f"{fn}: surrogate must be a name or a callable (got {type(self.surrogate).__name__})")
        if not isinstance(self.surrogate, str):
            return  # alpha belongs to the callable; this one is not used
        if not (_real(self.alpha) and math.isfinite(self.alpha) and self.alpha > 0):
            raise ValueError(f"{fn}: alpha must be a positive finite float (got {self.alpha!r})")
        object.__setattr__(self, "alpha", float(self.alpha))

    @property
    def soft_reset(self) -> bool:
        """Whether the reset subtracts the threshold (``v_reset is None``)."""
        return self.v_reset is None

    @property
    def fused(self) -> bool:
        """Whether the fused op implements the surrogate (a name, not a callable)."""
        return isinstance(self.surrogate, str)

    @property
    def v_rest(self) -> float:
        """The potential the charge decays towards, and the default initial state: ``v_reset`` or 0."""
        return 0.0 if self.v_reset is None else self.v_reset


def lif_charge(x: Tensor, v: Tensor, tau: TauLike, decay_input: bool, v_reset: Optional[float]) -> Tensor:
    """:math:`H[t]` from :math:`X[t]` and :math:`V[t-1]`; ``tau = inf`` is the IF neuron."""
    vr = 0.0 if v_reset is None else v_reset
    if isinstance(tau, Tensor):
        h = v + (x - (v - vr)) / tau if decay_input else v - (v - vr) / tau + x
        # tau = inf is the IF neuron; selecting (not branching on a host value) avoids a sync.
        return torch.where(torch.isinf(tau), v + x, h)
    if math.isinf(tau):
        return v + x
    return v + (x - (v - vr)) / tau if decay_input else v - (v - vr) / tau + x


def lif_fire(h: Tensor, params: LIFParams) -> Tensor:
    r""":math:`S[t] = \Theta(H[t] - V_{th})` with the surrogate gradient of ``params``."""
    if params.fused:
        return heaviside_spike(h - params.v_threshold, params.alpha, params.surrogate)
    return params.surrogate(h - params.v_threshold)


def lif_reset(h: Tensor, spike: Tensor, v_threshold: float, v_reset: Optional[float]) -> Tensor:
    """:math:`V[t]` after firing: hard reset to ``v_reset``, or soft reset (subtract the threshold)."""
    if v_reset is None:
        return h - v_threshold * spike
    return spike * v_reset + (1.0 - spike) * h


def lif_step(x: Tensor, v: Tensor, params: LIFParams) -> tuple[Tensor, Tensor]:
    """One LIF step: ``x`` and ``v`` ``[*N]`` -> ``(spike [*N], v_next [*N])``, differentiable.

    Computes in the dtype of ``x`` and ``v`` (spikingjelly's single-step semantics).
    """
    h = lif_charge(x, v, params.tau, params.decay_input, params.v_reset)
    spike = lif_fire(h, params)
    v = lif_reset(h, spike.detach() if params.detach_reset else spike, params.v_threshold, params.v_reset)
    return spike, v


def lif_multistep_reference(
    x_seq: Tensor, v_init: Optional[Tensor] = None, params: Optional[LIFParams] = None
) -> tuple[Tensor, Tensor]:
    """Executable spec of the multi-step LIF: ``(spikes [T, *N], v_seq [T, *N])``.

    The loop of :func:`lif_step` from ``v_init`` (default: ``params.v_rest``), differentiated by
    autograd. Half inputs compute in float32; outputs follow the dtype of ``x_seq``. No
    validation (see :func:`cuda_ext.lif_multistep`).
    """
    params = LIFParams() if params is None else params
    om = opmath_dtype(x_seq.dtype)
    if v_init is None:
        v = x_seq.new_full(x_seq.shape[1:], params.v_rest, dtype=om)  # [*N]
    else:
        v = v_init.to(om)
    if isinstance(params.tau, Tensor) and params.tau.dtype != om:
        params = replace(params, tau=params.tau.to(om))
    spikes, voltages = [], []
    for x in x_seq:  # x: [*N]
        spike, v = lif_step(x.to(om), v, params)
        spikes.append(spike)
        voltages.append(v)
    return torch.stack(spikes).to(x_seq.dtype), torch.stack(voltages).to(x_seq.dtype)
