r"""The DDPM noise schedule and its closed forms (Ho, Jain & Abbeel, NeurIPS 2020, arXiv 2006.11239).

With :math:`\beta_t` linear from ``beta_1`` to ``beta_T`` over ``num_steps`` steps (indices
:math:`t = 0 \dots T-1`), :math:`\alpha_t = 1 - \beta_t`, :math:`\bar\alpha_t = \prod_{s \le t} \alpha_s`
and :math:`\bar\alpha_{-1} = 1`:

.. math::
    q(x_t \mid x_0) &= \mathcal N\big(\sqrt{\bar\alpha_t}\, x_0,\ (1 - \bar\alpha_t) I\big)  \quad\text{(eq. 4)}\\
    q(x_{t-1} \mid x_t, x_0) &= \mathcal N(\tilde\mu_t, \tilde\beta_t I),\quad
    \tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\beta_t}{1-\bar\alpha_t} x_0
                 + \frac{\sqrt{\alpha_t}(1-\bar\alpha_{t-1})}{1-\bar\alpha_t} x_t,\quad
    \tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\beta_t  \quad\text{(eqs. 6-7)}\\
    \hat x_0 &= \big(x_t - \sqrt{1-\bar\alpha_t}\,\epsilon\big) / \sqrt{\bar\alpha_t}

The coefficients are computed once in float64 (as the official SDDPM and pytorch-ddpm code do)
and cast to the input's dtype and device when gathered.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["VAR_TYPES", "NoiseSchedule"]

VAR_TYPES = ("fixedlarge", "fixedsmall")


def _check_t(fn: str, t: torch.Tensor) -> None:
    if not isinstance(t, torch.Tensor) or t.dtype not in (torch.int64, torch.int32):
        raise TypeError(
            f"{fn}: t must be an integer tensor of diffusion steps [B] (got "
            f"{t.dtype if isinstance(t, torch.Tensor) else type(t).__name__})"
        )
    if t.dim() != 1:
        raise ValueError(f"{fn}: t must have shape [B] (got {tuple(t.shape)})")


class NoiseSchedule(nn.Module):
    r"""Linear-beta DDPM schedule: :math:`\beta`, :math:`\bar\alpha` and the posterior coefficients.

    Args:
        num_steps: :math:`T`, the number of diffusion steps (1000 in DDPM and SDDPM).
        beta_1: first :math:`\beta` (1e-4).
        beta_T: last :math:`\beta` (0.02).

    Buffers (float64, ``[T]``, not saved in ``state_dict``: they follow from the arguments):
    ``betas``, ``alphas_bar``, ``alphas_bar_prev`` (:math:`\bar\alpha_{t-1}`, 1 at :math:`t=0`),
    ``posterior_variance`` (:math:`\tilde\beta_t`, 0 at :math:`t=0`), ``posterior_mean_coef1`` and
    ``posterior_mean_coef2``.

    Raises:
        ValueError: ``num_steps < 1``, or betas outside ``(0, 1)``.
    """

    def __init__(self, num_steps: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> None:
        super().__init__()
        if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(f"NoiseSchedule: num_steps must be a positive int (got {num_steps!r})")
        for name, b in (("beta_1", beta_1), ("beta_T", beta_T)):
            if not isinstance(b, (int, float)) or not 0.0 < b < 1.0 or math.isnan(b):
                raise ValueError(f"NoiseSchedule: {name} must be in (0, 1) (got {b!r})")
        self.num_steps, self.beta_1, self.beta_T = num_steps, float(beta_1), float(beta_T)
        betas = torch.linspace(self.beta_1, self.beta_T, num_steps, dtype=torch.float64)
        alphas_bar = torch.cumprod(1.0 - betas, dim=0)
        alphas_bar_prev = torch.cat([alphas_bar.new_ones(1), alphas_bar[:-1]])
        buffers = {
            "betas": betas,
            "alphas_bar": alphas_bar,
            "alphas_bar_prev": alphas_bar_prev,
            "posterior_variance": betas * (1.0 - alphas_bar_prev) / (1.0 - alphas_bar),
            "posterior_mean_coef1": alphas_bar_prev.sqrt() * betas / (1.0 - alphas_bar),
            "posterior_mean_coef2": (1.0 - betas).sqrt() * (1.0 - alphas_bar_prev) / (1.0 - alphas_bar),
        }
        for name, value in buffers.items():
            self.register_buffer(name, value, persistent=False)

    def gather(self, name: str, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Buffer ``name`` at steps ``t`` [B], shaped ``[B, 1, ...]`` to broadcast against ``like``,
        in ``like``'s dtype and device."""
        _check_t(f"NoiseSchedule.gather({name!r})", t)
        values = getattr(self, name).to(t.device)[t]  # [B]
        return values.to(like.dtype).view(-1, *([1] * (like.dim() - 1)))  # [B, 1, ..., 1]

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        r""":math:`x_t = \sqrt{\bar\alpha_t} x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon` (a sample of eq. 4)."""
        if noise.shape != x0.shape:
            raise ValueError(
                f"NoiseSchedule.q_sample: noise shape {tuple(noise.shape)} must equal x0 shape {tuple(x0.shape)}"
            )
        a = self.gather("alphas_bar", t, x0)
        return a.sqrt() * x0 + (1.0 - a).sqrt() * noise

    def q_posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Mean :math:`\tilde\mu_t(x_t, x_0)` and variance :math:`\tilde\beta_t` ([B, 1, ...]) of
        :math:`q(x_{t-1} \mid x_t, x_0)`."""
        mean = self.gather("posterior_mean_coef1", t, x_t) * x0 + self.gather("posterior_mean_coef2", t, x_t) * x_t
        return mean, self.gather("posterior_variance", t, x_t)

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        r""":math:`\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\epsilon)/\sqrt{\bar\alpha_t}`."""
        a = self.gather("alphas_bar", t, x_t)
        return (x_t - (1.0 - a).sqrt() * eps) / a.sqrt()

    def extra_repr(self) -> str:
        return f"num_steps={self.num_steps}, beta_1={self.beta_1}, beta_T={self.beta_T}"
