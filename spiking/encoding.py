r"""Encoders from real-valued inputs to time-major spike trains ``[T, *x.shape]``.

- :func:`bernoulli_encode` -- rate coding: at each step a neuron spikes with probability ``x``,
  ``u <= x`` with ``u ~ U[0, 1)`` (spikingjelly's ``PoissonEncoder``: ``rand_like(x).le(x)``).
- :func:`sparse_bernoulli_encode` -- the same distribution for ``[B, F]`` inputs, drawn only where
  a spike can occur and returned as coordinates (:class:`~spiking.sparse_spikes.SparseSpikes`).
- :func:`poisson_encode` -- Poisson-process rate coding: intensity ``x * max_rate`` events per step,
  spike when at least one event falls in the step, i.e. ``p = 1 - exp(-x * max_rate)``.
- :func:`repeat_encode` -- direct coding: the analog input repeated T times (the first layer then
  acts as the encoder).
- :func:`latency_encode` -- time-to-first-spike coding, one spike per neuron; strong inputs fire
  early. ``"linear"``: :math:`t_f = \mathrm{round}((T-1)(1-x))`; ``"log"``:
  :math:`t_f = \mathrm{round}((T-1) - \ln(a x + 1))` with :math:`a = e^{T-1}-1` (as spikingjelly's
  ``LatencyEncoder``); ``x = 0`` never fires.

Every stochastic encoder takes a ``torch.Generator`` on the input's device. Outputs follow the
input's dtype and device. Inputs that are probabilities must lie in ``[0, 1]`` (``ValueError``
otherwise: clip or normalise first).
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from spiking.sparse_spikes import SparseSpikes

__all__ = ["bernoulli_encode", "latency_encode", "poisson_encode", "repeat_encode", "sparse_bernoulli_encode"]


def _check(fn: str, x: Tensor, T: int, unit_interval: bool) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: x must be a tensor (got {type(x).__name__})")
    if not x.is_floating_point():
        raise TypeError(f"{fn}: x must be floating point (got {x.dtype})")
    if isinstance(T, bool) or not isinstance(T, int) or T <= 0:
        raise ValueError(f"{fn}: T must be a positive int (got {T!r})")
    if unit_interval and x.numel() and (x.min() < 0 or x.max() > 1 or torch.isnan(x).any()):
        raise ValueError(
            f"{fn}: x must lie in [0, 1] (got min {x.min().item():.4g}, max {x.max().item():.4g}); normalise first"
        )


def _check_gen(fn: str, generator: Optional[torch.Generator], x: Tensor) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")
    if generator is not None and generator.device.type != x.device.type:
        raise ValueError(f"{fn}: generator on {generator.device} but x on {x.device}")


def bernoulli_encode(
    x: Tensor, T: int, *, generator: Optional[torch.Generator] = None, uniform: Optional[Tensor] = None
) -> Tensor:
    """Rate coding: ``out[t] = [u[t] <= x]`` with ``u ~ U[0, 1)`` i.i.d. per step and entry.

    ``x`` [*] in [0, 1] -> [T, *]. ``uniform`` ([T, *], in [0, 1)) supplies the draws instead of
    ``generator`` (common random numbers, e.g. to test equivariance).
    """
    _check("bernoulli_encode", x, T, True)
    _check_gen("bernoulli_encode", generator, x)
    if uniform is None:
        uniform = torch.rand((T, *x.shape), generator=generator, dtype=x.dtype, device=x.device)  # [T, *]
    elif not isinstance(uniform, Tensor) or uniform.shape != (T, *x.shape):
        got = tuple(uniform.shape) if isinstance(uniform, Tensor) else type(uniform).__name__
        raise ValueError(f"bernoulli_encode: uniform must have shape {(T, *x.shape)} (got {got})")
    return (uniform <= x.unsqueeze(0)).to(x.dtype)


def _geometric_positions(rate: float, total: int, generator: Optional[torch.Generator], device) -> Tensor:
    """Sorted positions in ``[0, total)`` of i.i.d. Bernoulli(``rate``) successes, by geometric gaps."""
    if rate <= 0.0 or total == 0:
        return torch.empty(0, dtype=torch.int64, device=device)
    mean = rate * total
    chunks, end = [], -1
    while end < total - 1:
        n = int(mean + 6.0 * mean**0.5 + 64)
        gaps = torch.empty(n, dtype=torch.float64, device=device).geometric_(rate, generator=generator)
        pos = end + torch.cumsum(gaps.to(torch.int64), 0)  # gaps >= 1: strictly increasing
        chunks.append(pos)
        end = int(pos[-1])
    pos = torch.cat(chunks)
    return pos[pos < total]


def sparse_bernoulli_encode(x: Tensor, T: int, *, generator: Optional[torch.Generator] = None) -> SparseSpikes:
    r"""Rate coding of ``x`` ``[B, F]`` in [0, 1], returned as spike coordinates (:class:`SparseSpikes`).

    Every entry fires independently with probability :math:`x_{bf}` at each of the ``T`` steps,
    as :func:`bernoulli_encode`, but random numbers are drawn only where spikes can occur: with
    the floor :math:`c = \min_{b,f} x_{bf}` (e.g. SpikingGCN's +0.05 offset), entries equal to
    ``c`` fire as i.i.d. Bernoulli(:math:`c`) drawn by geometric gaps over the flattened
    ``[T, B, F]`` array (cost ~ number of spikes; draws landing on an entry above ``c`` are
    discarded), and entries above ``c`` are drawn directly, ``u < x``; zeros never fire. On
    Cora this draws ~4x fewer random numbers, and the synaptic current becomes a gather /
    scatter-add whose cost scales with the number of spikes. Spikes arrive unordered
    (``SparseSpikes.to_csr`` sorts them once, for reuse).
    """
    fn = "sparse_bernoulli_encode"
    _check(fn, x, T, True)
    _check_gen(fn, generator, x)
    if x.dim() != 2:
        raise ValueError(f"{fn}: x must be 2-D [B, F] (got shape {tuple(x.shape)})")
    B, F = x.shape
    c = float(x.min()) if x.numel() else 0.0
    above = x > c  # [B, F]
    b_idx, f_idx = above.nonzero(as_tuple=True)
    fire = torch.rand((T, b_idx.numel()), generator=generator, dtype=x.dtype, device=x.device) < x[b_idx, f_idx]
    t_s, k_s = fire.nonzero(as_tuple=True)  # [T, nnz] -> spikes of the entries above the floor
    rows = [t_s * B + b_idx[k_s]]
    cols = [f_idx[k_s]]
    if c > 0.0:
        pos = _geometric_positions(c, T * B * F, generator, x.device)
        row, col = pos // F, pos % F
        keep = ~above.view(-1)[(row % B) * F + col]
        rows.append(row[keep])
        cols.append(col[keep])
    return SparseSpikes(rows=torch.cat(rows), cols=torch.cat(cols), T=T, B=B, F=F)


def poisson_encode(x: Tensor, T: int, *, max_rate: float = 1.0, generator: Optional[torch.Generator] = None) -> Tensor:
    """Poisson rate coding: spike in a step with probability ``1 - exp(-x * max_rate)``.
    ``x`` [*] in [0, 1], ``max_rate`` > 0 (events per step at x = 1) -> [T, *]."""
    _check("poisson_encode", x, T, True)
    _check_gen("poisson_encode", generator, x)
    if not (isinstance(max_rate, (int, float)) and max_rate > 0 and math.isfinite(max_rate)):
        raise ValueError(f"poisson_encode: max_rate must be a finite number > 0 (got {max_rate!r})")
    p = -torch.expm1(-x * max_rate)  # [*]
    u = torch.rand((T, *x.shape), generator=generator, dtype=x.dtype, device=x.device)  # [T, *]
    return (u < p.unsqueeze(0)).to(x.dtype)


def repeat_encode(x: Tensor, T: int) -> Tensor:
    """Direct coding: ``x`` [*] -> ``x`` repeated, [T, *] (a contiguous copy)."""
    _check("repeat_encode", x, T, False)
    return x.unsqueeze(0).repeat(T, *([1] * x.dim()))


def latency_encode(x: Tensor, T: int, *, mode: str = "linear") -> Tensor:
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
