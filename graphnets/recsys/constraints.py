r"""UltraGCN's constraint weights: :math:`\beta` for user-item pairs and the item-item top-K graph.

Paper: Mao et al., "UltraGCN: Ultra Simplification of Graph Convolutional Networks for
Recommendation", CIKM 2021 (arXiv 2110.15114). Formulas as the official code computes them
(``main.py``: ``load_data`` and ``get_ii_constraint_mat``).

**User-item.** With train degrees :math:`d_u, d_i`,

.. math:: \beta_{u,i} = \frac{1}{d_u}\sqrt{\frac{d_u + 1}{d_i + 1}}
          = \underbrace{\frac{\sqrt{d_u+1}}{d_u}}_{\beta_u} \cdot \underbrace{\frac{1}{\sqrt{d_i+1}}}_{\beta_i}

stored as the two vectors; a pair's weight is one product, never a ``U x I`` matrix.

**Item-item.** :math:`G = R^\top R` (co-occurrence counts, diagonal :math:`G_{ii} = d_i`
included unless ``diagonal_zero``), :math:`g_i = \sum_j G_{ij}`,

.. math:: \omega_{ij} = G_{ij} \, \frac{\sqrt{g_i + 1}}{g_i} \, \frac{1}{\sqrt{g_j + 1}},

and :math:`S(i)` = the ``K`` largest :math:`\omega_{ij}` of row :math:`i`.

How we differ from the official code: it multiplies a dense ``I x I`` outer product (6.7 GB on
Gowalla) and loops over items in Python. Here :math:`g = R^\top (R \mathbf{1})` needs no
:math:`G` at all, and :math:`G` is formed sparsely in blocks of rows whose entry count is
bounded by :math:`\sum g_i`, with the per-row top-K found by one sort per block. A row with
fewer than ``K`` non-zero entries is padded with the item itself at weight 0 (the official
dense top-K pads with arbitrary zero-weight items; a weight of 0 contributes nothing to the
loss or its gradient, so the two are equivalent).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from graphnets.recsys.data import InteractionData

__all__ = ["beta_vectors", "item_item_topk"]

_BLOCK_ENTRIES = 20_000_000  # upper bound on the sparse entries of G held at once


def beta_vectors(user_degree: Tensor, item_degree: Tensor) -> tuple[Tensor, Tensor]:
    r"""``(beta_u [U], beta_i [I])`` float32 with :math:`\beta_{u,i} = \beta_u[u]\,\beta_i[i]`.

    Users with no train item get 0 (the official code divides by zero there; such users never
    appear in a training pair).
    """
    du = user_degree.to(torch.float64)
    di = item_degree.to(torch.float64)
    beta_u = torch.where(du > 0, torch.sqrt(du + 1) / du.clamp(min=1), torch.zeros_like(du))
    beta_i = 1.0 / torch.sqrt(di + 1)
    return beta_u.to(torch.float32), beta_i.to(torch.float32)


def _train_scipy(data: InteractionData) -> sp.csr_matrix:
    indptr, indices = data.train_csr()
    ones = np.ones(indices.numel(), dtype=np.float64)
    return sp.csr_matrix((ones, indices.numpy(), indptr.numpy()), shape=(data.num_users, data.num_items))


def item_item_topk(
    data: InteractionData, num_neighbors: int = 10, *, diagonal_zero: bool = False
) -> tuple[Tensor, Tensor]:
    """UltraGCN's item-item constraint graph, built sparsely.

    Args:
        data: the split; only its train pairs are used.
        num_neighbors: ``K``, neighbours kept per item (``ii_neighbor_num``, 10 in every preset).
        diagonal_zero: drop :math:`G_{ii}` before everything (official ``ii_diagonal_zero``,
            default ``False``: an item can be its own neighbour).

    Returns:
        ``(neighbors [I, K] int64, weights [I, K] float32)``, each row sorted by weight, descending.
    """
    fn = "item_item_topk"
    if not isinstance(num_neighbors, int) or num_neighbors < 1:
        raise ValueError(f"{fn}: num_neighbors must be an int >= 1 (got {num_neighbors!r})")
    num_items, k = data.num_items, num_neighbors
    r = _train_scipy(data)  # [U, I]
    rt = r.T.tocsr()  # [I, U]
    d_user = np.asarray(r.sum(axis=1)).ravel()  # [U]
    g = rt @ d_user  # [I] row sums of G = R^T R
    if diagonal_zero:
        g = g - np.asarray(r.sum(axis=0)).ravel()
    with np.errstate(divide="ignore"):
        left = np.where(g > 0, np.sqrt(g + 1) / g, 0.0)  # [I]
    right = 1.0 / np.sqrt(g + 1)  # [I]
    neighbors = np.repeat(np.arange(num_items, dtype=np.int64)[:, None], k, axis=1)  # [I, K] padding = self
    weights = np.zeros((num_items, k), dtype=np.float64)
    # blocks of rows whose number of stored G entries is at most sum(g) over the block
    bound = np.cumsum(g + (np.asarray(r.sum(axis=0)).ravel() if diagonal_zero else 0))
    start = 0
    while start < num_items:
        stop = int(np.searchsorted(bound, (bound[start - 1] if start else 0) + _BLOCK_ENTRIES, side="right"))
        stop = min(max(stop, start + 1), num_items)
        block = (rt[start:stop] @ r).tocsr()  # [b, I] rows start..stop of G
        block.sort_indices()
        rows = np.repeat(np.arange(stop - start), np.diff(block.indptr))
        cols, vals = block.indices.astype(np.int64), block.data
        if diagonal_zero:
            keep = cols != rows + start
            rows, cols, vals = rows[keep], cols[keep], vals[keep]
        w = vals * left[rows + start] * right[cols]
        order = np.lexsort((-w, rows))  # by row, then weight descending
        rows, cols, w = rows[order], cols[order], w[order]
        first = np.searchsorted(rows, np.arange(stop - start))  # [b] first entry of each row
        rank = np.arange(rows.size) - first[rows]
        top = rank < k
        neighbors[rows[top] + start, rank[top]] = cols[top]
        weights[rows[top] + start, rank[top]] = w[top]
        start = stop
    return torch.from_numpy(neighbors), torch.from_numpy(weights).to(torch.float32)
