r"""``GaussianDiffusion``: an epsilon-prediction DDPM around any noise-prediction network.

Training (Ho et al. 2020, Algorithm 1): :math:`t \sim U\{0..T-1\}`, :math:`\epsilon \sim \mathcal N(0, I)`,
:math:`L = \lVert \epsilon - \epsilon_\theta(\sqrt{\bar\alpha_t}x_0 + \sqrt{1-\bar\alpha_t}\epsilon, t)\rVert^2`
(mean over pixels and batch). Sampling: :func:`~spiking.diffusion.samplers.ddpm_sample` or
:func:`~spiking.diffusion.samplers.ddim_sample`.
"""

from __future__ import annotations

import torch
from spikingjelly.activation_based import functional as sj_functional
from torch import nn

from .samplers import SAMPLERS, ddim_sample, ddpm_sample
from .schedule import VAR_TYPES, NoiseSchedule

__all__ = ["GaussianDiffusion"]


class GaussianDiffusion(nn.Module):
    r"""DDPM with :math:`\epsilon`-prediction around ``model(x_t, t) -> eps``, SDDPM's setup.

    Args:
        model: the noise predictor, ``x_t`` [B, C, H, W] and ``t`` (long [B]) -> epsilon [B, C, H, W]
            (e.g. :class:`~spiking.diffusion.unet.SpikingUNet` or its ANN twin :class:`~spiking.diffusion.unet.UNet`).
        num_steps: :math:`T` (1000); beta_1, beta_T: the linear schedule (1e-4, 0.02).
        var_type: ``"fixedlarge"`` (:math:`\sigma^2_t = \beta_t`, SDDPM's choice) or ``"fixedsmall"``
            (:math:`\tilde\beta_t`) for the DDPM sampler.
        clip_x0: clip :math:`\hat x_0` to [-1, 1] while sampling (as the official code).

    Spiking state: spikingjelly's ``reset_net`` is applied to ``model`` after every model call, as in
    the official training and sampling loops.

    Example:
        >>> from spiking.diffusion import GaussianDiffusion, SpikingUNet
        >>> net = SpikingUNet(image_channels=1, ch=8, ch_mult=(1, 2), num_res_blocks=1, T_snn=2)
        >>> ddpm = GaussianDiffusion(net, num_steps=100)
        >>> loss = ddpm.loss(torch.rand(4, 1, 8, 8) * 2 - 1)
        >>> x = ddpm.sample((2, 1, 8, 8), sampler="ddim", steps=5)   # [2, 1, 8, 8] in [-1, 1]
    """

    def __init__(
        self,
        model: nn.Module,
        num_steps: int = 1000,
        beta_1: float = 1e-4,
        beta_T: float = 0.02,
        var_type: str = "fixedlarge",
        clip_x0: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"GaussianDiffusion: model must be an nn.Module (got {type(model).__name__})")
        if var_type not in VAR_TYPES:
            raise ValueError(f"GaussianDiffusion: var_type must be one of {list(VAR_TYPES)} (got {var_type!r})")
        self.model = model
        self.schedule = NoiseSchedule(num_steps, beta_1, beta_T)
        self.num_steps, self.beta_1, self.beta_T = num_steps, float(beta_1), float(beta_T)
        self.var_type, self.clip_x0 = var_type, bool(clip_x0)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Nothing to reset: the schedule has no parameters and a given ``model`` is left as it is."""

    def eps(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """One model call :math:`\\epsilon_\\theta(x_t, t)`, then ``reset_net(model)``."""
        try:
            return self.model(x_t, t)
        finally:
            sj_functional.reset_net(self.model)

    def loss(self, x0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Algorithm 1 on a batch ``x0`` [B, C, H, W] in [-1, 1]; returns the mean squared error (a scalar).

        A non-finite ``x0`` or model output gives a non-finite loss (nothing is masked);
        :class:`~spiking.diffusion.train.DiffusionTrainer` refuses it before the update."""
        if not isinstance(x0, torch.Tensor) or not x0.is_floating_point() or x0.dim() != 4:
            raise ValueError(
                "GaussianDiffusion.loss: x0 must be a floating-point batch [B, C, H, W] (got "
                f"{tuple(x0.shape) if isinstance(x0, torch.Tensor) else type(x0).__name__})"
            )
        t = torch.randint(self.num_steps, (x0.shape[0],), generator=generator, device=x0.device)
        noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
        x_t = self.schedule.q_sample(x0, t, noise)
        return nn.functional.mse_loss(self.eps(x_t, t), noise)

    @torch.no_grad()
    def sample(
        self,
        shape: tuple[int, ...] | None = None,
        *,
        sampler: str = "ddpm",
        steps: int | None = None,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
        x_T: torch.Tensor | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Generate images [B, C, H, W] in [-1, 1] from ``x_T ~ N(0, I)`` of ``shape`` (or a given ``x_T``).

        Args:
            sampler: ``"ddpm"`` (ancestral, ``var_type``) or ``"ddim"`` (``eta``).
            steps: model calls; ``None`` gives all ``num_steps`` for DDPM and 50 for DDIM.
            eta: DDIM stochasticity in [0, 1]; generator: for ``x_T`` and the sampling noise.

        The model runs in eval mode (batch norm on running statistics); its mode is restored after.

        Raises:
            ValueError: unknown ``sampler``, neither or both of ``shape``/``x_T``, bad ``steps``/``eta``.
        """
        if sampler not in SAMPLERS:
            raise ValueError(f"GaussianDiffusion.sample: sampler must be one of {list(SAMPLERS)} (got {sampler!r})")
        if (shape is None) == (x_T is None):
            raise ValueError(
                "GaussianDiffusion.sample: give exactly one of shape and x_T "
                f"(got shape={shape!r}, x_T={'a tensor' if x_T is not None else None})"
            )
        if x_T is None:
            if device is None:
                device = next((p.device for p in self.model.parameters()), torch.device("cpu"))
            x_T = torch.randn(tuple(shape), generator=generator, dtype=dtype, device=device)
        was_training = self.model.training
        self.model.eval()
        try:
            if sampler == "ddpm":
                return ddpm_sample(
                    self.eps,
                    self.schedule,
                    x_T,
                    steps=steps,
                    var_type=self.var_type,
                    clip_x0=self.clip_x0,
                    generator=generator,
                )
            return ddim_sample(
                self.eps,
                self.schedule,
                x_T,
                steps=50 if steps is None else steps,
                eta=eta,
                clip_x0=self.clip_x0,
                generator=generator,
            )
        finally:
            self.model.train(was_training)

    def extra_repr(self) -> str:
        return (
            f"num_steps={self.num_steps}, beta_1={self.beta_1}, beta_T={self.beta_T}, "
            f"var_type={self.var_type!r}, clip_x0={self.clip_x0}"
        )
