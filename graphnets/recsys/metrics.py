r"""Top-k ranking metrics with the official LightGCN definitions (``utils.py`` of LightGCN-PyTorch).

For a user with test set :math:`T_u` and top-k list :math:`(r_1, \dots, r_k)`, let
:math:`h_j = [r_j \in T_u]`:

.. math::
    \mathrm{Recall@k} = \frac{\sum_j h_j}{|T_u|}, \quad
    \mathrm{Precision@k} = \frac{\sum_j h_j}{k}, \quad
    \mathrm{HR@k} = [\textstyle\sum_j h_j > 0],

    \mathrm{NDCG@k} = \frac{\sum_{j=1}^{k} h_j / \log_2(j+1)}
                           {\sum_{j=1}^{\min(|T_u|, k)} 1 / \log_2(j+1)} .

Gains are binary and the ideal DCG counts ``min(|T_u|, k)`` hits. Each metric is averaged over
the users that have at least one test item (the official codes divide by the number of test
users -- LightGCN -- or of all users -- UltraGCN; on the standard splits every user has test
items, so the three agree). ``f1@k`` is UltraGCN's ``2PR / (P + R)`` of the *averaged*
precision and recall.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

__all__ = ["ranking_metrics_per_user", "summarize_metrics", "METRIC_NAMES"]

METRIC_NAMES = ("recall", "ndcg", "precision", "hr")


def ranking_metrics_per_user(hits: Tensor, num_test: Tensor, ks: Sequence[int]) -> dict[str, Tensor]:
    """Per-user metrics from a hit matrix.

    Args:
        hits: ``[B, K_max]`` bool/float, ``hits[b, j]`` = whether the ``j``-th ranked item of
            user ``b`` is a test item (``K_max >= max(ks)``).
        num_test: ``[B]`` number of test items per user (> 0).
        ks: cut-offs.

    Returns:
        ``{"recall@k": [B], "ndcg@k": [B], "precision@k": [B], "hr@k": [B]}`` float64 for each k.
    """
    fn = "ranking_metrics_per_user"
    if hits.dim() != 2 or hits.shape[0] != num_test.numel():
        raise ValueError(
            f"{fn}: hits must be [B, K] with B = len(num_test) = {num_test.numel()} (got shape {tuple(hits.shape)})"
        )
    if not ks or max(ks) > hits.shape[1] or min(ks) < 1:
        raise ValueError(f"{fn}: every k must lie in [1, {hits.shape[1]}] (got {list(ks)})")
    hits = hits.to(torch.float64)
    n = num_test.to(torch.float64)
    discount = 1.0 / torch.log2(torch.arange(2, hits.shape[1] + 2, dtype=torch.float64, device=hits.device))
    out: dict[str, Tensor] = {}
    for k in ks:
        h = hits[:, :k]
        n_hit = h.sum(1)
        dcg = (h * discount[:k]).sum(1)
        ideal_len = torch.clamp(n, max=k).long()  # [B]
        idcg = torch.cumsum(discount[:k], 0).index_select(0, ideal_len - 1)
        out[f"recall@{k}"] = n_hit / n
        out[f"precision@{k}"] = n_hit / k
        out[f"ndcg@{k}"] = dcg / idcg
        out[f"hr@{k}"] = (n_hit > 0).to(torch.float64)
    return out


def summarize_metrics(sums: dict[str, float], num_users: int, ks: Sequence[int]) -> dict[str, float]:
    """Means from per-metric sums over ``num_users`` users, plus UltraGCN's ``f1@k``."""
    if num_users <= 0:
        raise ValueError(f"summarize_metrics: need at least one test user (got {num_users})")
    out = {name: value / num_users for name, value in sums.items()}
    for k in ks:
        p, r = out[f"precision@{k}"], out[f"recall@{k}"]
        out[f"f1@{k}"] = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return out
