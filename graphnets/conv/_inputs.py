"""What every conv layer accepts: a ``sampling.Graph`` or ``sampling.Block``, and ``x`` or ``(x_src, x_dst)``.

A layer reads its graph as a CSR of shape ``(num_dst, num_src)`` (rows = destinations). Node
features come either as one tensor ``x [num_src, F]``, whose first ``num_dst`` rows are the
destinations (a square graph: ``x_dst = x``; a block: destinations first among the sources, as PyG
and DGL order them), or as a pair ``(x_src [num_src, F], x_dst [num_dst, F'])`` (``x_dst`` may be
``None`` for layers that do not read it).
"""

from __future__ import annotations

from typing import Optional, Union

from torch import Tensor

from sampling import Block, Graph

__all__ = ["GraphLike", "NodeFeatures", "as_graph", "split_features"]

GraphLike = Union[Graph, Block]
NodeFeatures = Union[Tensor, tuple[Tensor, Optional[Tensor]]]


def as_graph(fn: str, graph: object) -> Graph:
    """The CSR (``(num_dst, num_src)``) of a :class:`~sampling.Graph` or :class:`~sampling.Block`."""
    if isinstance(graph, Block):
        return graph.graph
    if isinstance(graph, Graph):
        return graph
    raise TypeError(
        f"{fn}: graph must be a sampling.Graph or sampling.Block (got {type(graph).__name__}); "
        "build one with Graph.from_edge_index(edge_index, num_nodes=N)"
    )


def _describe(t: object) -> str:
    return f"{t.dtype} tensor of shape {tuple(t.shape)}" if isinstance(t, Tensor) else type(t).__name__


def split_features(
    fn: str, x: NodeFeatures, g: Graph, channels: Optional[int] = None, need_dst: bool = False
) -> tuple[Tensor, Optional[Tensor]]:
    """``(x_src [num_src, F], x_dst [num_dst, F'])`` from ``x`` or ``(x_src, x_dst)``, checked against ``g``.

    ``channels`` (when given) is the required width of ``x_src``. A missing ``x_dst`` is
    ``x_src[:num_dst]``; layers that do not read it (``need_dst=False``) get ``None`` when that
    slice does not exist (a rectangular graph with more rows than columns).
    """
    if isinstance(x, (tuple, list)):
        if len(x) != 2:
            raise TypeError(f"{fn}: x must be a tensor or a pair (x_src, x_dst) (got a sequence of {len(x)})")
        x_src, x_dst = x
    else:
        x_src, x_dst = x, None
    if not isinstance(x_src, Tensor) or x_src.dim() != 2 or not x_src.is_floating_point():
        raise TypeError(f"{fn}: x_src must be a 2-D floating tensor [num_src, F] (got {_describe(x_src)})")
    if x_src.shape[0] != g.num_cols:
        raise ValueError(f"{fn}: x_src must have one row per source node ({g.num_cols}) (got {x_src.shape[0]} rows)")
    if channels is not None and x_src.shape[1] != channels:
        raise ValueError(f"{fn}: x must have in_channels={channels} features (got {x_src.shape[1]})")
    if x_src.device != g.device:
        raise ValueError(f"{fn}: graph and x must be on one device (graph on {g.device}, x on {x_src.device})")
    if x_dst is None:
        if g.num_rows > g.num_cols and not need_dst:
            return x_src, None
        if g.num_rows > g.num_cols:
            raise ValueError(
                f"{fn}: with x alone the destinations must be the first sources, so num_dst <= num_src "
                f"(got {g.num_rows} > {g.num_cols}); pass (x_src, x_dst)"
            )
        return x_src, x_src[: g.num_rows]
    if not isinstance(x_dst, Tensor) or x_dst.dim() != 2 or x_dst.shape[0] != g.num_rows:
        raise ValueError(f"{fn}: x_dst must be [num_dst={g.num_rows}, F] (got {_describe(x_dst)})")
    return x_src, x_dst
