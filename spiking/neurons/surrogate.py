"""Surrogate gradients: resolve a name or a spikingjelly surrogate object into one spec.

We do not define our own surrogate functions: the heaviside-with-surrogate-gradient used by the
single-step path comes from :mod:`spikingjelly.activation_based.surrogate`, so a network that
mixes our neurons and spikingjelly's trains with identical gradients. The fused kernel
(``cuda_ext.lif_multistep``) receives the surrogate as a ``(name, alpha)`` pair when it
implements it (:attr:`SurrogateSpec.fused`); any other surrogate runs the PyTorch loop of
``cuda_ext.lif_step`` with the spikingjelly object as its spike function.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from spikingjelly.activation_based import surrogate as sj_surrogate

from cuda_ext import SURROGATES

__all__ = ["SurrogateSpec", "resolve_surrogate", "surrogate_names"]

# our name -> spikingjelly class (default alpha is spikingjelly's own default)
_NAMES: dict[str, type] = {
    "sigmoid": sj_surrogate.Sigmoid,
    "atan": sj_surrogate.ATan,
    "piecewise_quadratic": sj_surrogate.PiecewiseQuadratic,
    "piecewise_exp": sj_surrogate.PiecewiseExp,
    "soft_sign": sj_surrogate.SoftSign,
    "super_spike": sj_surrogate.SuperSpike,
    "erf": sj_surrogate.Erf,
}
_CLASS_TO_NAME = {cls: name for name, cls in _NAMES.items()}


@dataclass(frozen=True)
class SurrogateSpec:
    """A resolved surrogate: ``name`` (ours, or the spikingjelly class name when we have no alias),
    ``alpha`` (shape parameter) and ``fn``, the spikingjelly module (heaviside forward, surrogate
    backward) applied to ``h - v_threshold``."""

    name: str
    alpha: float
    fn: torch.nn.Module

    @property
    def fused(self) -> bool:
        """Whether the fused op ``cuda_ext.lif_multistep`` implements this surrogate."""
        return self.name in SURROGATES


def surrogate_names() -> tuple[str, ...]:
    """The surrogate names accepted as strings."""
    return tuple(_NAMES)


def resolve_surrogate(surrogate: str | torch.nn.Module = "sigmoid", alpha: float | None = None) -> SurrogateSpec:
    """Turn ``surrogate`` (a name from :func:`surrogate_names` or a spikingjelly
    ``SurrogateFunctionBase`` instance) into a :class:`SurrogateSpec`.

    ``alpha`` overrides the object's/default alpha when given; for an object it must agree with
    the object's own alpha (we never silently change a user's surrogate).
    """
    if isinstance(surrogate, str):
        key = surrogate.lower()
        if key not in _NAMES:
            raise ValueError(f"resolve_surrogate: unknown surrogate name (got {surrogate!r}); valid: {sorted(_NAMES)}")
        fn = _NAMES[key]() if alpha is None else _NAMES[key](alpha=float(alpha))
        return SurrogateSpec(key, float(fn.alpha), fn)
    if isinstance(surrogate, sj_surrogate.SurrogateFunctionBase):
        if not getattr(surrogate, "spiking", True):
            raise ValueError(
                "resolve_surrogate: the surrogate must be in spiking mode (got spiking=False, which "
                "returns the smooth primitive instead of spikes)"
            )
        own = float(getattr(surrogate, "alpha", float("nan")))
        if alpha is not None and float(alpha) != own:
            raise ValueError(
                f"resolve_surrogate: alpha={alpha} disagrees with the surrogate object's alpha (got {own}); "
                "pass one or the other"
            )
        name = _CLASS_TO_NAME.get(type(surrogate), type(surrogate).__name__)
        return SurrogateSpec(name, own, surrogate)
    raise TypeError(
        "resolve_surrogate: expected a surrogate name (str) or a spikingjelly SurrogateFunctionBase "
        f"(got {type(surrogate).__name__})"
    )
