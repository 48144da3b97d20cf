r"""Surrogate gradients of the Heaviside spike function, as used by :mod:`cuda_ext.lif`.

A spiking neuron fires :math:`S = \Theta(H - V_{th})` with :math:`\Theta(x) = [x \ge 0]`, whose
derivative is zero almost everywhere. Surrogate-gradient training (Neftci, Mostafa & Zenke,
"Surrogate Gradient Learning in Spiking Neural Networks", IEEE SPM 2019) keeps the Heaviside in
the forward pass and replaces :math:`\Theta'` by the derivative of a smooth function:

* ``"sigmoid"``: :math:`g'(x) = \alpha\,\sigma(\alpha x)\,(1 - \sigma(\alpha x))`
  (spikingjelly ``surrogate.Sigmoid``, default :math:`\alpha = 4`);
* ``"atan"``: :math:`g'(x) = \dfrac{\alpha / 2}{1 + (\tfrac{\pi}{2}\alpha x)^2}`
  (spikingjelly ``surrogate.ATan``, whose own default is :math:`\alpha = 2`).

The formulas and their evaluation order are those of spikingjelly 2.0 (``_ops/surrogate.py``),
so gradients agree to rounding. The CUDA kernels (``csrc/lif.cu``) evaluate the same
expressions; the integer ids below are shared with them.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["SURROGATES", "surrogate_grad", "surrogate_id", "heaviside_spike"]

#: Surrogate names accepted by :func:`cuda_ext.lif_multistep`, mapped to the kernel's ids.
SURROGATES = {"sigmoid": 0, "atan": 1}


def surrogate_id(name: str, fn: str = "lif_multistep") -> int:
    """The kernel id of surrogate ``name``; ``ValueError`` naming ``fn`` when unknown."""
    if not isinstance(name, str) or name not in SURROGATES:
        raise ValueError(f"{fn}: surrogate must be one of {tuple(SURROGATES)} (got {name!r})")
    return SURROGATES[name]


def surrogate_grad(x: Tensor, alpha: float, surrogate: str) -> Tensor:
    """:math:`g'(x)` of the named surrogate, elementwise, in the dtype of ``x``."""
    if surrogate == "sigmoid":
        s = torch.sigmoid(alpha * x)
        return (1 - s) * s * alpha
    if surrogate == "atan":
        z = x * (math.pi / 2 * alpha)
        return (alpha / 2) / (1 + z * z)
    raise ValueError(f"surrogate_grad: surrogate must be one of {tuple(SURROGATES)} (got {surrogate!r})")


class _HeavisideSpike(torch.autograd.Function):
    """Forward :math:`\\Theta(x)`, backward :math:`g'(x)` of the chosen surrogate."""

    @staticmethod
    def forward(ctx, x: Tensor, alpha: float, surrogate: str) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        ctx.surrogate = surrogate
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * surrogate_grad(x, ctx.alpha, ctx.surrogate), None, None


def heaviside_spike(x: Tensor, alpha: float = 4.0, surrogate: str = "sigmoid") -> Tensor:
    """Spikes :math:`\\Theta(x)` with the surrogate gradient :math:`g'(x)` in backward."""
    surrogate_id(surrogate, "heaviside_spike")
    return _HeavisideSpike.apply(x, alpha, surrogate)
