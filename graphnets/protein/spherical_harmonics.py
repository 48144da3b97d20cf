r"""Real spherical harmonics in the exact convention of the official S-GCN ``sh-featurizer``.

S-GCN (Igashov et al. 2021) uses, for an expansion *order* :math:`P`, the degrees
:math:`l = 0 \dots P-1` (:math:`P^2` coefficients: 25 for S-GCN(5), 100 for S-GCN(10)). The
block of degree :math:`l` (length :math:`2l+1`) is

.. math::
    \bigl[-2 N_l^k P_l^k(\cos\theta)\sin(k\varphi)\bigr]_{k=1..l},\;
    N_l^0 P_l^0(\cos\theta),\;
    \bigl[2 N_l^k P_l^k(\cos\theta)\cos(k\varphi)\bigr]_{k=1..l},
    \qquad N_l^k = \sqrt{\tfrac{2l+1}{4\pi}\tfrac{(l-k)!}{(l+k)!}},

with :math:`P_l^k = (-1)^k \bar P_l^k` the associated Legendre function *with* the Condon-Shortley
phase (``scipy.special.lpmv(k, l, cos(theta))``; :math:`\bar P` is the phase-free one),
:math:`\theta` the polar angle from :math:`\hat z` and :math:`\varphi` the azimuth from
:math:`\hat x` of the direction in the residue's local frame (:mod:`graphnets.protein.frames`).
Relative to the orthonormal real harmonics this is :math:`\sqrt2\times` for :math:`k\ne0`, with
the sine block in increasing :math:`k` and negated. (``shared/notes/graphmodels.md`` states the
phase-free :math:`\bar P`; the reference outputs show a factor :math:`(-1)^k`, i.e. the phase is
present: every odd-:math:`k` column flips sign without it. The reference outputs win.) The test
``tests/graphnets/protein/test_spherical_harmonics.py`` checks every value of the official
binary's output (orders 5 and 10) to 1e-4.

How we compute it (differs from the binary, same values): no angles. With a unit vector
:math:`(x, y, z)`, :math:`\bar P_l^k(z) = \sin^k\theta\,Q_l^k(z)` where :math:`Q` is a polynomial,
and :math:`\sin^k\theta\cos k\varphi = \mathrm{Re}(x+iy)^k`,
:math:`\sin^k\theta\sin k\varphi = \mathrm{Im}(x+iy)^k`. So the features are polynomials in
:math:`x, y, z`: smooth, exact at the poles, differentiable, and vectorised over edges.
Recurrences for the phase-free :math:`Q` (the phase :math:`(-1)^k` is applied at the end): :math:`Q_k^k = (2k-1)!!`,
:math:`Q_{k+1}^k = (2k+1) z Q_k^k`,
:math:`(l-k) Q_l^k = (2l-1) z Q_{l-1}^k - (l+k-1) Q_{l-2}^k`.

Shapes:
    directions ``[E, 3]`` unit vectors -> ``[E, order**2]``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["spherical_harmonics", "sh_index"]


def sh_index(l: int, k: int) -> int:
    """Column of degree ``l`` and signed order ``k`` (``-l..l``; negative = sine part) in the feature vector.

    The sine part of order ``|k|`` sits at ``l*l + |k| - 1`` (increasing ``|k|``), ``k = 0`` at
    ``l*l + l`` and the cosine part at ``l*l + l + k``.
    """
    if not 0 <= abs(k) <= l:
        raise ValueError(f"sh_index: need |k| <= l (got l={l}, k={k})")
    if k < 0:
        return l * l + (-k) - 1
    return l * l + l + k


def _norm(l: int, k: int) -> float:
    return math.sqrt((2 * l + 1) / (4 * math.pi) * math.factorial(l - k) / math.factorial(l + k))


def spherical_harmonics(directions: Tensor, order: int) -> Tensor:
    """S-GCN real spherical harmonics of unit ``directions`` ``[E, 3]`` up to degree ``order - 1``.

    Args:
        directions: ``[E, 3]`` unit vectors in the local frame (not re-normalised).
        order: expansion order ``P >= 1`` (degrees ``0..P-1``, ``P**2`` outputs).

    Returns:
        ``[E, P**2]`` in the dtype/device of ``directions``.
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"spherical_harmonics: order must be a positive int (got {order!r})")
    if not isinstance(directions, Tensor) or not directions.is_floating_point():
        raise TypeError(
            f"spherical_harmonics: directions must be a floating-point tensor (got {type(directions).__name__})"
        )
    if directions.dim() != 2 or directions.shape[1] != 3:
        raise ValueError(f"spherical_harmonics: directions must have shape [E, 3] (got {tuple(directions.shape)})")
    x, y, z = directions.unbind(1)  # each [E]
    # (x + i y)^k as real/imag parts, k = 0..P-1
    re = [torch.ones_like(x)]
    im = [torch.zeros_like(x)]
    for _ in range(1, order):
        r, i = re[-1], im[-1]
        re.append(r * x - i * y)
        im.append(r * y + i * x)
    cols: list[Tensor] = [x] * (order * order)
    for k in range(order):
        # Q_l^k for l = k..P-1
        q_prev2 = None
        q_prev = torch.full_like(z, float(math.prod(range(1, 2 * k, 2))))  # (2k-1)!!
        for l in range(k, order):
            if l == k:
                q = q_prev
            elif l == k + 1:
                q = (2 * k + 1) * z * q_prev
            else:
                q = ((2 * l - 1) * z * q_prev - (l + k - 1) * q_prev2) / (l - k)
            if l > k:
                q_prev2, q_prev = q_prev, q
            if k == 0:
                cols[sh_index(l, 0)] = _norm(l, 0) * q
            else:
                c = 2.0 * _norm(l, k) * (-1.0) ** k  # Condon-Shortley phase
                cols[sh_index(l, k)] = c * q * re[k]
                cols[sh_index(l, -k)] = -c * q * im[k]
    return torch.stack(cols, dim=1)  # [E, P^2]
