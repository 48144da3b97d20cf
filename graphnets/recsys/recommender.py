"""The contract every recommender shares: embeddings from ``forward()``, ``loss(batch)``, ``recommend(users, k)``."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import NamedTuple, Optional

import torch
from torch import Tensor, nn

from graphnets.recsys.evaluate import top_k_items

__all__ = ["PairBatch", "Recommender"]


class PairBatch(NamedTuple):
    """One training batch of observed pairs with sampled negatives.

    Attributes:
        users: ``[B]`` int64 user ids.
        pos_items: ``[B]`` int64 items the users interacted with.
        neg_items: ``[B]`` (one negative per pair, BPR) or ``[B, N]`` (``N`` negatives) int64 item ids.
    """

    users: Tensor
    pos_items: Tensor
    neg_items: Tensor


class Recommender(nn.Module, metaclass=ABCMeta):
    """Base class of graphspike's recommenders (LightGCN, UltraGCN): one interface for trainers,
    evaluation and serving.

    * ``forward()`` -> ``(users [U, D], items [I, D])``: the final representations; the score of a
      pair is their inner product :math:`s_{ui} = e_u^\\top e_i`;
    * ``loss(batch)`` -> scalar: the model's training objective on a :class:`PairBatch`;
    * ``recommend(users, k, exclude=...)`` -> ``[B, k]`` the ``k`` best-scored items per user, best
      first, optionally never recommending the items of a CSR (the user's train items).

    Subclasses set ``num_users`` and ``num_items`` and implement ``forward`` and ``loss``.
    """

    num_users: int
    num_items: int

    @abstractmethod
    def forward(self) -> tuple[Tensor, Tensor]:
        """``(users [U, D], items [I, D])`` final representations."""

    @abstractmethod
    def loss(self, batch: PairBatch) -> Tensor:
        """The training loss of one batch (a scalar)."""

    @torch.no_grad()
    def recommend(self, users: Tensor, k: int, exclude: Optional[tuple[Tensor, Tensor]] = None) -> Tensor:
        """Top-``k`` item ids ``[B, k]`` for ``users [B]`` by score, best first.

        Args:
            users: ``[B]`` int64 user ids.
            k: items per user, ``1 <= k <= num_items``.
            exclude: optional ``(indptr [U+1], indices)`` CSR of items never to recommend to each
                user (e.g. ``data.train_csr()``: the items already seen).
        """
        if not isinstance(users, Tensor) or users.dtype != torch.int64 or users.dim() != 1:
            raise TypeError(f"{type(self).__name__}.recommend: users must be a 1-D int64 tensor (got {users!r:.60})")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.num_items:
            raise ValueError(f"{type(self).__name__}.recommend: k must be an int in [1, {self.num_items}] (got {k!r})")
        if users.numel() and (int(users.min()) < 0 or int(users.max()) >= self.num_users):
            raise ValueError(
                f"{type(self).__name__}.recommend: user ids must lie in [0, {self.num_users}) "
                f"(got range [{int(users.min())}, {int(users.max())}])"
            )
        user_emb, item_emb = self()
        users = users.to(user_emb.device)
        if exclude is not None:
            exclude = (exclude[0].to(user_emb.device), exclude[1].to(user_emb.device))
        return top_k_items(user_emb, item_emb, users, k, exclude)
