r"""Delay kernels: one weight at one real-valued position per synapse, spread over K time taps.

DCLS along time (Hammouamri, Khalfaoui-Hassani & Masquelier, "Learning Delays in Spiking Neural
Networks using Dilated Convolutions with Learnable Spacings", ICLR 2024; the kernel construction of
Khalfaoui-Hassani et al., "Dilated Convolution with Learnable Spacings", ICLR 2023). Each synapse
:math:`(o, i)` has a weight :math:`w_{oi}` and a position :math:`P_{oi}` (centred: tap
:math:`p_{oi} = P_{oi} + \lfloor K/2 \rfloor`). Its kernel over the taps :math:`k = 0..K-1` is

.. math::
    \kappa_{oi}[k] = w_{oi} \frac{g(k - p_{oi})}{\sum_{k'=0}^{K-1} g(k' - p_{oi}) + 10^{-7}}

with the interpolation :math:`g`:

* ``"gauss"``: :math:`g(u) = \exp(-\tfrac12 (u/\sigma)^2)`, :math:`\sigma` the standard deviation
  in time steps (dcls ``version="gauss"``, whose ``SIG`` parameter gives :math:`\sigma = |SIG| + 0.27`);
* ``"triangle"``: :math:`g(u) = \max(0, \sigma - |u|)`, :math:`\sigma` the half-width (dcls
  ``version="max"``, :math:`\sigma = |SIG| + 1`);
* ``"bilinear"``: :math:`g(u) = \max(0, 1 - |u|)`: linear interpolation between the two nearest taps,
  :math:`\sigma` unused (dcls ``version="v1"``).

The :math:`10^{-7}` in the normaliser is dcls's; it keeps a kernel whose mass falls outside the taps
finite. Cross-correlating the kernel over an input padded with :math:`K-1` zeros on the left
(:mod:`spiking.delays.dense`) delays synapse :math:`(o, i)` by :math:`K - 1 - p_{oi}` steps.

With integer delays (:func:`integer_delay_kernel`) the kernel is one tap per synapse holding
exactly :math:`w_{oi}` (no normaliser): what :mod:`spiking.delays.integer` computes without building it.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["INTERPOLATIONS", "check_kernel_size", "delay_kernel", "integer_delay_kernel", "position_limits"]

INTERPOLATIONS = ("gauss", "triangle", "bilinear")
_EPS = 1e-7  # dcls's normaliser guard


def check_kernel_size(fn: str, kernel_size) -> int:
    """``kernel_size`` as an int >= 1, or a ``ValueError``/``TypeError`` naming ``fn``."""
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int):
        raise TypeError(f"{fn}: kernel_size must be an int (got {type(kernel_size).__name__})")
    if kernel_size < 1:
        raise ValueError(
            f"{fn}: kernel_size (K, the number of delay taps; max delay K - 1) must be >= 1 (got {kernel_size})"
        )
    return kernel_size


def position_limits(kernel_size: int) -> tuple[int, int]:
    r"""Range of the centred positions :math:`P`: :math:`[-\lfloor K/2\rfloor, \lfloor (K-1)/2\rfloor]`,
    i.e. taps :math:`0..K-1` and delays :math:`K-1..0`.

    For odd K (all the paper's sizes) this is dcls's ``clamp_parameters`` range
    :math:`[-\lfloor K/2\rfloor, \lfloor K/2\rfloor]`; for even K dcls allows one tap past the kernel
    end, which we do not.
    """
    return -(kernel_size // 2), (kernel_size - 1) // 2


def delay_kernel(
    weight: Tensor, P: Tensor, sigma: float | Tensor, kernel_size: int, interpolation: str = "gauss"
) -> Tensor:
    r"""The interpolated delay kernel (module docstring): ``[C_out, C_in, K]``.

    Args:
        weight: synaptic weights ``[C_out, C_in]``.
        P: centred positions ``[C_out, C_in]`` (tap ``P + K // 2``), real-valued.
        sigma: width in time steps (> 0), a float or a tensor broadcastable to ``[C_out, C_in]``;
            ignored by ``"bilinear"``.
        kernel_size: K >= 1 taps.
        interpolation: ``"gauss"``, ``"triangle"`` or ``"bilinear"``.

    Returns:
        ``[C_out, C_in, K]``, dtype and device of ``weight``; differentiable in ``weight``, ``P`` and
        a tensor ``sigma``.
    """
    fn = "delay_kernel"
    K = check_kernel_size(fn, kernel_size)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{fn}: interpolation must be one of {INTERPOLATIONS} (got {interpolation!r})")
    if weight.dim() != 2 or P.shape != weight.shape:
        raise ValueError(
            f"{fn}: weight and P must both be [C_out, C_in] (got {tuple(weight.shape)} and {tuple(P.shape)})"
        )
    taps = torch.arange(K, device=weight.device, dtype=weight.dtype)  # [K]
    u = taps - (P + K // 2).unsqueeze(-1)  # [C_out, C_in, K]
    if interpolation == "bilinear":
        g = (1 - u.abs()).relu()
    else:
        if not isinstance(sigma, Tensor):
            if not sigma > 0:
                raise ValueError(f"{fn}: sigma must be > 0 for {interpolation!r} (got {sigma})")
            sigma = torch.tensor(float(sigma), device=weight.device, dtype=weight.dtype)
        s = sigma.unsqueeze(-1) if sigma.dim() else sigma  # broadcast over taps
        g = (-0.5 * (u / s) ** 2).exp() if interpolation == "gauss" else (s - u.abs()).relu()
    g = g / (g.sum(-1, keepdim=True) + _EPS)
    return weight.unsqueeze(-1) * g


def integer_delay_kernel(weight: Tensor, delays: Tensor, kernel_size: int) -> Tensor:
    """The one-tap-per-synapse kernel of integer ``delays`` ``[C_out, C_in]`` in ``[0, K-1]``:
    ``kernel[o, i, K - 1 - delays[o, i]] = weight[o, i]``, zeros elsewhere (``[C_out, C_in, K]``,
    differentiable in ``weight``)."""
    K = check_kernel_size("integer_delay_kernel", kernel_size)
    tap = (K - 1 - delays).unsqueeze(-1)  # [C_out, C_in, 1]
    return weight.new_zeros(*weight.shape, K).scatter(-1, tap, weight.unsqueeze(-1))
