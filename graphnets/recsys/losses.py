r"""Recommender losses: BPR with LightGCN's layer-0 L2, and UltraGCN's constraint losses.

All functions are pure: scores and weights in, scalar out. Nothing is clamped or masked: a NaN or
infinite score gives a non-finite loss, which :class:`~graphnets.recsys.RecommenderTrainer` refuses
(naming the epoch and batch).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["bpr_loss", "l2_batch_reg", "l2_table_reg", "ultragcn_constraint_loss", "ultragcn_item_item_loss"]


def bpr_loss(pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
    r"""Bayesian personalised ranking: :math:`\frac1B \sum_b \mathrm{softplus}(s^-_b - s^+_b)`
    (= :math:`-\log\sigma(s^+ - s^-)`), as LightGCN-PyTorch ``bpr_loss``. Shapes ``[B]`` -> scalar."""
    return F.softplus(neg_scores - pos_scores).mean()


def l2_batch_reg(*layer0: Tensor) -> Tensor:
    r"""LightGCN's regulariser :math:`\frac{1}{2B}\sum_t \lVert E^{(0)}_t \rVert^2` over the batch's
    layer-0 (ego) rows -- user, positive and negative -- each ``[B, D]``."""
    batch = layer0[0].shape[0]
    return 0.5 * sum(t.pow(2).sum() for t in layer0) / batch


def ultragcn_constraint_loss(
    pos_scores: Tensor, neg_scores: Tensor, pos_weight: Tensor, neg_weight: Tensor, negative_weight: float
) -> Tensor:
    r"""UltraGCN's :math:`\mathcal{L}_C` + :math:`\mathcal{L}_O` as coded (sum over the batch):

    .. math:: \sum_b \Big[ w^+_b \,\mathrm{BCE}(s^+_b, 1)
              + \nu \cdot \tfrac1N \sum_n w^-_{bn}\,\mathrm{BCE}(s^-_{bn}, 0) \Big]

    with :math:`\mathrm{BCE}(s,1)=\mathrm{softplus}(-s)`, :math:`\mathrm{BCE}(s,0)=\mathrm{softplus}(s)`,
    :math:`w^+ = w_1 + w_2\beta_{ui}`, :math:`w^- = w_3 + w_4\beta_{uj}`, :math:`\nu` = ``negative_weight``.

    Shapes: pos_scores/pos_weight ``[B]``, neg_scores/neg_weight ``[B, N]`` -> scalar.
    """
    pos = pos_weight * F.softplus(-pos_scores)  # [B]
    neg = (neg_weight * F.softplus(neg_scores)).mean(dim=1)  # [B]
    return (pos + negative_weight * neg).sum()


def ultragcn_item_item_loss(neighbor_scores: Tensor, neighbor_weights: Tensor) -> Tensor:
    r""":math:`\mathcal{L}_I = -\sum_{(u,i)} \sum_{j \in S(i)} \omega_{ij} \log\sigma(e_u^\top e_j)`.

    Computed with ``logsigmoid`` (the official ``sigmoid().log()`` underflows to ``-inf`` for
    scores below about -88; identical otherwise). Shapes ``[B, K]`` -> scalar.
    """
    return -(neighbor_weights * F.logsigmoid(neighbor_scores)).sum()


def l2_table_reg(*tables: Tensor) -> Tensor:
    r"""UltraGCN's ``norm_loss``: :math:`\frac12 \sum_t \lVert \Theta_t \rVert^2` over entire tables."""
    return 0.5 * sum(t.pow(2).sum() for t in tables)
