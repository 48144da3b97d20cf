r"""Negative item sampling for implicit-feedback recommenders, vectorised and seeded.

Two distributions, both drawn with replacement:

* **uniform over all items** (UltraGCN's default, ``sampling_sift_pos=False``): a user's own
  positives can be drawn;
* **uniform over the user's non-positive items** (LightGCN's rejection sampler, UltraGCN with
  ``sampling_sift_pos=True``).

The second is what rejection sampling (draw uniformly, redraw while the item is a positive)
produces, but we draw it *exactly* in one pass, with no redraw loop: for user :math:`u` with
sorted positives :math:`p_0 < p_1 < \dots < p_{d-1}` among :math:`I` items, draw
:math:`r \sim U\{0, \dots, I-d-1\}` and return the :math:`r`-th non-positive item

.. math:: x = r + \#\{\, j : p_j - j \le r \,\}.

:math:`p_j - j` is non-decreasing in :math:`j`, so the count is one ``searchsorted`` over a
global sorted key array (built once in :class:`PositiveSets`). Cost: one uniform draw and
one binary search per sample, whatever the user's degree -- the official Python samplers loop
per sample, and rejection's expected redraws grow with ``d / I``.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

__all__ = ["PositiveSets", "sample_negatives", "sample_uniform_items"]


def _check_generator(fn: str, generator: Optional[torch.Generator]) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator must be a torch.Generator or None (got {type(generator).__name__})")


class PositiveSets:
    """Each user's positive items as a sorted CSR, indexed for membership and complement draws.

    Args:
        indptr: ``[U + 1]`` int64 CSR row pointer over users.
        indices: ``[E]`` int64 item ids; sorted ascending and unique inside each user's row
            (what :meth:`graphnets.recsys.InteractionData.train_csr` returns).
        num_items: size of the item space ``I``.

    Raises:
        TypeError / ValueError: wrong dtypes, out-of-range items, rows not strictly increasing.
    """

    def __init__(self, indptr: Tensor, indices: Tensor, num_items: int) -> None:
        fn = "PositiveSets"
        for name, t in (("indptr", indptr), ("indices", indices)):
            if not isinstance(t, Tensor) or t.dtype != torch.int64 or t.dim() != 1:
                got = f"{t.dtype} tensor of dim {t.dim()}" if isinstance(t, Tensor) else type(t).__name__
                raise TypeError(f"{fn}: {name} must be a 1-D int64 tensor (got {got})")
        if not isinstance(num_items, int) or num_items <= 0:
            raise ValueError(f"{fn}: num_items must be a positive int (got {num_items!r})")
        if indptr.numel() < 1 or int(indptr[0]) != 0 or int(indptr[-1]) != indices.numel():
            raise ValueError(f"{fn}: indptr must start at 0 and end at len(indices) = {indices.numel()}")
        num_users = indptr.numel() - 1
        deg = indptr[1:] - indptr[:-1]
        if bool((deg < 0).any()):
            raise ValueError(f"{fn}: indptr must be non-decreasing")
        if indices.numel():
            if int(indices.min()) < 0 or int(indices.max()) >= num_items:
                raise ValueError(
                    f"{fn}: items must lie in [0, {num_items}) (got range [{int(indices.min())}, {int(indices.max())}])"
                )
        rows = torch.repeat_interleave(torch.arange(num_users, device=indptr.device), deg)
        key = rows * num_items + indices  # [E], strictly increasing iff rows are sorted and unique
        if key.numel() > 1 and not bool((key[1:] > key[:-1]).all()):
            raise ValueError(f"{fn}: items must be sorted ascending and unique inside each user's row")
        local_rank = torch.arange(indices.numel(), device=indptr.device) - indptr[:-1].repeat_interleave(deg)
        self.indptr = indptr
        self.indices = indices
        self.num_items = num_items
        self.num_users = num_users
        self.degree = deg
        self.key = key
        # [E] non-decreasing: u * I + (p_j - j); the complement draw searches it.
        self.shifted_key = rows * num_items + (indices - local_rank)

    @classmethod
    def from_graph(cls, graph) -> "PositiveSets":
        """From a user x item :class:`sampling.Graph` (rows users, columns items, sorted rows)."""
        return cls(graph.indptr, graph.indices, graph.num_cols)

    def contains(self, users: Tensor, items: Tensor) -> Tensor:
        """Boolean tensor: whether ``items[k]`` is a positive of ``users[k]`` (any equal shapes)."""
        query = users * self.num_items + items
        pos = torch.searchsorted(self.key, query.reshape(-1)).clamp_(max=max(self.key.numel() - 1, 0))
        if self.key.numel() == 0:
            return torch.zeros_like(query, dtype=torch.bool)
        return (self.key.index_select(0, pos) == query.reshape(-1)).reshape(query.shape)

    def __repr__(self) -> str:
        return (
            f"PositiveSets(num_users={self.num_users}, num_items={self.num_items}, "
            f"num_positives={self.indices.numel()})"
        )


def sample_uniform_items(
    shape: tuple[int, ...],
    num_items: int,
    *,
    generator: Optional[torch.Generator] = None,
    device: Optional[torch.device] = None,
) -> Tensor:
    """Items uniform over ``[0, num_items)`` with replacement (positives not excluded)."""
    _check_generator("sample_uniform_items", generator)
    if not isinstance(num_items, int) or num_items <= 0:
        raise ValueError(f"sample_uniform_items: num_items must be a positive int (got {num_items!r})")
    return torch.randint(0, num_items, shape, generator=generator, device=device)


def sample_negatives(
    positives: PositiveSets,
    users: Tensor,
    num_negatives: int = 1,
    *,
    exclude_positives: bool = True,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Draw ``num_negatives`` negative items per user, with replacement.

    Args:
        positives: the users' positive items.
        users: ``[B]`` int64 user ids.
        num_negatives: negatives per user ``N``.
        exclude_positives: ``True``: uniform over each user's non-positive items (exactly the
            distribution of rejection sampling); ``False``: uniform over all items.
        generator: the random source.

    Returns:
        ``[B, N]`` int64 item ids.

    Raises:
        ValueError: a user id out of range, or (with exclusion) a user who has every item.
    """
    fn = "sample_negatives"
    _check_generator(fn, generator)
    if not isinstance(positives, PositiveSets):
        raise TypeError(f"{fn}: positives must be a PositiveSets (got {type(positives).__name__})")
    if not isinstance(users, Tensor) or users.dtype != torch.int64 or users.dim() != 1:
        got = f"{users.dtype} tensor of dim {users.dim()}" if isinstance(users, Tensor) else type(users).__name__
        raise TypeError(f"{fn}: users must be a 1-D int64 tensor (got {got})")
    if not isinstance(num_negatives, int) or num_negatives < 1:
        raise ValueError(f"{fn}: num_negatives must be an int >= 1 (got {num_negatives!r})")
    if users.numel() and (int(users.min()) < 0 or int(users.max()) >= positives.num_users):
        raise ValueError(
            f"{fn}: user ids must lie in [0, {positives.num_users}) "
            f"(got range [{int(users.min())}, {int(users.max())}])"
        )
    b, n, num_items = users.numel(), num_negatives, positives.num_items
    if not exclude_positives:
        return torch.randint(0, num_items, (b, n), generator=generator, device=users.device)
    free = num_items - positives.degree.index_select(0, users)  # [B] non-positive items per user
    if b and int(free.min()) <= 0:
        bad = int(users[free <= 0][0])
        raise ValueError(
            f"{fn}: user {bad} has every item as a positive, so no negative exists (got exclude_positives=True)"
        )
    u = users.unsqueeze(1).expand(b, n)  # [B, N]
    # float64 keeps floor(rand * free) exact for any realistic item count
    r = (torch.rand((b, n), generator=generator, dtype=torch.float64, device=users.device) * free.unsqueeze(1)).long()
    r = torch.minimum(r, (free - 1).unsqueeze(1))
    query = (u * num_items + r).reshape(-1)  # [B * N]
    below = torch.searchsorted(positives.shifted_key, query, right=True).reshape(b, n)
    below = below - positives.indptr.index_select(0, users).unsqueeze(1)
    return r + below
