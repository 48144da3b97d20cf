r"""Time-major layers of the SDDPM U-Net: per-step conv (with SDM's temporal-wise scale), batch norm,
activations (spiking or not), and the two output layers.

All tensors are time-major ``[T, B, C, H, W]``; the ANN twin runs the same layers with ``T = 1``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from spiking.neurons import IF, LIF

__all__ = [
    "ACTIVATIONS",
    "SPIKING_ACTIVATIONS",
    "MembraneOutputLayer",
    "SeqBatchNorm2d",
    "SeqConv2d",
    "TemporalOutputLayer",
    "make_activation",
]

SPIKING_ACTIVATIONS = ("if", "lif")
ACTIVATIONS = SPIKING_ACTIVATIONS + ("relu", "silu")


def make_activation(
    kind: str, *, tau: float = 2.0, v_threshold: float = 1.0, surrogate: str = "atan", detach_reset: bool = False
) -> nn.Module:
    """A multi-step spiking neuron (``"if"``, ``"lif"``; hard reset to 0, SDDPM uses IF with ATan) or an
    elementwise ANN activation (``"relu"``, ``"silu"``)."""
    if kind == "if":
        return IF(v_threshold=v_threshold, surrogate=surrogate, detach_reset=detach_reset, step_mode="m")
    if kind == "lif":
        return LIF(tau=tau, v_threshold=v_threshold, surrogate=surrogate, detach_reset=detach_reset, step_mode="m")
    if kind == "relu":
        return nn.ReLU()
    if kind == "silu":
        return nn.SiLU()
    raise ValueError(f"make_activation: kind must be one of {list(ACTIVATIONS)} (got {kind!r})")


ActFactory = Callable[[], nn.Module]


class SeqConv2d(nn.Module):
    r"""``Conv2d`` applied at each step of ``[T, B, C, H, W]`` (on the flattened ``[T*B, C, H, W]``).

    With ``tsm=True`` the output of step :math:`t` is multiplied by a learnable scalar :math:`p_t`
    (initialised to 1): the temporal-wise spiking mechanism of SDM (Cao et al., IEEE TAI 2024,
    ``TSMConv2d`` in the official ``SDM/TSM.py``), which lets the input current vary over the SNN steps.

    Init (as SDDPM): Xavier-uniform weights with ``gain``, zero bias; ``init="default"`` keeps
    PyTorch's (SDDPM leaves ``conv_identity`` at the default).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
        T: int = 1,
        tsm: bool = False,
        init: str = "xavier",
        gain: float = 1.0,
    ) -> None:
        super().__init__()
        if init not in ("xavier", "default"):
            raise ValueError(f"SeqConv2d: init must be 'xavier' or 'default' (got {init!r})")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.T, self.tsm, self.init, self.gain = stride, padding, T, bool(tsm), init, gain
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)
        self.tsm_scale = nn.Parameter(torch.ones(T)) if self.tsm else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.init == "xavier":
            nn.init.xavier_uniform_(self.conv.weight, gain=self.gain)
            nn.init.zeros_(self.conv.bias)
        else:
            self.conv.reset_parameters()
        if self.tsm_scale is not None:
            nn.init.ones_(self.tsm_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B = x.shape[:2]
        y = self.conv(x.flatten(0, 1)).unflatten(0, (T, B))  # [T, B, C_out, H', W']
        if self.tsm_scale is not None:
            if T != self.T:
                raise ValueError(f"SeqConv2d: tsm was built for T={self.T} steps (got T={T})")
            y = y * self.tsm_scale.view(T, 1, 1, 1, 1).to(y.dtype)
        return y

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, T={self.T}, tsm={self.tsm}, init={self.init!r}, gain={self.gain}"
        )


class SeqBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` over ``[T, B, C, H, W]``: statistics over steps, batch and pixels (SDDPM's
    BN on the flattened ``[T*B, C, H, W]``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(0, 1)).unflatten(0, x.shape[:2])  # [T, B, C, H, W]


class MembraneOutputLayer(nn.Module):
    r"""Real-valued read-out of a ``[T, B, ...]`` sequence as a decaying membrane potential:

    .. math:: y = \sum_{t=0}^{T-1} \lambda^{T-1-t}\, x[t], \qquad \lambda = 0.8 \text{ (SDDPM)},

    i.e. the potential at the last step of a non-firing LIF neuron (infinite threshold) with
    leak :math:`\lambda` fed :math:`x[t]`. ``[T, B, ...] -> [B, ...]``; with ``T = 1`` it is the identity.
    Source: ``MembraneOutputLayer`` in the official ``model/SpikingUNet.py``.
    """

    def __init__(self, T: int, decay: float = 0.8) -> None:
        super().__init__()
        if isinstance(T, bool) or not isinstance(T, int) or T < 1:
            raise ValueError(f"MembraneOutputLayer: T must be a positive int (got {T!r})")
        if not isinstance(decay, (int, float)) or not 0.0 < decay <= 1.0:
            raise ValueError(f"MembraneOutputLayer: decay must be in (0, 1] (got {decay!r})")
        self.T, self.decay = T, float(decay)
        self.register_buffer(
            "weights", self.decay ** torch.arange(T - 1, -1, -1, dtype=torch.float64), persistent=False
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """No parameters (the weights are fixed)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != self.T:
            raise ValueError(f"MembraneOutputLayer: expected {self.T} steps in dim 0 (got shape {tuple(x.shape)})")
        w = self.weights.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))  # [T, 1, ...]
        return (w * x).sum(0)  # [B, ...]

    def extra_repr(self) -> str:
        return f"T={self.T}, decay={self.decay}"


class TemporalOutputLayer(nn.Module):
    r"""SDDPM's output refinement: :math:`y = x + \mathrm{SiLU}(\mathrm{BN}(\mathrm{Conv3d}(x)))` on
    ``[T, B, C, H, W]`` seen as a volume ``[B, C, H, W, T]``.

    The official ``T_output_layer`` is ``Conv3d(C, C, kernel_size=(3, 3, 1), padding=(1, 1, 0))``
    on ``[B, C, H, W, T]``: 3x3 in space and **1 in time**, so it mixes no steps (our default
    ``temporal_kernel=1``); an odd ``temporal_kernel > 1`` also mixes neighbouring steps (zero-padded).
    """

    def __init__(self, channels: int, temporal_kernel: int = 1) -> None:
        super().__init__()
        if (
            isinstance(temporal_kernel, bool)
            or not isinstance(temporal_kernel, int)
            or temporal_kernel < 1
            or temporal_kernel % 2 == 0
        ):
            raise ValueError(
                f"TemporalOutputLayer: temporal_kernel must be a positive odd int (got {temporal_kernel!r})"
            )
        self.channels, self.temporal_kernel = channels, temporal_kernel
        self.conv = nn.Conv3d(
            channels, channels, kernel_size=(3, 3, temporal_kernel), padding=(1, 1, temporal_kernel // 2)
        )
        self.bn = SeqBatchNorm2d(channels)
        self.act = nn.SiLU()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()  # PyTorch default, as the official code
        self.bn.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x.permute(1, 2, 3, 4, 0)).permute(4, 0, 1, 2, 3)  # [B, C, H, W, T] -> [T, B, C, H, W]
        return x + self.act(self.bn(y))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, temporal_kernel={self.temporal_kernel}"
