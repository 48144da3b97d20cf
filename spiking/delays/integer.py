r"""Integer-delay synapses without the dense kernel: the fast inference path.

Once positions are rounded, every synapse :math:`(o, i)` has one integer delay
:math:`d_{oi} \in [0, K-1]` and the delay layer is

.. math::
    y[t, b, o] = \sum_{i} w_{oi}\, x[t - d_{oi}, b, i] \;(+\; \text{bias}_o), \qquad t = 0..T + r - 1

(:math:`x` is zero outside ``[0, T)``, :math:`r` the right padding). The dense path
(:func:`integer_delay_linear_reference`: the one-tap kernel of
:func:`~spiking.delays.kernel.integer_delay_kernel` through ``conv1d``) spends
:math:`C_{out} C_{in} K` multiply-adds per output step, K - 1 of every K on zero taps;
:func:`integer_delay_linear` spends :math:`C_{out} C_{in}`.

How: a sparse-times-dense product. The input, laid out as a table whose row :math:`(t', i)` is
:math:`x[t' - (K-1), :, i]` (the batch vector, time padded), is read by one bag per output
:math:`(t, o)` holding the :math:`C_{in}` rows :math:`(t + K - 1 - d_{oi}, i)` with weights
:math:`w_{oi}`: ``torch.nn.functional.embedding_bag(mode="sum", per_sample_weights=...)``, a fused
gather-multiply-accumulate kernel on CPU (FBGEMM) and CUDA. Two blockings keep it fast: the batch
is cut into column blocks (:func:`block_sizes`), and time into blocks of ``Tc`` steps whose bag
indices are the same for every block (the table slice moves), so the index tensor holds
``Tc * C_out * C_in`` entries, not ``T`` times that.

``method="spmm"`` runs the same blocks through graphspike's CSR aggregation op
(:func:`cuda_ext.spmm`, rows :math:`(t, o)`, columns :math:`(t', i)`): slower on CPU (it also
builds each block's transpose for backward), but it is the op :mod:`spiking.energy` counts, so an
energy report of a rounded network charges each synapse once per step (``T' C_in C_out`` per
sample, accumulates per input spike), not the ``K`` times of the dense kernel.

Each output sums its :math:`C_{in}` products in channel order, so the result equals the dense path
up to floating-point summation order: bit for bit whenever every partial sum is exact (integer
weights, spike inputs) and to rounding otherwise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from cuda_ext import spmm

from .dense import check_delay_input, check_right_padding, delay_conv
from .kernel import check_kernel_size, integer_delay_kernel

__all__ = ["INTEGER_METHODS", "check_integer_delays", "integer_delay_linear", "integer_delay_linear_reference"]

INTEGER_METHODS = ("gather", "spmm")

_BAG_ENTRIES = 1 << 20  # index entries of one time block


def block_sizes(B: int, C_in: int, C_out: int) -> tuple[int, int]:
    """``(bc, Tc)``: batch columns per block and time steps per block.

    Measured on CPU (FBGEMM): rows of 32-64 floats run several times faster per element than rows of
    16, while one block of 256 columns spills the K-step window out of cache; so a batch of up to 64
    is one block and a larger one is cut into blocks of 32. ``Tc`` bounds the index tensor at about
    ``2**20`` entries.
    """
    bc = B if B <= 64 else 32
    Tc = max(1, _BAG_ENTRIES // max(1, C_out * C_in))
    return bc, Tc


def check_integer_delays(fn: str, delays, weight: Tensor, kernel_size: int) -> None:
    """``delays`` must be an integer tensor shaped like ``weight`` with values in ``[0, K - 1]``."""
    if (
        not isinstance(delays, Tensor)
        or delays.is_floating_point()
        or delays.is_complex()
        or delays.dtype == torch.bool
    ):
        raise TypeError(
            f"{fn}: delays must be an integer tensor (got {getattr(delays, 'dtype', type(delays).__name__)})"
        )
    if delays.shape != weight.shape:
        raise ValueError(f"{fn}: delays must be shaped like weight {tuple(weight.shape)} (got {tuple(delays.shape)})")
    if delays.numel():
        lo, hi = int(delays.min()), int(delays.max())
        if lo < 0 or hi > kernel_size - 1:
            raise ValueError(
                f"{fn}: delays must lie in [0, K - 1] = [0, {kernel_size - 1}]; a delay longer than "
                f"the kernel of K={kernel_size} taps allows cannot be applied (got min {lo}, max {hi})"
            )


def _check(fn: str, x, weight, delays, kernel_size, bias, right_padding) -> tuple[int, int]:
    K = check_kernel_size(fn, kernel_size)
    if not isinstance(weight, Tensor) or weight.dim() != 2:
        raise ValueError(f"{fn}: weight must be [C_out, C_in] (got {getattr(weight, 'shape', type(weight).__name__)})")
    check_delay_input(fn, x, weight.shape[1])
    check_integer_delays(fn, delays, weight, K)
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"{fn}: bias must be [C_out={weight.shape[0]}] (got {tuple(bias.shape)})")
    return K, check_right_padding(fn, right_padding, K)


def integer_delay_linear_reference(
    x: Tensor,
    weight: Tensor,
    delays: Tensor,
    kernel_size: int,
    bias: Tensor | None = None,
    right_padding: int | None = None,
) -> Tensor:
    """The dense spec of :func:`integer_delay_linear`: the one-tap kernel through ``conv1d``."""
    _check("integer_delay_linear_reference", x, weight, delays, kernel_size, bias, right_padding)
    return delay_conv(x, integer_delay_kernel(weight, delays, kernel_size), bias, right_padding)


def integer_delay_linear(
    x: Tensor,
    weight: Tensor,
    delays: Tensor,
    kernel_size: int,
    bias: Tensor | None = None,
    right_padding: int | None = None,
    method: str = "gather",
) -> Tensor:
    r"""Integer-delay synapses (module docstring) without building the ``[C_out, C_in, K]`` kernel.

    Args:
        x: time-major input ``[T, B, C_in]`` (spikes or real values).
        weight: ``[C_out, C_in]``.
        delays: integer ``[C_out, C_in]`` in ``[0, K - 1]`` steps.
        kernel_size: K, which fixes the padding (``K - 1`` steps before the input).
        bias: optional ``[C_out]``.
        right_padding: steps appended after the input (default ``(K - 1) // 2``).
        method: ``"gather"`` (``embedding_bag``, the fast one) or ``"spmm"`` (``cuda_ext.spmm``, counted
            by :mod:`spiking.energy`); same result.

    Returns:
        ``[T + right_padding, B, C_out]`` in the dtype and device of ``x``; equal to
        :func:`integer_delay_linear_reference` up to summation order. Differentiable in ``x`` and
        ``weight`` (training uses the dense path; this one is for inference).

    Raises:
        ValueError: shapes that do not fit, a delay outside ``[0, K - 1]``, K < 1.
        TypeError: non-tensor or non-floating input, non-integer delays.
    """
    K, rp = _check("integer_delay_linear", x, weight, delays, kernel_size, bias, right_padding)
    if method not in INTEGER_METHODS:
        raise ValueError(f"integer_delay_linear: method must be one of {INTEGER_METHODS} (got {method!r})")
    T, B, C_in = x.shape
    C_out = weight.shape[0]
    Tp, L = T + rp, T + K - 1 + rp
    out = x.new_empty(Tp, B, C_out)
    if B == 0 or C_out == 0:
        return out
    if C_in == 0:  # no synapses: the bias alone
        return out.zero_() if bias is None else out.copy_(bias.to(x.dtype).expand_as(out))
    weight = weight.to(x.dtype)
    itype = torch.int32 if L * C_in < 2**31 and method == "gather" else torch.int64
    bc, Tc = block_sizes(B, C_in, C_out) if method == "gather" else (B, block_sizes(B, C_in, C_out)[1])
    Tc = min(Tc, Tp)
    # bag (t, o) of a time block reads table rows (t + K - 1 - d_oi) * C_in + i, t = 0..Tc-1
    first = ((K - 1 - delays) * C_in + torch.arange(C_in, device=x.device)).to(itype)  # [C_out, C_in]
    steps = torch.arange(Tc, device=x.device, dtype=itype).view(Tc, 1, 1) * C_in
    index = (steps + first).reshape(-1)  # [Tc * C_out * C_in]
    psw = weight.reshape(1, -1).expand(Tc, -1).reshape(-1)  # [Tc * C_out * C_in]
    offsets = torch.arange(0, Tc * C_out * C_in, C_in, device=x.device, dtype=itype)  # [Tc * C_out]
    for b0 in range(0, B, bc):
        nb = min(bc, B - b0)
        table = x.new_zeros(L, C_in, nb)  # rows (t', i), columns: this batch block
        table[K - 1 : K - 1 + T] = x[:, b0 : b0 + nb].transpose(1, 2)
        table = table.view(L * C_in, nb)
        for t0 in range(0, Tp, Tc):
            n = min(Tc, Tp - t0)
            m = n * C_out * C_in
            if method == "gather":
                y = F.embedding_bag(
                    index[:m], table[t0 * C_in :], offsets[: n * C_out], mode="sum", per_sample_weights=psw[:m]
                )  # [n * C_out, nb]
            else:
                indptr = torch.cat([offsets[: n * C_out], offsets.new_full((1,), m)])
                y = spmm((indptr, index[:m]), table[t0 * C_in : (t0 + n + K - 1) * C_in], psw[:m])
            out[t0 : t0 + n, b0 : b0 + nb] = y.view(n, C_out, nb).transpose(1, 2)
    if bias is not None:
        out = out + bias.to(x.dtype)
    return out
