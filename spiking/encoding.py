"""Encoders from real-valued inputs to time-major spike trains ``[T, *x.shape]``.

- :func:`bernoulli_encode` — rate coding: at each step a neuron spikes with probability ``x``
  (what spikingjelly calls ``PoissonEncoder``).
- :func:`poisson_encode` — Poisson-process rate coding: intensity ``x * max_rate`` events per step,
  spike when at least one event falls in the step, i.e. ``p = 1 - exp(-x * max_rate)``.
- :func:`repeat_encode` — direct coding: the analog input repeated T times (the first layer then
  acts as the encoder).
- :func:`latency_encode` — time-to-first-spike coding, one spike per neuron; strong inputs fire
  early. ``"linear"``: :math:`t_f = \\mathrm{round}((T-1)(1-x))`; ``"log"``:
  :math:`t_f = \\mathrm{round}((T-1) - \\ln(a x + 1))` with :math:`a = e^{T-1}-1` (as spikingjelly's
  ``LatencyEncoder``); ``x = 0`` never fires.

Every stochastic encoder takes a ``torch.Generator`` on the input's device. Outputs follow the
input's dtype and device.
"""
from __future__ import annotations

import math

import torch


def _check(fn: str, x: torch.Tensor, T: int, unit_interval: bool) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn}: x must be a tensor (got {type(x).__name__})")
    if not x.is_floating_point():
        raise TypeError(f"{fn}: x must be floating point (got {x.dtype})")
    if isinstance(T, bool) or not isinstance(T, int) or T <= 0:
        raise ValueError(f"{fn}: T must be a positive int (got {T!r})")
    if unit_interval and x.numel() and (x.min() < 0 or x.max() > 1 or torch.isnan(x).any()):
        raise ValueError(
            f"{fn}: x must lie in [0, 1] (got min {x.min().item():.4g}, max {x.max().item():.4g}); normalise first"
        )


def _check_gen(fn: str, generator: torch.Generator | None, x: torch.Tensor) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")
    if generator is not None and generator.device.type != x.device.type:
        raise ValueError(f"{fn}: generator on {generator.device} but x on {x.device}")


def bernoulli_encode(x: torch.Tensor, T: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rate coding: ``out[t] ~ Bernoulli(x)`` independently per step. ``x`` [*] in [0, 1] -> [T, *]."""
    _check("bernoulli_encode", x, T, True)
    _check_gen("bernoulli_encode", generator, x)
    u = torch.rand((T, *x.shape), generator=generator, dtype=x.dtype, device=x.device)  # [T, *]
    return (u < x.unsqueeze(0)).to(x.dtype)


def poisson_encode(x: torch.Tensor, T: int, *, max_rate: float = 1.0,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Poisson rate coding: spike in a step with probability ``1 - exp(-x * max_rate)``.
    ``x`` [*] in [0, 1], ``max_rate`` > 0 (events per step at x = 1) -> [T, *]."""
    _check("poisson_encode", x, T, True)
    _check_gen("poisson_encode", generator, x)
    if not (isinstance(max_rate, (int, float)) and max_rate > 0 and math.isfinite(max_rate)):
        raise ValueError(f"poisson_encode: max_rate must be a finite number > 0 (got {max_rate!r})")
    p = -torch.expm1(-x * max_rate)  # [*]
    u = torch.rand((T, *x.shape), generator=generator, dtype=x.dtype, device=x.device)  # [T, *]
    return (u < p.unsqueeze(0)).to(x.dtype)


def repeat_encode(x: torch.Tensor, T: int) -> torch.Tensor:
    """Direct coding: ``x`` [*] -> ``x`` repeated, [T, *] (a contiguous copy)."""
    _check("repeat_encode", x, T, False)
    return x.unsqueeze(0).repeat(T, *([1] * x.dim()))


def latency_encode(x: torch.Tensor, T: int, *, mode: str = "linear") -> torch.Tensor:
    """Time-to-first-spike coding; ``x`` [*] in [0, 1] -> one-hot over time [T, *] (0 never fires)."""
    _check("latency_encode", x, T, True)
    if mode == "linear":
        t_f = torch.round((T - 1) * (1.0 - x))
    elif mode == "log":
        a = math.expm1(T - 1)
        t_f = torch.round((T - 1) - torch.log(a * x + 1.0))
    else:
        raise ValueError(f"latency_encode: mode must be 'linear' or 'log' (got {mode!r})")
    t = torch.arange(T, device=x.device, dtype=x.dtype).view(T, *([1] * x.dim()))  # [T, 1, ...]
    return ((t == t_f.unsqueeze(0)) & (x.unsqueeze(0) > 0)).to(x.dtype)
