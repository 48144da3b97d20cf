"""Random Planetoid splits: ``train_per_class`` labelled nodes per class, then validation and test.

Same procedure as the official DAGNN code (``random_planetoid_splits`` in DeeperGNN's
``train_eval.py``, itself from the PyG benchmark suite): shuffle the nodes of each class, take the
first 20 of every class for training, shuffle the remaining nodes and take 500 for validation and
the next 1000 for test. Differences: the shuffles draw from the given ``torch.Generator`` (the
official code uses the global RNG), and impossible requests raise ``ValueError`` instead of
silently returning smaller sets.
"""
from __future__ import annotations

import torch
from torch import Tensor

from graphnets.node.dataset import Split

__all__ = ["random_planetoid_split"]


def random_planetoid_split(
    y: Tensor,
    num_classes: int,
    generator: torch.Generator,
    *,
    train_per_class: int = 20,
    num_val: int = 500,
    num_test: int = 1000,
) -> Split:
    """Draw one random split.

    Args:
        y: labels ``[N]`` int64 in ``[0, num_classes)``.
        num_classes: ``C``.
        generator: source of randomness (CPU generator).
        train_per_class, num_val, num_test: sizes (Planetoid: 20, 500, 1000).

    Returns:
        :class:`Split` with ``C * train_per_class`` train, ``num_val`` validation and
        ``num_test`` test ids, pairwise disjoint.
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
        raise ValueError(f"{fn}: {rest.numel()} nodes remain after training, fewer than num_val + num_test = "
                         f"{num_val + num_test}")
    rest = rest[torch.randperm(rest.numel(), generator=generator)]
    split = Split(train=train, val=rest[:num_val], test=rest[num_val:num_val + num_test])
    return split.to(y.device)
