"""Run configurations: SDDPM's published setups per data set, and a CPU-sized one for the digits."""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import nn

from .unet import SpikingUNet, UNet

__all__ = ["CPU_CONFIGS", "PAPER_CONFIGS", "SDDPMConfig"]


@dataclass(frozen=True)
class SDDPMConfig:
    """One training setup (defaults: SDDPM's ``main_SDDPM.py`` flags for CIFAR-10).

    ``batch_size`` is per process (the README trains on 8 GPUs); ``ema_decay`` is defined but never
    applied upstream, and applied here.
    """

    data: str = "cifar10"
    image_size: int = 32
    image_channels: int = 3
    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 2, 2, 4)
    num_res_blocks: int = 2
    T_snn: int = 4
    neuron: str = "if"
    num_steps: int = 1000
    beta_1: float = 1e-4
    beta_T: float = 0.02
    var_type: str = "fixedlarge"
    lr: float = 2e-4
    grad_clip: float = 1.0
    batch_size: int = 32
    total_steps: int = 500_000
    ema_decay: float = 0.9999

    def build(self, model: str = "spiking", **overrides) -> nn.Module:
        """The noise predictor: ``"spiking"`` (:class:`SpikingUNet`) or ``"ann"`` (its :class:`UNet` twin)."""
        common = {
            "image_channels": self.image_channels,
            "ch": self.ch,
            "ch_mult": self.ch_mult,
            "num_res_blocks": self.num_res_blocks,
            "num_steps": self.num_steps,
        }
        if model == "spiking":
            return SpikingUNet(**common, T_snn=self.T_snn, neuron=self.neuron, **overrides)
        if model == "ann":
            return UNet(**common, **overrides)
        raise ValueError(f"SDDPMConfig.build: model must be 'spiking' or 'ann' (got {model!r})")


_CIFAR = SDDPMConfig()
PAPER_CONFIGS: dict[str, SDDPMConfig] = {
    "cifar10": _CIFAR,
    "mnist": replace(_CIFAR, data="mnist", image_channels=1),
    "fashion-mnist": replace(_CIFAR, data="fashion-mnist", image_channels=1),
    "celeba": replace(_CIFAR, data="celeba", image_size=64),
}
CPU_CONFIGS: dict[str, SDDPMConfig] = {
    # ours: minutes per run on one CPU thread (16x16 digits, two levels, one block per level)
    "digits": replace(
        _CIFAR,
        data="digits",
        image_size=16,
        image_channels=1,
        ch=16,
        ch_mult=(1, 2),
        num_res_blocks=1,
        batch_size=32,
        lr=1e-3,
        total_steps=1000,
        ema_decay=0.999,
    ),
    "mnist5k": replace(
        _CIFAR,
        data="mnist5k",
        image_channels=1,
        ch=16,
        ch_mult=(1, 2, 2),
        num_res_blocks=1,
        batch_size=32,
        lr=1e-3,
        total_steps=2000,
        ema_decay=0.999,
    ),
}
