r"""``InteractionData``: a train/test split of implicit user-item feedback.

Every recommender in :mod:`graphnets.recsys` consumes this one container. It stores the two
interaction lists as int64 ``(user, item)`` pairs and derives, once and cached, what training
and evaluation need: per-user CSR of train and test items (sorted by item inside each user),
degree vectors, the user x item :class:`sampling.Graph` ``R`` and LightGCN's normalised
bipartite graph.

Validation happens here, so every reader (LightGCN text, RecBole ``.inter``, synthetic) gives
the same guarantees: ids are non-negative and inside ``[0, num_users)`` / ``[0, num_items)``,
no (user, item) pair is repeated inside a split, and every user with test items has at least
one train item (``cold_users="drop"`` removes such test rows instead of raising).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import torch
from torch import Tensor

from sampling.graph import Graph

__all__ = ["InteractionData"]


def _check_ids(fn: str, what: str, ids: Tensor) -> Tensor:
    if not isinstance(ids, Tensor):
        raise TypeError(f"{fn}: {what} must be a torch.Tensor (got {type(ids).__name__})")
    if ids.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8, torch.int8):
        raise TypeError(f"{fn}: {what} must be an integer tensor (got {ids.dtype})")
    if ids.dim() != 1:
        raise ValueError(f"{fn}: {what} must be 1-D (got shape {tuple(ids.shape)})")
    return ids.to(torch.int64)


def _sorted_csr(users: Tensor, items: Tensor, num_users: int, num_items: int) -> tuple[Tensor, Tensor]:
    """CSR over users with items sorted inside each row (keys ``u * I + i`` ascending)."""
    key = users * max(num_items, 1) + items
    order = torch.argsort(key)
    indices = items.index_select(0, order)
    indptr = torch.zeros(num_users + 1, dtype=torch.int64)
    torch.cumsum(torch.bincount(users, minlength=num_users), 0, out=indptr[1:])
    return indptr, indices


@dataclass(eq=False)
class InteractionData:
    """Implicit-feedback train/test split.

    Args:
        train_users, train_items: ``[E_train]`` int ids of the observed training pairs.
        test_users, test_items: ``[E_test]`` int ids of the held-out pairs (may be empty).
        num_users, num_items: sizes of the id spaces; default ``max id + 1`` over both splits.
        name: a label used in logs and presets (``"gowalla"``, ``"synthetic"``, ...).
        cold_users: what to do with test pairs of users that have no train item:
            ``"error"`` (default) raises, ``"drop"`` removes those test pairs.

    Raises:
        ValueError: negative or out-of-range ids, repeated pairs within a split, a user with
            test items but no train items (with ``cold_users="error"``), an empty train split.
    """

    train_users: Tensor
    train_items: Tensor
    test_users: Tensor
    test_items: Tensor
    num_users: Optional[int] = None
    num_items: Optional[int] = None
    name: str = "custom"
    cold_users: str = "error"
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        fn = "InteractionData"
        self.train_users = _check_ids(fn, "train_users", self.train_users)
        self.train_items = _check_ids(fn, "train_items", self.train_items)
        self.test_users = _check_ids(fn, "test_users", self.test_users)
        self.test_items = _check_ids(fn, "test_items", self.test_items)
        if self.train_users.shape != self.train_items.shape:
            raise ValueError(
                f"{fn}: train_users and train_items must have equal length "
                f"(got {self.train_users.numel()} and {self.train_items.numel()})"
            )
        if self.test_users.shape != self.test_items.shape:
            raise ValueError(
                f"{fn}: test_users and test_items must have equal length "
                f"(got {self.test_users.numel()} and {self.test_items.numel()})"
            )
        if self.train_users.numel() == 0:
            raise ValueError(f"{fn}: the train split must hold at least one interaction (got 0)")
        if self.cold_users not in ("error", "drop"):
            raise ValueError(f"{fn}: cold_users must be 'error' or 'drop' (got {self.cold_users!r})")
        for what, ids in (
            ("user", torch.cat([self.train_users, self.test_users])),
            ("item", torch.cat([self.train_items, self.test_items])),
        ):
            if int(ids.min()) < 0:
                raise ValueError(f"{fn}: {what} ids must be >= 0 (got {int(ids.min())})")
        max_user = int(torch.cat([self.train_users, self.test_users]).max()) + 1
        max_item = int(torch.cat([self.train_items, self.test_items]).max()) + 1
        if self.num_users is None:
            self.num_users = max_user
        elif max_user > self.num_users:
            raise ValueError(f"{fn}: user ids must lie in [0, {self.num_users}) (got id {max_user - 1})")
        if self.num_items is None:
            self.num_items = max_item
        elif max_item > self.num_items:
            raise ValueError(f"{fn}: item ids must lie in [0, {self.num_items}) (got id {max_item - 1})")
        for split in ("train", "test"):
            u, i = getattr(self, f"{split}_users"), getattr(self, f"{split}_items")
            key = u * self.num_items + i
            n_unique = torch.unique(key).numel()
            if n_unique != key.numel():
                raise ValueError(
                    f"{fn}: (user, item) pairs must be unique within the {split} split "
                    f"(got {key.numel() - n_unique} repeated pairs)"
                )
        train_deg = torch.bincount(self.train_users, minlength=self.num_users)
        cold = train_deg.index_select(0, self.test_users) == 0
        if bool(cold.any()):
            if self.cold_users == "error":
                bad = torch.unique(self.test_users[cold])
                raise ValueError(
                    f"{fn}: every user with test items needs at least one train item (got {bad.numel()} "
                    f"such users, e.g. user {int(bad[0])}); pass cold_users='drop' to drop their test pairs"
                )
            self.test_users, self.test_items = self.test_users[~cold], self.test_items[~cold]

    # --- derived structure (cached) ---------------------------------------------------------
    def _cached(self, key: str, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def num_train(self) -> int:
        return self.train_users.numel()

    @property
    def num_test(self) -> int:
        return self.test_users.numel()

    def train_csr(self) -> tuple[Tensor, Tensor]:
        """``(indptr [U+1], items [E_train])``: each user's train items, sorted ascending."""
        return self._cached(
            "train_csr", lambda: _sorted_csr(self.train_users, self.train_items, self.num_users, self.num_items)
        )

    def test_csr(self) -> tuple[Tensor, Tensor]:
        """``(indptr [U+1], items [E_test])``: each user's test items, sorted ascending."""
        return self._cached(
            "test_csr", lambda: _sorted_csr(self.test_users, self.test_items, self.num_users, self.num_items)
        )

    def user_degree(self) -> Tensor:
        """``[U]`` number of train items per user (int64)."""
        return self._cached("user_degree", lambda: torch.bincount(self.train_users, minlength=self.num_users))

    def item_degree(self) -> Tensor:
        """``[I]`` number of train users per item (int64)."""
        return self._cached("item_degree", lambda: torch.bincount(self.train_items, minlength=self.num_items))

    def train_matrix(self) -> Graph:
        """``R`` as a rectangular :class:`sampling.Graph`: rows users, columns items, unweighted."""

        def build() -> Graph:
            indptr, indices = self.train_csr()
            return Graph(indptr, indices, None, num_cols=self.num_items, validate=False)

        return self._cached("train_matrix", build)

    def bipartite_graph(self) -> Graph:
        r"""LightGCN's :math:`\hat A = D^{-1/2} A D^{-1/2}`, :math:`A = [[0, R], [R^\top, 0]]`,
        over ``U + I`` nodes (item ``j`` is node ``U + j``), no self loops."""
        return self._cached(
            "bipartite",
            lambda: Graph.bipartite(self.train_users, self.train_items, self.num_users, self.num_items).normalize(
                "sym"
            ),
        )

    def test_user_ids(self) -> Tensor:
        """Sorted ids of the users that have at least one test item."""
        return self._cached("test_user_ids", lambda: torch.unique(self.test_users))

    def summary(self) -> str:
        density = self.num_train / max(self.num_users * self.num_items, 1)
        return (
            f"{self.name}: {self.num_users} users, {self.num_items} items, {self.num_train} train / "
            f"{self.num_test} test interactions, density {density:.5f}"
        )

    def __repr__(self) -> str:
        return (
            f"InteractionData(name={self.name!r}, num_users={self.num_users}, num_items={self.num_items}, "
            f"num_train={self.num_train}, num_test={self.num_test})"
        )
