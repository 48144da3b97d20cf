r"""The SDDPM spiking U-Net (Cao et al., WACV 2024, arXiv 2306.17046) and its ANN twin."""

from __future__ import annotations

from functools import partial

import torch
from spikingjelly.activation_based import functional as sj_functional
from torch import nn

from .blocks import DownSample, ResBlock, UpSample
from .embedding import TimeEmbedding
from .layers import (
    ACTIVATIONS,
    SPIKING_ACTIVATIONS,
    MembraneOutputLayer,
    SeqBatchNorm2d,
    SeqConv2d,
    TemporalOutputLayer,
    make_activation,
)

__all__ = ["SpikingUNet", "UNet"]


def _positive_int(fn: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int (got {value!r})")
    return value


class _UNetBase(nn.Module):
    """Shared body; see :class:`SpikingUNet` (``T`` steps, spiking activation) and :class:`UNet` (``T = 1``)."""

    _name = "UNet"

    def __init__(
        self,
        image_channels: int,
        ch: int,
        ch_mult: tuple[int, ...],
        num_res_blocks: int,
        attn: tuple[int, ...],
        activation: str,
        T: int,
        num_steps: int,
        tsm: bool,
        output_decay: float,
        temporal_kernel: int,
        heads: int,
        act_kwargs: dict,
    ) -> None:
        super().__init__()
        fn = self._name
        _positive_int(fn, "image_channels", image_channels)
        if _positive_int(fn, "ch", ch) % 2:
            raise ValueError(f"{fn}: ch must be even (the sinusoidal embedding has ch columns) (got {ch})")
        ch_mult, attn = tuple(ch_mult), tuple(attn)
        if not ch_mult or any(isinstance(m, bool) or not isinstance(m, int) or m < 1 for m in ch_mult):
            raise ValueError(f"{fn}: ch_mult must be a non-empty tuple of positive ints (got {ch_mult!r})")
        if any(not isinstance(i, int) or not 0 <= i < len(ch_mult) for i in attn):
            raise ValueError(f"{fn}: attn must hold level indices in [0, {len(ch_mult) - 1}] (got {attn!r})")
        _positive_int(fn, "num_res_blocks", num_res_blocks)
        _positive_int(fn, "num_steps", num_steps)
        if activation not in ACTIVATIONS:
            raise ValueError(f"{fn}: activation must be one of {list(ACTIVATIONS)} (got {activation!r})")
        self.image_channels, self.ch, self.ch_mult, self.num_res_blocks = image_channels, ch, ch_mult, num_res_blocks
        self.attn, self.activation, self.T, self.num_steps, self.tsm = attn, activation, T, num_steps, bool(tsm)
        self.output_decay, self.temporal_kernel, self.heads = output_decay, temporal_kernel, heads
        self.downsample_factor = 2 ** (len(ch_mult) - 1)
        act = partial(make_activation, activation, **act_kwargs)
        tdim = 4 * ch

        self.time_embedding = TimeEmbedding(num_steps, ch, tdim)
        self.head_conv, self.head_bn = SeqConv2d(image_channels, ch, 3, 1, 1, T, tsm), SeqBatchNorm2d(ch)
        self.head_act = act()
        self.head_conv2 = SeqConv2d(ch, ch, 3, 1, 1, T, tsm, init="default")  # official conv_identity
        self.head_bn2 = SeqBatchNorm2d(ch)
        block = partial(ResBlock, tdim=tdim, act=act, T=T, tsm=tsm, heads=heads)

        self.downblocks = nn.ModuleList()
        chs, now = [ch], ch  # widths of the skip connections
        for i, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                self.downblocks.append(block(now, ch * mult, attn=i in attn))
                now = ch * mult
                chs.append(now)
            if i != len(ch_mult) - 1:
                self.downblocks.append(DownSample(now, act, T, tsm))
                chs.append(now)
        self.middleblocks = nn.ModuleList([block(now, now), block(now, now)])
        self.upblocks = nn.ModuleList()
        for i, mult in reversed(list(enumerate(ch_mult))):
            for _ in range(num_res_blocks + 1):
                self.upblocks.append(block(chs.pop() + now, ch * mult, attn=i in attn))
                now = ch * mult
            if i != 0:
                self.upblocks.append(UpSample(now, act, T, tsm))
        self.tail_bn, self.tail_act = SeqBatchNorm2d(now), nn.SiLU()
        self.tail_conv = SeqConv2d(now, image_channels, 3, 1, 1, T, tsm, gain=1e-5)
        self.temporal_output = TemporalOutputLayer(image_channels, temporal_kernel)
        self.membrane_output = MembraneOutputLayer(T, output_decay)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """SDDPM's initialisation: Xavier-uniform convs and linears with zero bias (the tail conv with
        gain 1e-5), PyTorch's default for the second head conv and the output Conv3d, fresh batch norms."""
        for m in (
            self.time_embedding,
            self.head_conv,
            self.head_bn,
            self.head_conv2,
            self.head_bn2,
            *self.downblocks,
            *self.middleblocks,
            *self.upblocks,
            self.tail_bn,
            self.tail_conv,
            self.temporal_output,
        ):
            m.reset_parameters()

    def check_image_size(self, height: int, width: int) -> None:
        """Raise ``ValueError`` unless ``height`` and ``width`` divide by ``2 ** (len(ch_mult) - 1)``."""
        f = self.downsample_factor
        if height % f or width % f or height < f or width < f:
            raise ValueError(
                f"{self._name}: image height and width must be multiples of 2**(len(ch_mult)-1) = {f} "
                f"for ch_mult={self.ch_mult} (got {height}x{width})"
            )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        fn = f"{self._name}.forward"
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 4:
            raise ValueError(
                f"{fn}: x must be a floating-point batch [B, C, H, W] "
                f"(got {tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__})"
            )
        if x.shape[1] != self.image_channels:
            raise ValueError(f"{fn}: expected {self.image_channels} image channels (got shape {tuple(x.shape)})")
        self.check_image_size(x.shape[2], x.shape[3])
        if not isinstance(t, torch.Tensor) or t.dtype != torch.long or t.shape != (x.shape[0],):
            raise ValueError(
                f"{fn}: t must be a long tensor of diffusion steps of shape [{x.shape[0]}] (got "
                f"{(t.dtype, tuple(t.shape)) if isinstance(t, torch.Tensor) else type(t).__name__})"
            )
        sj_functional.reset_net(self)  # every call is one complete T-step episode
        temb = self.time_embedding(t)  # [B, tdim]
        h = x.unsqueeze(0).expand(self.T, *x.shape)  # direct encoding: the image at every step, [T, B, C, H, W]
        h = self.head_bn(self.head_conv(h))
        h = self.head_bn2(self.head_conv2(self.head_act(h)))
        hs = [h]
        for layer in self.downblocks:
            h = layer(h, temb)
            hs.append(h)
        for layer in self.middleblocks:
            h = layer(h, temb)
        for layer in self.upblocks:
            if isinstance(layer, ResBlock):
                h = torch.cat([h, hs.pop()], dim=2)  # [T, B, C + C_skip, H, W]
            h = layer(h, temb)
        h = self.tail_conv(self.tail_act(self.tail_bn(h)))  # [T, B, C_img, H, W]
        return self.membrane_output(self.temporal_output(h))  # [B, C_img, H, W]

    def extra_repr(self) -> str:
        return (
            f"image_channels={self.image_channels}, ch={self.ch}, ch_mult={self.ch_mult}, "
            f"num_res_blocks={self.num_res_blocks}, attn={self.attn}, num_steps={self.num_steps}, "
            f"temporal_kernel={self.temporal_kernel}, heads={self.heads}"
        )


class SpikingUNet(_UNetBase):
    r"""Spiking U-Net noise predictor of SDDPM: ``x_t`` [B, C, H, W], ``t`` (long [B]) -> :math:`\epsilon` [B, C, H, W].

    Layout (official ``model/SpikingUNet.py``, ``Spk_UNet``): the image is repeated over ``T_snn``
    steps (direct encoding); head conv-BN-neuron-conv-BN; per level ``num_res_blocks``
    :class:`~spiking.diffusion.blocks.ResBlock` (neuron-conv-BN, + step embedding, neuron-conv-BN,
    + shortcut) and a stride-2 :class:`~spiking.diffusion.blocks.DownSample` between levels; two
    middle blocks; the mirrored up path with skip concatenation and nearest-neighbour
    :class:`~spiking.diffusion.blocks.UpSample`; tail BN-SiLU-conv (Xavier gain 1e-5); then
    :class:`~spiking.diffusion.layers.TemporalOutputLayer` and the membrane read-out
    :class:`~spiking.diffusion.layers.MembraneOutputLayer`
    :math:`\epsilon = \sum_t 0.8^{T-1-t} h[t]`. The step embedding is sinusoidal -> MLP
    (:class:`~spiking.diffusion.embedding.TimeEmbedding`, width ``4 ch``), added as a real value.

    Args:
        image_channels: C (3 for CIFAR-10/CelebA, 1 for (Fashion-)MNIST and digits).
        ch: base width (128 in SDDPM); ch_mult: width per level ((1, 2, 2, 4)); num_res_blocks: per level (2).
        attn: levels with :class:`~spiking.diffusion.attention.SpikingSelfAttention2d` (none in SDDPM).
        T_snn: SNN time steps per call (4 in SDDPM).
        neuron: ``"if"`` (SDDPM) or ``"lif"`` (``tau``), from :mod:`spiking.neurons`, hard reset to 0,
            ``surrogate`` ("atan", alpha 2, as SDDPM), ``v_threshold`` (1.0), ``detach_reset``.
        num_steps: diffusion steps T of the embedding table (1000).
        tsm: SDM's temporal-wise spiking mechanism (learnable per-step scale after every conv but the
            output layer; Cao et al., IEEE TAI 2024).
        output_decay: membrane read-out decay (0.8); temporal_kernel: time extent of the output
            Conv3d (1 as the official code); heads: attention heads.

    Shapes: x [B, C, H, W] with H and W multiples of ``2 ** (len(ch_mult) - 1)``; t [B] -> [B, C, H, W].

    Raises:
        ValueError: ``T_snn <= 0``, bad widths/levels/attention indices/neuron, an image size the
            downsampling cannot divide, a wrong channel count or ``t``.

    Each call is a complete ``T_snn``-step episode: neuron states are reset at its start (so
    ``reset_net`` between calls is harmless but not required). Threshold guidance:
    :func:`~spiking.diffusion.guidance.threshold_shift`.

    Differences from the official code: our neurons (:mod:`spiking.neurons`, spikingjelly-compatible);
    the unused ``dropout`` argument is dropped; the optional attention is defined (it is missing
    upstream); the input is expanded, not copied, over ``T``.
    """

    _name = "SpikingUNet"

    def __init__(
        self,
        image_channels: int = 3,
        ch: int = 128,
        ch_mult: tuple[int, ...] = (1, 2, 2, 4),
        num_res_blocks: int = 2,
        attn: tuple[int, ...] = (),
        T_snn: int = 4,
        neuron: str = "if",
        tau: float = 2.0,
        v_threshold: float = 1.0,
        surrogate: str = "atan",
        detach_reset: bool = False,
        num_steps: int = 1000,
        tsm: bool = False,
        output_decay: float = 0.8,
        temporal_kernel: int = 1,
        heads: int = 1,
    ) -> None:
        _positive_int("SpikingUNet", "T_snn", T_snn)
        if neuron not in SPIKING_ACTIVATIONS:
            raise ValueError(f"SpikingUNet: neuron must be one of {list(SPIKING_ACTIVATIONS)} (got {neuron!r})")
        kwargs = {"v_threshold": v_threshold, "surrogate": surrogate, "detach_reset": detach_reset}
        if neuron == "lif":
            kwargs["tau"] = tau
        super().__init__(
            image_channels,
            ch,
            ch_mult,
            num_res_blocks,
            attn,
            neuron,
            T_snn,
            num_steps,
            tsm,
            output_decay,
            temporal_kernel,
            heads,
            kwargs,
        )
        self.T_snn, self.neuron, self.tau, self.v_threshold = T_snn, neuron, tau, v_threshold
        self.surrogate, self.detach_reset = surrogate, detach_reset

    def extra_repr(self) -> str:
        return (
            super().extra_repr() + f", T_snn={self.T_snn}, neuron={self.neuron!r}, tau={self.tau}, "
            f"v_threshold={self.v_threshold}, surrogate={self.surrogate!r}, detach_reset={self.detach_reset}, "
            f"tsm={self.tsm}, output_decay={self.output_decay}"
        )


class UNet(_UNetBase):
    r"""The ANN twin of :class:`SpikingUNet`: the same layout and widths, one step (``T = 1``, so the
    membrane read-out is the identity), spiking neurons replaced by ``activation`` (``"silu"``, the
    DDPM choice, or ``"relu"``). Same arguments otherwise; ``x`` [B, C, H, W], ``t`` [B] -> [B, C, H, W].

    It keeps SDDPM's batch norm (a standard DDPM U-Net uses group norm and attention at 16x16); it
    is the "same U-Net as an ANN" control, not a reproduction of DDPM's network.
    """

    _name = "UNet"

    def __init__(
        self,
        image_channels: int = 3,
        ch: int = 128,
        ch_mult: tuple[int, ...] = (1, 2, 2, 4),
        num_res_blocks: int = 2,
        attn: tuple[int, ...] = (),
        activation: str = "silu",
        num_steps: int = 1000,
        temporal_kernel: int = 1,
        heads: int = 1,
    ) -> None:
        if activation in SPIKING_ACTIVATIONS:
            raise ValueError(
                f"UNet: activation must be 'relu' or 'silu' (got {activation!r}); "
                f"use SpikingUNet(neuron={activation!r})"
            )
        super().__init__(
            image_channels,
            ch,
            ch_mult,
            num_res_blocks,
            attn,
            activation,
            1,
            num_steps,
            False,
            0.8,
            temporal_kernel,
            heads,
            {},
        )

    def extra_repr(self) -> str:
        return super().extra_repr() + f", activation={self.activation!r}"

    @classmethod
    def twin_of(cls, model: SpikingUNet, activation: str = "silu") -> UNet:
        """A freshly initialised ANN twin with ``model``'s layout and widths."""
        if not isinstance(model, SpikingUNet):
            raise TypeError(f"UNet.twin_of: expected a SpikingUNet (got {type(model).__name__})")
        return cls(
            model.image_channels,
            model.ch,
            model.ch_mult,
            model.num_res_blocks,
            model.attn,
            activation,
            model.num_steps,
            model.temporal_kernel,
            model.heads,
        )
