r"""Scores of sampled (user, item) pairs with a sparse backward: :math:`s_{bn} = u_b^\top v_{j_{bn}}`.

UltraGCN scores every training pair against ``N`` sampled negatives. Forward computes all
``B x I`` scores with one matrix product (fast, dense) and gathers the ``B x N`` sampled ones.
The gradient with respect to the scores is sparse (``N`` of ``I`` entries per row), so the
backward uses it as a CSR matrix :math:`C` (``B x I``, duplicates summed) instead of two dense
``B x I x D`` products:

.. math:: \nabla U_B = C\,V, \qquad \nabla V = C^\top U_B

Both products touch ``B * N * D`` values of tables that stay in cache, about ``I / N`` times
fewer operations than the dense backward (15x for ml-1m, 27x for Gowalla).

Shapes: user_rows ``[B, D]``, item_table ``[I, D]``, items ``[B, N]`` int64 -> ``[B, N]``.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

__all__ = ["sampled_scores"]


def _csr_mm(indptr: Tensor, indices: Tensor, values: Tensor, dense: Tensor, num_rows: int) -> Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        mat = torch.sparse_csr_tensor(indptr, indices, values, size=(num_rows, dense.shape[0]), check_invariants=False)
        return torch.sparse.mm(mat, dense)


class _SampledScores(torch.autograd.Function):
    @staticmethod
    def forward(ctx, user_rows: Tensor, item_table: Tensor, items: Tensor) -> Tensor:
        ctx.save_for_backward(user_rows, item_table, items)
        return (user_rows @ item_table.T).gather(1, items)  # [B, I] -> [B, N]

    @staticmethod
    def backward(ctx, grad: Tensor):
        user_rows, item_table, items = ctx.saved_tensors
        b, n = items.shape
        num_items = item_table.shape[0]
        flat_items = items.reshape(-1)  # [B * N], row-major: row b owns entries b*N .. b*N+N-1
        values = grad.reshape(-1).contiguous()
        grad_user = grad_item = None
        if ctx.needs_input_grad[0]:
            indptr = torch.arange(0, b * n + 1, n, device=items.device)
            grad_user = _csr_mm(indptr, flat_items, values, item_table, b)  # C V: [B, D]
        if ctx.needs_input_grad[1]:
            order = torch.argsort(flat_items)
            t_indptr = torch.zeros(num_items + 1, dtype=torch.int64, device=items.device)
            torch.cumsum(torch.bincount(flat_items, minlength=num_items), 0, out=t_indptr[1:])
            rows = torch.div(order, n, rounding_mode="floor")  # user row of each sorted entry
            grad_item = _csr_mm(t_indptr, rows, values.index_select(0, order), user_rows, num_items)  # C^T U: [I, D]
        return grad_user, grad_item, None


def sampled_scores(user_rows: Tensor, item_table: Tensor, items: Tensor) -> Tensor:
    """``[B, N]`` scores ``user_rows[b] . item_table[items[b, n]]`` (see the module docstring)."""
    if items.dim() != 2 or items.shape[0] != user_rows.shape[0]:
        raise ValueError(
            f"sampled_scores: items must be [B, N] with B = {user_rows.shape[0]} (got {tuple(items.shape)})"
        )
    return _SampledScores.apply(user_rows, item_table, items)
