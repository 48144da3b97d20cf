r"""Per-operator counting rules: what one call of an aten/graphspike op costs.

Each rule receives the op's ``(args, kwargs, out)`` and returns an :class:`OpCall` holding
*raw* quantities only (dense FLOPs, the non-zero occupancy of the activation operand, and the
exact number of non-zero-driven accumulates). Whether a call becomes MAC or AC is decided
later, in :mod:`spiking.energy.report`, from the user's options; so a model is run once.

FLOPs here are multiply-accumulates of the dense computation (the "FLOPs" of the SNN papers):

* ``mm``/``addmm`` ``[m,k] x [k,n]``: ``m k n``; ``bmm``/``baddbmm``: ``b m k n``; ``mv``: ``m k``;
  ``dot``: ``k``; fused attention (``scaled_dot_product_attention`` kernels) ``Q K^T`` + ``P V``;
  ``nn.MultiheadAttention``'s fused inference op: the three input projections, both products and
  the output projection.
* ``convolution``: ``B * prod(out_spatial) * C_out * (C_in/groups) * prod(kernel)``
  (transposed: ``B * prod(in_spatial) * C_in * (C_out/groups) * prod(kernel)``).
* ``graphspike::spmm`` (CSR aggregation, ``x`` ``[C, F]``): ``nnz * F``.
* ``index_add`` (event-driven gather + scatter-add): one addition per source element.
* batch norm: one multiply-add per element; average pooling over ``k`` elements: ``k - 1``
  additions per output (the ``1/k`` scale folds into the next layer, as spikingjelly counts).

Accumulates for a binary (spike) activation operand, two ways (``ac_count`` option):

* ``"rate"`` (the papers' formula, Spikformer / SDT / syops): ``AC = r * FLOPs`` with
  ``r = nnz(x) / numel(x)`` of that call.
* ``"exact"`` (spikingjelly 2.0 ``SynOpCounter``/``ACCounter``): the number of weight uses a
  spike actually triggers, e.g. ``nnz(x) * n`` for ``x @ W``, the receptive-field occupancy
  ``sum(conv(1[x != 0], ones))`` for a conv (borders and padding make it differ from the rate
  formula), ``sum_e nnz(x[col_e])`` for ``spmm``.

Not counted: max pooling (comparisons), elementwise ops (``mul``/``add`` outside the rules above,
e.g. a residual add or a ``(u * i).sum(-1)`` score -- write it as a matmul to count it), softmax,
normalisation layers other than batch norm.

Spike x spike products (attention ``Q K^T`` with both binary): exact = the number of
``(i, j, k)`` with both factors 1 (``sum(x @ y)``); rate = ``r_x r_y FLOPs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any, Callable, Optional, Union

import torch
from torch import Tensor

from sampling.finite import check_finite

__all__ = ["OpCall", "nonzero_stats", "default_rules", "SYNAPTIC_OPS"]

aten = torch.ops.aten

#: op kinds that are synapses (weights applied to activations); candidates for the first layer.
SYNAPTIC_OPS = ("conv", "linear", "matmul", "spmm")


@dataclass
class OpCall:
    """Raw cost of one op call (see module docstring)."""

    op: str
    flops: float
    binary: bool
    nnz: float
    numel: float
    ac_exact: float
    ac_rate: float
    additive: bool = False
    spike_spike: bool = False
    extra_bits: float = 0.0  # non-parameter operands read from memory (graph structure)


def nonzero_stats(x: Tensor) -> tuple[bool, int, int]:
    """``(is_binary, nnz, numel)`` of ``x``; binary means bool dtype or every value in {0, 1}.

    Raises :class:`~sampling.finite.NonFiniteError` when ``x`` holds NaN/inf: NaN compares unequal to
    0, so it would count as a dense non-zero operand and give a plausible but meaningless MAC/AC split.
    """
    if x.dtype == torch.bool:
        return True, int(x.count_nonzero()), x.numel()
    check_finite(x, "estimate_energy", "every operand")
    nz = x.ne(0)
    binary = bool(torch.logical_or(~nz, x.eq(1)).all()) if x.numel() else True
    return binary, int(nz.sum()), x.numel()


def _bits(x: Optional[Tensor]) -> float:
    return 0.0 if x is None else float(x.numel() * x.element_size() * 8)


def _mm_like(x: Tensor, y: Tensor, out: Tensor, batch: int, op: str) -> OpCall:
    # x [..., m, k], y [..., k, n]
    m, k, n = x.shape[-2], x.shape[-1], y.shape[-1]
    flops = float(batch * m * k * n)
    bx, nnz_x, numel_x = nonzero_stats(x)
    by, nnz_y, numel_y = nonzero_stats(y)
    if bx and by:
        with torch.no_grad():
            both = torch.matmul(x.ne(0).double(), y.ne(0).double()).sum().item()
        rate = (nnz_x / max(numel_x, 1)) * (nnz_y / max(numel_y, 1))
        return OpCall(op, flops, True, nnz_x + nnz_y, numel_x + numel_y, float(both), rate * flops, spike_spike=True)
    if not bx and by:  # the spike operand is on the right: each spike feeds m outputs
        return OpCall(op, flops, True, nnz_y, numel_y, float(nnz_y * m), nnz_y / max(numel_y, 1) * flops)
    # the left operand is the activation (binary, or real: its non-zeros used by first_layer="ac")
    return OpCall(op, flops, bx, nnz_x, numel_x, float(nnz_x * n), nnz_x / max(numel_x, 1) * flops)


def _rule_mm(args, kwargs, out, module):
    return _mm_like(args[0], args[1], out, 1, _matmul_kind(module))


def _rule_addmm(args, kwargs, out, module):
    return _mm_like(args[1], args[2], out, 1, _matmul_kind(module))


def _rule_mv(args, kwargs, out, module):
    # [m, k] @ [k] -> [m]
    return _mm_like(args[0], args[1].unsqueeze(1), out, 1, _matmul_kind(module))


def _rule_dot(args, kwargs, out, module):
    # [k] . [k] -> scalar
    return _mm_like(args[0].unsqueeze(0), args[1].unsqueeze(1), out, 1, "matmul")


def _rule_bmm(args, kwargs, out, module):
    return _mm_like(args[0], args[1], out, args[0].shape[0], "matmul")


def _rule_baddbmm(args, kwargs, out, module):
    return _mm_like(args[1], args[2], out, args[1].shape[0], "matmul")


def _matmul_kind(module: Optional[torch.nn.Module]) -> str:
    return "linear" if isinstance(module, torch.nn.Linear) else "matmul"


def _rule_convolution(args, kwargs, out, module):
    x, w, _, stride, padding, dilation, transposed, output_padding, groups = args[:9]
    kernel = prod(w.shape[2:])
    if transposed:
        # w [C_in, C_out/g, *k]: every input element feeds C_out/g * k outputs
        flops = float(x.numel() * w.shape[1] * kernel)
    else:
        # w [C_out, C_in/g, *k]: every output element sums C_in/g * k products
        flops = float(out.numel() * w.shape[1] * kernel)
    binary, nnz, numel = nonzero_stats(x)
    with torch.no_grad():
        occ = x.ne(0).double()
        if transposed:
            ones = torch.ones_like(w, dtype=torch.float64)
            exact = (
                torch.ops.aten.convolution.default(
                    occ, ones, None, stride, padding, dilation, True, output_padding, groups
                )
                .sum()
                .item()
            )
        else:
            group_kernel = torch.ones((groups, w.shape[1], *w.shape[2:]), dtype=torch.float64, device=x.device)
            # [B, groups, *out]: number of non-zero inputs in each receptive field, per group
            occupancy = torch.ops.aten.convolution.default(
                occ, group_kernel, None, stride, padding, dilation, False, [0] * len(stride), groups
            )
            exact = occupancy.sum().item() * (w.shape[0] // groups)
    return OpCall("conv", flops, binary, nnz, numel, float(exact), nnz / max(numel, 1) * flops)


def _rule_spmm(args, kwargs, out, module):
    indptr, indices, weight, x = args[:4]
    flops = float(indices.numel() * x.shape[1])
    binary, nnz, numel = nonzero_stats(x)
    with torch.no_grad():
        # edges read each source row once: sum_e nnz(x[col_e]) = in_degree . nnz_per_row
        col_deg = torch.bincount(indices, minlength=x.shape[0]).double()
        exact = float(col_deg @ x.ne(0).sum(1).double()) if x.shape[0] else 0.0
    extra = _bits(indptr) + _bits(indices) + _bits(weight)
    return OpCall(
        "spmm", flops, binary, nnz, numel, exact, nnz / max(numel, 1) * flops, additive=weight is None, extra_bits=extra
    )


def _rule_batch_norm(args, kwargs, out, module):
    x = args[0]
    return OpCall("bn", float(x.numel()), False, 0, 0, 0.0, 0.0)


def _rule_avg_pool(args, kwargs, out, module):
    kernel = args[1]
    kernel = [kernel] if isinstance(kernel, int) else list(kernel)
    o = out[0] if isinstance(out, (tuple, list)) else out
    # k - 1 additions per output; the 1/k scale folds into the next layer (as spikingjelly counts)
    return OpCall("pool", float(o.numel() * (prod(kernel) - 1)), False, 0, 0, 0.0, 0.0, additive=True)


def _rule_adaptive_avg_pool(args, kwargs, out, module):
    # every input element is added once into its output, minus one per output (a reduction)
    return OpCall("pool", float(args[0].numel() - out.numel()), False, 0, 0, 0.0, 0.0, additive=True)


def _rule_mean_in_pool(args, kwargs, out, module):
    # mean.dim is how adaptive average pooling to size 1 dispatches; elsewhere it is not a layer
    if module is None or "AvgPool" not in type(module).__name__:
        return None
    return OpCall("pool", float(args[0].numel() - out.numel()), False, 0, 0, 0.0, 0.0, additive=True)


def _rule_index_add(args, kwargs, out, module):
    # out[index[i]] += source[i]: one addition per source element (event-driven gather + scatter-add,
    # e.g. synaptic currents from a list of spike coordinates)
    source = args[3]
    return OpCall("scatter", float(source.numel()), False, 0, 0, 0.0, 0.0, additive=True)


def _real_by(x_left_rows: int, y: Tensor, flops: float, op: str) -> OpCall:
    """``A @ y`` with ``A`` real and dense (e.g. softmax weights): AC if ``y`` is binary."""
    by, nnz_y, numel_y = nonzero_stats(y)
    return OpCall(op, flops, by, nnz_y, numel_y, float(nnz_y * x_left_rows), nnz_y / max(numel_y, 1) * flops)


def _rule_sdpa(args, kwargs, out, module):
    # query [*, L, E], key [*, S, E], value [*, S, Ev]: softmax(q k^T) v, fused
    q, k, v = args[:3]
    batch = prod(q.shape[:-2])
    L, S, E, Ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
    qk = _mm_like(q.reshape(batch, L, E), k.reshape(batch, S, E).transpose(1, 2), None, batch, "matmul")
    # the softmax weights [*, L, S] are real: each value element is used by L rows
    av = _real_by(L, v, float(batch * L * S * Ev), "matmul")
    return [qk, av]


def _rule_native_mha(args, kwargs, out, module):
    # nn.MultiheadAttention's inference fast path: qkv projections, attention, output projection
    query, key, value, embed_dim, num_heads, qkv_weight = args[:6]
    B, L, S, E = query.shape[0], query.shape[1], key.shape[1], int(embed_dim)
    w = qkv_weight.t()  # [E, 3E]
    calls = [
        _mm_like(t.reshape(-1, E), w[:, i * E : (i + 1) * E], None, 1, "linear")
        for i, t in enumerate((query, key, value))
    ]
    calls.append(OpCall("matmul", float(2 * B * L * S * E), False, 0, 0, 0.0, 0.0))  # q k^T and a v: real
    calls.append(OpCall("linear", float(B * L * E * E), False, 0, 0, 0.0, 0.0))  # output projection
    return calls


Rule = Callable[[tuple, dict, Any, Optional[torch.nn.Module]], Union[None, OpCall, list[OpCall]]]


def default_rules() -> dict[Any, Rule]:
    """The op -> rule table; ``graphspike::spmm`` is added when ``cuda_ext`` registered it."""
    rules: dict[Any, Rule] = {
        aten.mm.default: _rule_mm,
        aten.addmm.default: _rule_addmm,
        aten.mv.default: _rule_mv,
        aten.dot.default: _rule_dot,
        aten.bmm.default: _rule_bmm,
        aten.baddbmm.default: _rule_baddbmm,
        aten.convolution.default: _rule_convolution,
        aten.native_batch_norm.default: _rule_batch_norm,
        aten._native_batch_norm_legit.default: _rule_batch_norm,
        aten._native_batch_norm_legit_no_training.default: _rule_batch_norm,
        aten.avg_pool1d.default: _rule_avg_pool,
        aten.avg_pool2d.default: _rule_avg_pool,
        aten.avg_pool3d.default: _rule_avg_pool,
        aten._adaptive_avg_pool2d.default: _rule_adaptive_avg_pool,
        aten._adaptive_avg_pool3d.default: _rule_adaptive_avg_pool,
        aten.mean.dim: _rule_mean_in_pool,
        aten.index_add.default: _rule_index_add,
        aten._native_multi_head_attention.default: _rule_native_mha,
        aten.index_add_.default: _rule_index_add,
    }
    for name in (
        "_scaled_dot_product_flash_attention_for_cpu",
        "_scaled_dot_product_flash_attention",
        "_scaled_dot_product_efficient_attention",
        "_scaled_dot_product_cudnn_attention",
    ):
        packet = getattr(aten, name, None)
        if packet is not None:
            rules[packet.default] = _rule_sdpa
    spmm_ns = getattr(torch.ops, "graphspike", None)
    if spmm_ns is not None and hasattr(spmm_ns, "spmm"):
        rules[spmm_ns.spmm.default] = _rule_spmm
    return rules
