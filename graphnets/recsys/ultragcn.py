"""UltraGCN: graph convolution replaced by constraint losses on a matrix-factorisation model."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from graphnets.recsys.losses import l2_table_reg, ultragcn_constraint_loss, ultragcn_item_item_loss
from graphnets.recsys.recommender import PairBatch, Recommender
from graphnets.recsys.sampled_scores import sampled_scores

__all__ = ["UltraGCN"]


class UltraGCN(Recommender):
    r"""UltraGCN of Kelong Mao et al., "UltraGCN: Ultra Simplification of Graph Convolutional Networks
    for Recommendation", CIKM 2021, https://arxiv.org/abs/2110.15114. Official code: xue-pai/UltraGCN.

    The model is two embedding tables, the score is :math:`s_{ui} = e_u^\top e_i` (no message
    passing, at training or test time). :meth:`loss` on one batch of observed pairs :math:`(u, i)`,
    each with ``N`` sampled negatives :math:`j`, is

    .. math::
        \mathcal{L} = \sum_{(u,i)} \Big[(w_1 + w_2\beta_{ui})\,\mathrm{BCE}(s_{ui},1)
          + \nu\,\tfrac1N\sum_j (w_3 + w_4\beta_{uj})\,\mathrm{BCE}(s_{uj},0)\Big]
          + \tfrac{\gamma}{2}\lVert\Theta\rVert^2
          - \lambda \sum_{(u,i)}\sum_{k\in S(i)} \omega_{ik}\log\sigma(s_{uk})

    with :math:`\beta` and :math:`\omega, S` from :mod:`graphnets.recsys.constraints`,
    :math:`\nu` = ``negative_weight``, :math:`\gamma` the L2 weight over the **entire** tables (as
    coded: every step updates every row) and :math:`\lambda` the item-item weight.

    Implements the :class:`~graphnets.recsys.Recommender` contract: ``forward()`` gives
    ``(users [U, D], items [I, D])`` (the tables), ``loss(batch)`` the objective above,
    ``recommend(users, k)`` the top-``k`` items.

    How we differ from the official code: identical loss; the negative scores are computed by
    whichever of two exact forms is cheaper (gathering ``[B, N, D]`` negative rows, or one
    ``[B, D] x [D, I]`` product followed by a gather of ``[B, N]`` scores with a sparse backward,
    :mod:`graphnets.recsys.sampled_scores`); the constraint matrices are built sparsely;
    ``log sigmoid`` is computed stably.

    Args:
        num_users, num_items: table sizes.
        embedding_dim: ``D`` (64; 128 for ml-1m).
        w1, w2, w3, w4: positive / negative constraint weights (``w1 + w2 beta``, ``w3 + w4 beta``).
        negative_weight: :math:`\\nu`, the weight of the negative term.
        gamma: L2 weight over the entire tables.
        lambda_: weight of the item-item constraint loss.
        init_std: embeddings start as N(0, init_std^2) (``initial_weight``).
        generator: optional generator for the initialisation.

    Call :meth:`set_constraints` once with the tensors from :mod:`graphnets.recsys.constraints`.

    Shapes:
        :meth:`loss` on a :class:`~graphnets.recsys.PairBatch`: users, pos_items ``[B]``,
        neg_items ``[B, N]`` -> scalar.

    Example:
        >>> import torch
        >>> model = UltraGCN(3, 5, embedding_dim=4, lambda_=0.0)
        >>> model.set_constraints(torch.ones(3), torch.ones(5), torch.zeros(5, 0, dtype=torch.int64), torch.zeros(5, 0))
        >>> batch = PairBatch(torch.tensor([0, 2]), torch.tensor([1, 4]), torch.tensor([[0, 3], [2, 2]]))
        >>> model.loss(batch).dim(), model()[1].shape
        (0, torch.Size([5, 4]))
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        embedding_dim: int = 64,
        *,
        w1: float = 1e-7,
        w2: float = 1.0,
        w3: float = 1e-7,
        w4: float = 1.0,
        negative_weight: float = 10.0,
        gamma: float = 1e-4,
        lambda_: float = 1e-3,
        init_std: float = 1e-4,
        generator: Optional[torch.Generator] = None,
    ) -> None:
        super().__init__()
        for name, v in (("num_users", num_users), ("num_items", num_items), ("embedding_dim", embedding_dim)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"UltraGCN: {name} must be a positive int (got {v!r})")
        self.num_users, self.num_items, self.embedding_dim = num_users, num_items, embedding_dim
        self.w1, self.w2, self.w3, self.w4 = w1, w2, w3, w4
        self.negative_weight, self.gamma, self.lambda_, self.init_std = negative_weight, gamma, lambda_, init_std
        self.user_embedding = nn.Parameter(torch.empty(num_users, embedding_dim))
        self.item_embedding = nn.Parameter(torch.empty(num_items, embedding_dim))
        # derived from the data, rebuilt deterministically: not part of the state dict
        self.register_buffer("beta_user", torch.zeros(num_users), persistent=False)
        self.register_buffer("beta_item", torch.zeros(num_items), persistent=False)
        self.register_buffer("ii_neighbors", torch.zeros(num_items, 0, dtype=torch.int64), persistent=False)
        self.register_buffer("ii_weights", torch.zeros(num_items, 0), persistent=False)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        with torch.no_grad():
            self.user_embedding.normal_(0.0, self.init_std, generator=generator)
            self.item_embedding.normal_(0.0, self.init_std, generator=generator)

    def set_constraints(self, beta_user: Tensor, beta_item: Tensor, ii_neighbors: Tensor, ii_weights: Tensor) -> None:
        """Install ``beta_u [U]``, ``beta_i [I]``, ``S [I, K]`` and ``omega [I, K]``."""
        fn = "UltraGCN.set_constraints"
        if beta_user.shape != (self.num_users,) or beta_item.shape != (self.num_items,):
            raise ValueError(
                f"{fn}: beta vectors must be [{self.num_users}] and [{self.num_items}] "
                f"(got {tuple(beta_user.shape)} and {tuple(beta_item.shape)})"
            )
        if ii_neighbors.shape != ii_weights.shape or ii_neighbors.shape[0] != self.num_items:
            raise ValueError(
                f"{fn}: item-item tensors must both be [{self.num_items}, K] "
                f"(got {tuple(ii_neighbors.shape)} and {tuple(ii_weights.shape)})"
            )
        dev = self.user_embedding.device
        self.beta_user = beta_user.to(dev, torch.float32)
        self.beta_item = beta_item.to(dev, torch.float32)
        self.ii_neighbors = ii_neighbors.to(dev, torch.int64)
        self.ii_weights = ii_weights.to(dev, torch.float32)

    def forward(self) -> tuple[Tensor, Tensor]:
        """``(users [U, D], items [I, D])``: the representations scored at test time (the tables)."""
        return self.user_embedding, self.item_embedding

    def _negative_scores(self, user_rows: Tensor, neg_items: Tensor) -> Tensor:
        b, n = neg_items.shape
        # Dense forward + sparse backward (sampled_scores): one [B, D] x [D, I] product, then CSR
        # products for the gradient. Gather: B*N*D floats moved forward and scattered (index_add)
        # backward; it wins only when I is much larger than N (measured on amazon-electronics,
        # B=2048, N=75, I=1522: dense 17 ms vs gather 72 ms forward + backward).
        if self.num_items <= 64 * n:
            return sampled_scores(user_rows, self.item_embedding, neg_items)  # [B, N]
        neg_rows = self.item_embedding.index_select(0, neg_items.reshape(-1)).view(
            b, n, self.embedding_dim
        )  # [B, N, D]
        return torch.bmm(neg_rows, user_rows.unsqueeze(2)).squeeze(2)  # [B, N]

    def loss(self, batch: PairBatch) -> Tensor:
        """The summed batch loss. Shapes: users/pos_items ``[B]``, neg_items ``[B, N]``."""
        users, pos_items, neg_items = batch
        if neg_items.dim() != 2:
            raise ValueError(f"UltraGCN.loss: neg_items must be [B, N] (got {tuple(neg_items.shape)})")
        if self.ii_neighbors.shape[1] == 0 and self.lambda_ != 0:
            raise RuntimeError("UltraGCN.loss: call set_constraints(...) before training")
        user_rows = self.user_embedding.index_select(0, users)  # [B, D]
        pos_scores = (user_rows * self.item_embedding.index_select(0, pos_items)).sum(-1)  # [B]
        neg_scores = self._negative_scores(user_rows, neg_items)  # [B, N]
        beta_u = self.beta_user.index_select(0, users)  # [B]
        pos_w = self.w1 + self.w2 * beta_u * self.beta_item.index_select(0, pos_items)
        neg_w = self.w3 + self.w4 * beta_u.unsqueeze(1) * self.beta_item[neg_items]  # [B, N]
        loss = ultragcn_constraint_loss(pos_scores, neg_scores, pos_w, neg_w, self.negative_weight)
        loss = loss + self.gamma * l2_table_reg(self.user_embedding, self.item_embedding)
        if self.lambda_ != 0:
            nbr = self.ii_neighbors.index_select(0, pos_items)  # [B, K]
            k = nbr.shape[1]
            nbr_rows = self.item_embedding.index_select(0, nbr.reshape(-1)).view(-1, k, self.embedding_dim)  # [B, K, D]
            nbr_scores = torch.bmm(nbr_rows, user_rows.unsqueeze(2)).squeeze(2)  # [B, K]
            loss = loss + self.lambda_ * ultragcn_item_item_loss(nbr_scores, self.ii_weights.index_select(0, pos_items))
        return loss

    def extra_repr(self) -> str:
        return (
            f"num_users={self.num_users}, num_items={self.num_items}, embedding_dim={self.embedding_dim}, "
            f"w1={self.w1}, w2={self.w2}, w3={self.w3}, w4={self.w4}, negative_weight={self.negative_weight}, "
            f"gamma={self.gamma}, lambda_={self.lambda_}, init_std={self.init_std}"
        )
