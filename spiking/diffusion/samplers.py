r"""Ancestral DDPM and DDIM sampling over a (possibly respaced) sequence of diffusion steps.

Both samplers walk a decreasing sequence :math:`\tau_S > \dots > \tau_1` of steps (all ``T`` steps
by default) and write each update with :math:`\bar\alpha_t` of the current step and
:math:`\bar\alpha_s` of the next one (:math:`\bar\alpha_{-1} = 1` after the last), so the
respaced chain has :math:`\beta_{t|s} = 1 - \bar\alpha_t / \bar\alpha_s` (Nichol & Dhariwal 2021,
sec. 4); with every step, :math:`\beta_{t|t-1} = \beta_t` and this is Algorithm 2 of DDPM.

* **DDPM** (Ho et al. 2020, Algorithm 2, :math:`\epsilon`-prediction): :math:`\hat x_0` from
  :math:`\epsilon_\theta`, clipped to [-1, 1], then :math:`x_s \sim \mathcal N(\tilde\mu(x_t, \hat x_0),
  \sigma^2)` with :math:`\sigma^2 = \beta_{t|s}` (``"fixedlarge"``, the SDDPM default) or
  :math:`\tilde\beta_{t|s} = \frac{1-\bar\alpha_s}{1-\bar\alpha_t}\beta_{t|s}` (``"fixedsmall"``);
  no noise on the last step.
* **DDIM** (Song, Meng & Ermon, ICLR 2021, eq. 12):
  :math:`x_s = \sqrt{\bar\alpha_s}\hat x_0 + \sqrt{1-\bar\alpha_s-\sigma^2}\,\epsilon_\theta + \sigma z`,
  :math:`\sigma = \eta\sqrt{(1-\bar\alpha_s)/(1-\bar\alpha_t)}\sqrt{1-\bar\alpha_t/\bar\alpha_s}`;
  :math:`\eta = 0` is deterministic; with :math:`\eta = 1` (and no clipping) one step is exactly a
  DDPM ``"fixedsmall"`` step.

Both return :math:`\hat x_0` of the last step, in [-1, 1] when ``clip_x0``.

Differences from the official SDDPM ``GaussianDiffusionSampler``: its respaced "ddpm" type keeps
the one-step posterior coefficients of step :math:`t` whatever the stride (its "ddpm2" type is the
respaced chain used here); its step list ``int(T-1-(T/S)x)`` plus a final 0 makes ``S+1`` model
calls, ours is ``round(linspace(T-1, 0, S))`` with ``S`` calls; its DDIM hard-codes :math:`\eta = 0`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .schedule import VAR_TYPES, NoiseSchedule

__all__ = ["SAMPLERS", "ddim_sample", "ddpm_sample", "timestep_sequence"]

SAMPLERS = ("ddpm", "ddim")
EpsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def timestep_sequence(num_steps: int, steps: int | None = None) -> list[int]:
    """Decreasing diffusion steps visited by a sampler: all ``num_steps`` (``steps=None``) or
    ``steps`` of them evenly spaced from ``num_steps - 1`` down to 0."""
    if steps is None:
        steps = num_steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= num_steps:
        raise ValueError(f"timestep_sequence: steps must be an int in [1, {num_steps}] (got {steps!r})")
    if steps == 1:
        return [num_steps - 1]
    seq = torch.linspace(num_steps - 1, 0, steps, dtype=torch.float64).round().long().tolist()
    return list(dict.fromkeys(seq))  # strictly decreasing (rounding cannot repeat for steps <= num_steps)


def _pairs(schedule: NoiseSchedule, steps: int | None) -> list[tuple[int, float, float]]:
    """``(t, alpha_bar_t, alpha_bar_s)`` for each step, ``s`` the next step (``alpha_bar = 1`` after the last)."""
    seq = timestep_sequence(schedule.num_steps, steps)
    ab = schedule.alphas_bar.tolist()
    return [(t, ab[t], ab[seq[i + 1]] if i + 1 < len(seq) else 1.0) for i, t in enumerate(seq)]


def _x0(x_t: torch.Tensor, eps: torch.Tensor, ab_t: float, clip: bool) -> torch.Tensor:
    x0 = (x_t - (1.0 - ab_t) ** 0.5 * eps) / ab_t**0.5
    return x0.clamp(-1.0, 1.0) if clip else x0


def _eps(eps_fn: EpsFn, x_t: torch.Tensor, t: int, fn: str) -> torch.Tensor:
    t_batch = torch.full((x_t.shape[0],), t, dtype=torch.long, device=x_t.device)
    eps = eps_fn(x_t, t_batch)
    if not isinstance(eps, torch.Tensor) or eps.shape != x_t.shape:
        got = tuple(eps.shape) if isinstance(eps, torch.Tensor) else type(eps).__name__
        raise ValueError(f"{fn}: the model must return epsilon of the input's shape {tuple(x_t.shape)} (got {got})")
    return eps


def _check(fn: str, x_T: torch.Tensor, schedule: NoiseSchedule) -> None:
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"{fn}: schedule must be a NoiseSchedule (got {type(schedule).__name__})")
    if not isinstance(x_T, torch.Tensor) or not x_T.is_floating_point() or x_T.dim() < 2:
        raise TypeError(
            f"{fn}: x_T must be a floating-point tensor [B, ...] (got "
            f"{tuple(x_T.shape) if isinstance(x_T, torch.Tensor) else type(x_T).__name__})"
        )


def _noise(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(like.shape, generator=generator, dtype=like.dtype, device=like.device)


@torch.no_grad()
def ddpm_sample(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    x_T: torch.Tensor,
    *,
    steps: int | None = None,
    var_type: str = "fixedlarge",
    clip_x0: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Ancestral DDPM sampling from ``x_T`` [B, ...] (see the module docstring); returns x_0 [B, ...].

    ``eps_fn(x_t, t)`` gets ``x_t`` [B, ...] and ``t`` (long [B]) and returns epsilon [B, ...].
    ``steps``: number of model calls (respaced chain), all ``T`` by default.
    """
    _check("ddpm_sample", x_T, schedule)
    if var_type not in VAR_TYPES:
        raise ValueError(f"ddpm_sample: var_type must be one of {list(VAR_TYPES)} (got {var_type!r})")
    x = x_T
    for t, ab_t, ab_s in _pairs(schedule, steps):
        eps = _eps(eps_fn, x, t, "ddpm_sample")
        x0 = _x0(x, eps, ab_t, clip_x0)
        if ab_s == 1.0:  # last step: the posterior mean is x0 itself, no noise
            return x0
        beta = 1.0 - ab_t / ab_s  # beta_{t|s}
        mean = (ab_s**0.5 * beta / (1.0 - ab_t)) * x0 + ((ab_t / ab_s) ** 0.5 * (1.0 - ab_s) / (1.0 - ab_t)) * x
        var = beta if var_type == "fixedlarge" else beta * (1.0 - ab_s) / (1.0 - ab_t)
        x = mean + var**0.5 * _noise(x, generator)
    return x  # unreachable: the last pair has ab_s == 1


@torch.no_grad()
def ddim_sample(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    x_T: torch.Tensor,
    *,
    steps: int | None = 50,
    eta: float = 0.0,
    clip_x0: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """DDIM sampling from ``x_T`` [B, ...] with ``steps`` model calls (50, as SDM; ``None``: all T)
    and stochasticity ``eta`` (0: deterministic); returns x_0 [B, ...]."""
    _check("ddim_sample", x_T, schedule)
    if not isinstance(eta, (int, float)) or isinstance(eta, bool) or not 0.0 <= eta <= 1.0:
        raise ValueError(f"ddim_sample: eta must be a float in [0, 1] (got {eta!r})")
    x = x_T
    for t, ab_t, ab_s in _pairs(schedule, steps):
        eps = _eps(eps_fn, x, t, "ddim_sample")
        x0 = _x0(x, eps, ab_t, clip_x0)
        if ab_s == 1.0:
            return x0
        sigma = eta * ((1.0 - ab_s) / (1.0 - ab_t) * (1.0 - ab_t / ab_s)) ** 0.5
        x = ab_s**0.5 * x0 + max(1.0 - ab_s - sigma**2, 0.0) ** 0.5 * eps
        if sigma > 0:
            x = x + sigma * _noise(x, generator)
    return x
