r"""Train/validation/test splits of nodes, edges and graphs, each drawn from a ``torch.Generator``.

* nodes: :func:`random_planetoid_split` (labelled nodes per class, then validation and test);
* edges: :func:`random_user_split` (a share of every user's interactions to test);
* graphs: :func:`random_group_split` and :func:`leave_one_group_out` (whole groups of graphs,
  e.g. every decoy of one protein target, go to one side).

The same generator state gives the same split on every machine (CPU draws).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch
from torch import Tensor

__all__ = ["Split", "random_planetoid_split", "random_user_split", "random_group_split", "leave_one_group_out"]


@dataclass(frozen=True)
class Split:
    """Ids (int64, 1-D) of the training, validation and test sets (nodes, edges or graphs)."""

    train: Tensor
    val: Tensor
    test: Tensor

    def to(self, device: Any) -> "Split":
        return Split(self.train.to(device), self.val.to(device), self.test.to(device))


def random_planetoid_split(
    y: Tensor,
    num_classes: int,
    generator: torch.Generator,
    *,
    train_per_class: int = 20,
    num_val: int = 500,
    num_test: int = 1000,
) -> Split:
    """Random Planetoid node split: ``train_per_class`` nodes of every class, then validation and test.

    Same procedure as the official DAGNN code (``random_planetoid_splits`` in DeeperGNN's
    ``train_eval.py``, itself from the PyG benchmark suite): shuffle the nodes of each class, take
    the first ``train_per_class`` of every class for training, shuffle the remaining nodes and take
    ``num_val`` for validation and the next ``num_test`` for test. Differences: the shuffles draw
    from ``generator`` (the official code uses the global RNG), and impossible requests raise
    ``ValueError`` instead of silently returning smaller sets.

    Args:
        y: labels ``[N]`` int64 in ``[0, num_classes)``.
        num_classes: ``C``.
        generator: source of randomness (CPU generator).
        train_per_class, num_val, num_test: sizes (Planetoid: 20, 500, 1000).

    Returns:
        :class:`Split` with ``C * train_per_class`` train, ``num_val`` validation and ``num_test``
        test node ids, pairwise disjoint, on ``y``'s device.

    Example:
        >>> y = torch.arange(12) % 3
        >>> s = random_planetoid_split(y, 3, torch.Generator().manual_seed(0), train_per_class=2, num_val=3, num_test=3)
        >>> s.train.numel(), s.val.numel(), s.test.numel()
        (6, 3, 3)
    """
    fn = "random_planetoid_split"
    if not isinstance(y, Tensor) or y.dtype != torch.int64 or y.dim() != 1:
        raise TypeError(f"{fn}: y must be a 1-D int64 tensor of labels (got {y!r:.60})")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"{fn}: num_classes must be a positive int (got {num_classes!r})")
    for name, v in (("train_per_class", train_per_class), ("num_val", num_val), ("num_test", num_test)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{fn}: {name} must be a positive int (got {v!r})")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"{fn}: labels must lie in [0, {num_classes}) (got range [{int(y.min())}, {int(y.max())}])")
    y_cpu = y.cpu()
    per_class = []
    for c in range(num_classes):
        idx = (y_cpu == c).nonzero().view(-1)
        if idx.numel() < train_per_class:
            raise ValueError(f"{fn}: class {c} has {idx.numel()} nodes, fewer than train_per_class={train_per_class}")
        per_class.append(idx[torch.randperm(idx.numel(), generator=generator)])
    train = torch.cat([i[:train_per_class] for i in per_class])
    rest = torch.cat([i[train_per_class:] for i in per_class])
    if rest.numel() < num_val + num_test:
        raise ValueError(
            f"{fn}: {rest.numel()} nodes remain after training, fewer than num_val + num_test = {num_val + num_test}"
        )
    rest = rest[torch.randperm(rest.numel(), generator=generator)]
    split = Split(train=train, val=rest[:num_val], test=rest[num_val : num_val + num_test])
    return split.to(y.device)


def random_user_split(
    users: Tensor, items: Tensor, num_users: int, test_ratio: float, generator: Optional[torch.Generator] = None
) -> Tensor:
    """Edge split of user-item interactions: a boolean ``[E]`` test mask.

    Each user's pairs in random order, the first ``ceil(test_ratio * n_u)`` to test, but never all
    of them (users with one pair keep it in train). ``items`` is accepted for a uniform call with
    the pair list; only the users decide the split.

    Raises:
        ValueError: ``test_ratio`` outside ``(0, 1)``.

    Example:
        >>> users = torch.tensor([0, 0, 0, 0, 1])
        >>> random_user_split(users, torch.arange(5), 2, 0.5, torch.Generator().manual_seed(0)).sum().item()
        2
    """
    if not 0.0 < test_ratio < 1.0:
        raise ValueError(f"random_user_split: test_ratio must lie in (0, 1) (got {test_ratio})")
    counts = torch.bincount(users, minlength=num_users)  # [U]
    n_test = torch.minimum(torch.ceil(test_ratio * counts.to(torch.float64)).long(), counts - 1).clamp_(min=0)
    key = users.to(torch.float64) + torch.rand(users.numel(), generator=generator, dtype=torch.float64)
    order = torch.argsort(key)  # user-major, random inside each user
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(users)
    rank[order] = torch.arange(users.numel()) - starts.index_select(0, users[order])
    return rank < n_test.index_select(0, users)


def _groups(fn: str, groups: Sequence[str]) -> list[str]:
    if isinstance(groups, str) or not all(isinstance(g, str) for g in groups):
        raise TypeError(f"{fn}: groups must be a sequence of str ids (got {groups!r:.60})")
    unique = sorted(set(groups))
    if len(unique) != len(groups):
        raise ValueError(f"{fn}: group ids must be unique (got {len(groups) - len(unique)} repeated)")
    return unique


def random_group_split(groups: Sequence[str], num_test: int, generator: torch.Generator) -> tuple[list[str], list[str]]:
    """Graph split by group: ``(train_groups, test_groups)`` with ``num_test`` random groups in test.

    Every graph of a group (e.g. every decoy of one protein target) then goes to the side of its
    group, so no test group is seen in training. Both lists are sorted.

    Raises:
        ValueError: ``num_test`` outside ``[1, len(groups))`` or repeated ids.

    Example:
        >>> random_group_split(["d", "a", "c", "b"], 1, torch.Generator().manual_seed(0))
        (['b', 'c', 'd'], ['a'])
    """
    groups = _groups("random_group_split", groups)
    if not 1 <= num_test < len(groups):
        raise ValueError(f"random_group_split: need 1 <= num_test < {len(groups)} (got {num_test})")
    perm = torch.randperm(len(groups), generator=generator).tolist()
    test = sorted(groups[i] for i in perm[:num_test])
    return [g for g in groups if g not in test], test


def leave_one_group_out(groups: Sequence[str]) -> list[tuple[list[str], list[str]]]:
    """Cross-validation folds ``(train_groups, [test_group])``, one per group in sorted order.

    Every group is tested once by a model that never saw it (leave-one-target-out for proteins).

    Example:
        >>> leave_one_group_out(["b", "a", "c"])[0]
        (['b', 'c'], ['a'])
    """
    groups = _groups("leave_one_group_out", groups)
    if len(groups) < 2:
        raise ValueError(f"leave_one_group_out: need at least 2 groups (got {len(groups)})")
    return [([g for g in groups if g != t], [t]) for t in groups]
