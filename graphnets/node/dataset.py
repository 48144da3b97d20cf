"""``NodeDataset``: one transductive node-classification graph with its split, and checks on it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import torch
from torch import Tensor

from sampling import Graph, Split
from sampling.finite import check_finite

__all__ = ["NodeDataset", "row_normalize", "check_split"]


@dataclass(frozen=True)
class NodeDataset:
    """A graph, node features and labels, plus a default split.

    Attributes:
        name: dataset name (``"cora"``, ``"sbm"``, ...).
        x: node features ``[N, F]`` float32 (raw: binary bag-of-words for Cora).
        y: labels ``[N]`` int64 in ``[0, num_classes)``.
        graph: :class:`sampling.Graph` ``N x N`` without self loops, unweighted.
        num_classes: number of classes ``C``.
        split: the dataset's own split (the Planetoid public split for Planetoid data).
    """

    name: str
    x: Tensor
    y: Tensor
    graph: Graph
    num_classes: int
    split: Split

    @property
    def num_nodes(self) -> int:
        return int(self.y.numel())

    @property
    def num_features(self) -> int:
        return int(self.x.shape[1])

    def with_split(self, split: Split) -> "NodeDataset":
        check_split(split, self.num_nodes, "NodeDataset.with_split")
        return replace(self, split=split)

    def to(self, device) -> "NodeDataset":
        return replace(
            self, x=self.x.to(device), y=self.y.to(device), graph=self.graph.to(device), split=self.split.to(device)
        )

    def __repr__(self) -> str:
        s = self.split
        return (
            f"NodeDataset(name={self.name!r}, num_nodes={self.num_nodes}, num_edges={self.graph.num_edges}, "
            f"num_features={self.num_features}, num_classes={self.num_classes}, "
            f"split={s.train.numel()}/{s.val.numel()}/{s.test.numel()})"
        )


def row_normalize(x: Tensor) -> Tensor:
    r"""Row-normalise features like PyG's ``T.NormalizeFeatures``: :math:`x_i / \max(1, \sum_f x_{if})`.

    PyG also subtracts the global minimum first; for the non-negative bag-of-words features of
    Planetoid that minimum is 0, so this function requires non-negative input instead.
    """
    if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
        raise TypeError(f"row_normalize: x must be a 2-D floating tensor [N, F] (got {x!r:.60})")
    check_finite(x, "row_normalize", "features", ("node", "feature"))
    if x.numel() and float(x.min()) < 0:
        raise ValueError(f"row_normalize: features must be non-negative (got min {float(x.min())})")
    return x / x.sum(dim=-1, keepdim=True).clamp(min=1.0)


def check_split(
    split: Split, num_nodes: int, fn: str, y: Optional[Tensor] = None, num_classes: Optional[int] = None
) -> None:
    """Validate a split: non-empty int64 index sets within ``[0, num_nodes)``, labels in range."""
    for name in ("train", "val", "test"):
        idx = getattr(split, name)
        if not isinstance(idx, Tensor) or idx.dtype != torch.int64 or idx.dim() != 1:
            raise TypeError(f"{fn}: split.{name} must be a 1-D int64 tensor of node ids (got {idx!r:.60})")
        if idx.numel() == 0:
            raise ValueError(f"{fn}: split.{name} is empty (got 0 nodes); every split needs at least one node")
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(f"{fn}: split.{name} ids must lie in [0, {num_nodes}) (got {lo if lo < 0 else hi})")
    if y is not None and num_classes is not None:
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
            bad = int(y.min()) if int(y.min()) < 0 else int(y.max())
            raise ValueError(f"{fn}: labels must lie in [0, {num_classes}) (got {bad})")
