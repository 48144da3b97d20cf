"""``DelayLinear``: a fully connected synaptic layer with one learnable delay per synapse."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .dense import check_delay_input, check_right_padding, delay_conv
from .integer import integer_delay_linear
from .kernel import (
    INTERPOLATIONS,
    check_kernel_size,
    delay_kernel,
    integer_delay_kernel,
    position_limits,
)

__all__ = ["DelayLinear"]


class DelayLinear(nn.Module):
    r"""Synapses with a weight and a learnable delay each (DCLS along time, kernel count 1).

    Hammouamri, Khalfaoui-Hassani & Masquelier, "Learning Delays in Spiking Neural Networks using
    Dilated Convolutions with Learnable Spacings", ICLR 2024 (https://openreview.net/forum?id=4r2ybzJnmN;
    official code https://github.com/Thvnvtos/SNN-delays). Synapse :math:`(o, i)` has weight
    :math:`w_{oi}` and a real position :math:`P_{oi}` whose delay is
    :math:`d_{oi} = \lfloor (K-1)/2 \rfloor - P_{oi} \in [0, K-1]` steps:

    .. math::
        y[t, b, o] = \sum_i \sum_{k=0}^{K-1} \kappa_{oi}[k]\, x[t + k - (K-1), b, i] \;(+\;\text{bias}_o)

    with the kernel :math:`\kappa_{oi}` of :func:`~spiking.delays.kernel.delay_kernel`: the weight
    spread around tap :math:`P_{oi} + \lfloor K/2 \rfloor` by a Gaussian of width ``sigma`` (or a
    triangle, or bilinear interpolation), so the loss is differentiable in :math:`P`. Training
    shrinks ``sigma`` (:class:`~spiking.delays.schedule.SigmaSchedule`); for evaluation
    :meth:`round_delays` (or the :func:`~spiking.delays.integer_delays` context) makes every delay
    the integer :math:`\lfloor (K-1)/2 \rfloor - \mathrm{round}(P_{oi})`, and then, without
    gradients, the layer runs :func:`~spiking.delays.integer.integer_delay_linear`, which never builds
    the ``[C_out, C_in, K]`` kernel.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: K >= 1 taps; the longest delay is K - 1 steps (the paper: 250 ms / 10 ms -> K = 25
            for SHD, 31 for SSC/GSC). K = 1 is a plain linear layer applied at every step.
        interpolation: ``"gauss"`` (default), ``"triangle"`` or ``"bilinear"`` (dcls ``"gauss"``,
            ``"max"``, ``"v1"``).
        sigma: initial width in steps (Gaussian standard deviation / triangle half-width), default
            ``K // 2 + 0.27``, the official start of the schedule. A buffer: saved with the model.
        bias: learnable bias (default ``False``, as the paper).
        right_padding: zero steps appended to the input, default ``(K - 1) // 2``; the output has
            ``T + right_padding`` steps.

    Attributes:
        weight: ``[C_out, C_in]``; Kaiming-uniform (ReLU gain, fan-in C_in), as the official code.
        P: positions ``[C_out, C_in]``, uniform over ``position_limits(K)`` (all delays equally likely).
        sigma: 0-dim buffer.
        rounded: whether delays are rounded to integers (saved in the ``state_dict``).
        integer_method: ``"gather"`` (default) or ``"spmm"``, the ``method`` of the integer path (see
            :func:`~spiking.delays.integer.integer_delay_linear`; ``"spmm"`` is what the energy counter counts).

    Shapes:
        input ``[T, B, C_in]`` (time-major) -> output ``[T + right_padding, B, C_out]``.

    Raises:
        ValueError: K < 1, unknown interpolation, sigma <= 0, an input whose channel count is not
            C_in or that is not ``[T, B, C_in]``, delays outside ``[0, K - 1]`` in :meth:`set_delays`.

    Example:
        >>> layer = DelayLinear(140, 256, kernel_size=25)
        >>> layer(torch.rand(100, 8, 140)).shape
        torch.Size([112, 8, 256])

    Differences from the official code (``Dcls1d`` + ``F.pad`` in ``snn_delays.py``): time-major input
    and the padding inside the layer; the kernel is built directly in ``[C_out, C_in, K]`` layout (no
    ``[K, 1, C_out, C_in, 1]`` intermediate); ``sigma`` is the effective width (dcls stores
    ``SIG = sigma - 0.27`` for the Gaussian, ``sigma - 1`` for the triangle); positions are drawn
    uniformly over the clamp range (the official ``U(-K//2, K//2)`` with Python's floor division
    gives ``U(-13, 12)`` for K = 25, then clamps); evaluation with rounded delays runs the sparse
    integer path instead of a one-hot dense kernel; the clamp range for even K stops at the last tap.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        interpolation: str = "gauss",
        sigma: float | None = None,
        bias: bool = False,
        right_padding: int | None = None,
    ) -> None:
        super().__init__()
        fn = "DelayLinear"
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{fn}: {name} must be an int >= 1 (got {v!r})")
        self.kernel_size = check_kernel_size(fn, kernel_size)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{fn}: interpolation must be one of {INTERPOLATIONS} (got {interpolation!r})")
        self.in_channels, self.out_channels, self.interpolation = in_channels, out_channels, interpolation
        self.right_padding = check_right_padding(fn, right_padding, kernel_size)
        self.sigma_init = float(kernel_size // 2 + 0.27) if sigma is None else float(sigma)
        if not self.sigma_init > 0:
            raise ValueError(f"{fn}: sigma must be > 0 (got {sigma})")
        self.rounded = False
        self.integer_method = "gather"
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels))
        self.P = nn.Parameter(torch.empty(out_channels, in_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.register_buffer("sigma", torch.tensor(self.sigma_init))
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Kaiming-uniform weights (ReLU gain), uniform positions, ``sigma`` back to its initial value,
        delays not rounded; ``generator`` for reproducible draws."""
        bound = math.sqrt(6.0 / self.in_channels)  # kaiming_uniform_(nonlinearity="relu"), fan-in C_in
        lo, hi = position_limits(self.kernel_size)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound, generator=generator)
            self.P.uniform_(lo, hi, generator=generator)
            if self.bias is not None:
                self.bias.uniform_(
                    -1 / math.sqrt(self.in_channels), 1 / math.sqrt(self.in_channels), generator=generator
                )
            self.sigma.fill_(self.sigma_init)
        self.rounded = False

    # delays ------------------------------------------------------------------------------
    def delays(self) -> Tensor:
        """Current real-valued delays ``[C_out, C_in]`` in steps (``(K - 1) // 2 - P``, detached)."""
        return (self.kernel_size - 1) // 2 - self.P.detach()

    def integer_delays(self) -> Tensor:
        """Delays after rounding the (clamped) positions: int64 ``[C_out, C_in]`` in ``[0, K - 1]``."""
        lo, hi = position_limits(self.kernel_size)
        return ((self.kernel_size - 1) // 2 - self.P.detach().round().clamp(lo, hi)).long()

    def set_delays(self, delays: Tensor) -> None:
        """Set every delay (steps, real or integer) ``[C_out, C_in]`` within ``[0, K - 1]``."""
        fn = "DelayLinear.set_delays"
        if not isinstance(delays, Tensor) or delays.shape != self.P.shape:
            raise ValueError(
                f"{fn}: delays must be a tensor [C_out, C_in] = {tuple(self.P.shape)} "
                f"(got {getattr(delays, 'shape', type(delays).__name__)})"
            )
        if delays.numel() and (delays.min() < 0 or delays.max() > self.kernel_size - 1):
            raise ValueError(
                f"{fn}: delays must lie in [0, K - 1] = [0, {self.kernel_size - 1}]; a longer delay "
                f"needs a larger kernel_size (got min {delays.min().item()}, max {delays.max().item()})"
            )
        with torch.no_grad():
            self.P.copy_((self.kernel_size - 1) // 2 - delays.to(self.P))

    def clamp_positions(self) -> None:
        """Clamp positions to the kernel (call after each optimiser step, as the official code)."""
        with torch.no_grad():
            self.P.clamp_(*position_limits(self.kernel_size))

    def round_delays(self) -> None:
        """Round (and clamp) the positions in place and switch to integer delays for good."""
        with torch.no_grad():
            self.P.copy_((self.kernel_size - 1) // 2 - self.integer_delays().to(self.P))
        self.rounded = True

    def set_sigma(self, sigma: float) -> None:
        """Set the interpolation width (steps, > 0)."""
        if not float(sigma) > 0:
            raise ValueError(f"DelayLinear.set_sigma: sigma must be > 0 (got {sigma})")
        self.sigma.fill_(float(sigma))

    def kernel(self) -> Tensor:
        """The ``[C_out, C_in, K]`` kernel the dense path uses (one-tap when ``rounded``)."""
        if self.rounded:
            return integer_delay_kernel(self.weight, self.integer_delays(), self.kernel_size)
        return delay_kernel(self.weight, self.P, self.sigma, self.kernel_size, self.interpolation)

    # forward -----------------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        check_delay_input(type(self).__name__, x, self.in_channels)
        needs_grad = torch.is_grad_enabled() and (
            x.requires_grad or self.weight.requires_grad or (self.bias is not None and self.bias.requires_grad)
        )
        if self.rounded and not needs_grad:
            return integer_delay_linear(
                x,
                self.weight,
                self.integer_delays(),
                self.kernel_size,
                self.bias,
                self.right_padding,
                self.integer_method,
            )
        return delay_conv(x, self.kernel(), self.bias, self.right_padding)

    def get_extra_state(self) -> dict:
        return {"rounded": self.rounded}

    def set_extra_state(self, state: dict) -> None:
        self.rounded = bool(state.get("rounded", False))

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"interpolation={self.interpolation!r}, sigma={self.sigma_init}, bias={self.bias is not None}, "
            f"right_padding={self.right_padding}"
        )
