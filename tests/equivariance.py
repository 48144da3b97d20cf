r"""Shared permutation-equivariance / invariance checks for graph models.

A graph model :math:`f(X, A)` is *node-level equivariant* when relabelling the nodes by a
permutation matrix :math:`P` relabels its per-node output the same way,

.. math::  f(P X, P A P^\top) = P\, f(X, A),

and *graph-level invariant* when the output does not change at all,
:math:`f(P X, P A P^\top) = f(X, A)`.

Convention: ``perm`` is a 1-D int64 tensor; new node ``i`` is old node ``perm[i]``, so node
tensors become ``x[perm]`` and an old edge ``j -> i`` becomes ``inv[j] -> inv[i]`` with
``inv[perm] = arange(N)``.

Usage (any model; the call function receives the node inputs and the graph)::

    from tests.equivariance import assert_node_equivariant, assert_graph_invariant
    assert_node_equivariant(lambda x, g: model(x, g), x, graph, generator=torch.Generator().manual_seed(0))
    assert_graph_invariant(lambda x, g: pool(model(x, g)), x, graph, perm=my_perm)

``x`` may be one node tensor or a tuple of node tensors (e.g. features and pre-drawn per-node
noise); ``node_dims`` says which dimension of each indexes nodes. ``graph`` may be a
:class:`sampling.Graph`, a PyG-style ``edge_index`` ``[2, E]`` int64 tensor, a dense ``[N, N]``
adjacency, a tuple ``(edge_index, edge_attr)`` or any object handled by a ``permute_graph``
callable you pass. Outputs may be a tensor or a tuple of tensors (``out_node_dims`` per output).
Stochastic models must be made deterministic by the call function (``eval()``, a re-seeded
generator, or noise passed in ``x`` so that it is permuted with the nodes).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Union

import torch
from torch import Tensor

from sampling import Graph

__all__ = [
    "random_permutation",
    "permute_nodes",
    "permute_graph",
    "assert_node_equivariant",
    "assert_graph_invariant",
]

NodeInput = Union[Tensor, Sequence[Tensor]]
Dims = Union[int, Sequence[int]]


def random_permutation(n: int, generator: Optional[torch.Generator] = None) -> Tensor:
    """A random permutation of ``n`` nodes that is not the identity when ``n > 1``."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"random_permutation: n must be a positive int (got {n!r})")
    if n == 1:
        return torch.zeros(1, dtype=torch.int64)
    while True:
        perm = torch.randperm(n, generator=generator)
        if not torch.equal(perm, torch.arange(n)):
            return perm


def _check_perm(perm: Tensor, n: int) -> Tensor:
    if not isinstance(perm, Tensor) or perm.dtype != torch.int64 or perm.dim() != 1:
        raise TypeError(f"equivariance: perm must be a 1-D int64 tensor (got {perm!r})")
    if perm.numel() != n or not torch.equal(torch.sort(perm).values, torch.arange(n, device=perm.device)):
        raise ValueError(f"equivariance: perm must be a permutation of range({n}) (got {perm.tolist()[:10]}...)")
    return perm


def _inverse(perm: Tensor) -> Tensor:
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel(), device=perm.device)
    return inv


def permute_nodes(t: Tensor, perm: Tensor, dim: int = 0) -> Tensor:
    """``t`` with its node dimension ``dim`` reordered: ``out.select(dim, i) = t.select(dim, perm[i])``."""
    return t.index_select(dim, perm.to(t.device))


def permute_graph(graph: Any, perm: Tensor) -> Any:
    """Relabel the nodes of ``graph`` (new node ``i`` = old node ``perm[i]``); returns the same type.

    Supports :class:`sampling.Graph` (weights kept), an int64 ``edge_index`` ``[2, E]``, a dense
    floating ``[N, N]`` adjacency, and a tuple ``(graph, edge_attr...)`` whose first element is
    one of those (edge attributes travel with their edges, so they are returned unchanged).
    """
    if isinstance(graph, tuple):
        return (permute_graph(graph[0], perm),) + tuple(graph[1:])
    if isinstance(graph, Graph):
        if not graph.is_square:
            raise ValueError(f"permute_graph: needs a square graph (got shape {graph.shape})")
        ei, w = graph.to_edge_index()  # [2, E] (source, target)
        inv = _inverse(perm.to(ei.device))
        return Graph.from_edge_index(inv[ei], num_nodes=graph.num_nodes, weight=w)
    if isinstance(graph, Tensor) and graph.dtype == torch.int64 and graph.dim() == 2 and graph.shape[0] == 2:
        # edge order is kept, so per-edge attributes stay aligned
        return _inverse(perm.to(graph.device))[graph]
    if isinstance(graph, Tensor) and graph.dim() == 2 and graph.shape[0] == graph.shape[1]:
        p = perm.to(graph.device)
        return graph.index_select(0, p).index_select(1, p)
    raise TypeError(
        "permute_graph: expected a sampling.Graph, an int64 edge_index [2, E], a dense [N, N] adjacency "
        f"or a tuple starting with one of those (got {type(graph).__name__}); pass permute_graph=..."
    )


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _dims(dims: Dims, n: int, what: str) -> tuple[int, ...]:
    if isinstance(dims, int):
        return (dims,) * n
    dims = tuple(dims)
    if len(dims) != n:
        raise ValueError(f"equivariance: {what} needs one dim per tensor ({n}) (got {len(dims)})")
    return dims


def _num_nodes(xs: tuple, dims: tuple[int, ...]) -> int:
    sizes = {t.shape[d] for t, d in zip(xs, dims)}
    if len(sizes) != 1:
        raise ValueError(f"equivariance: node inputs disagree on the number of nodes (got sizes {sorted(sizes)})")
    return sizes.pop()


def _call(fn: Callable, xs: tuple, single: bool, graph: Any) -> tuple:
    out = fn(xs[0] if single else xs, graph)
    return _as_tuple(out)


def _permuted_call(fn, x, graph, perm, generator, node_dims, permute_graph_fn):
    single = not isinstance(x, (tuple, list))
    xs = _as_tuple(x)
    dims = _dims(node_dims, len(xs), "node_dims")
    n = _num_nodes(xs, dims)
    if perm is None:
        perm = random_permutation(n, generator)
    perm = _check_perm(perm, n)
    out = _call(fn, xs, single, graph)
    xs_p = tuple(permute_nodes(t, perm, d) for t, d in zip(xs, dims))
    out_p = _call(fn, xs_p, single, permute_graph_fn(graph, perm))
    if len(out) != len(out_p):
        raise AssertionError(f"equivariance: the model returned {len(out)} outputs, then {len(out_p)}")
    return out, out_p, perm


def _tolerances(t: Tensor, rtol: Optional[float], atol: Optional[float]) -> dict:
    if rtol is not None or atol is not None:
        return {"rtol": rtol if rtol is not None else 0.0, "atol": atol if atol is not None else 0.0}
    if t.dtype == torch.float64:
        return {"rtol": 1e-9, "atol": 1e-10}
    if t.is_floating_point():
        return {"rtol": 1e-4, "atol": 1e-5}
    return {"rtol": 0.0, "atol": 0.0}


def assert_node_equivariant(
    fn: Callable[[Any, Any], Any],
    x: NodeInput,
    graph: Any,
    perm: Optional[Tensor] = None,
    *,
    generator: Optional[torch.Generator] = None,
    node_dims: Dims = 0,
    out_node_dims: Dims = 0,
    permute_graph: Callable[[Any, Tensor], Any] = permute_graph,
    rtol: Optional[float] = None,
    atol: Optional[float] = None,
) -> Tensor:
    """Assert ``fn(P x, P G) == P fn(x, G)`` for each output; returns the permutation used.

    Args:
        fn: ``fn(x, graph)`` -> tensor or tuple of tensors, each with a node dimension.
        x: one node tensor or a tuple of them (the tuple is passed to ``fn`` as a tuple).
        graph: see :func:`permute_graph`.
        perm: the permutation; random (never the identity) from ``generator`` when omitted.
        node_dims / out_node_dims: node dimension of each input / output tensor.
        rtol, atol: tolerances; by default dtype-aware (exact for integer outputs).
    """
    out, out_p, perm = _permuted_call(fn, x, graph, perm, generator, node_dims, permute_graph)
    for k, (a, b, d) in enumerate(zip(out, out_p, _dims(out_node_dims, len(out), "out_node_dims"))):
        expected = permute_nodes(a, perm, d)
        torch.testing.assert_close(
            b,
            expected,
            **_tolerances(a, rtol, atol),
            msg=lambda m, k=k: f"node-level equivariance fails for output {k}: {m}",
        )
    return perm


def assert_graph_invariant(
    fn: Callable[[Any, Any], Any],
    x: NodeInput,
    graph: Any,
    perm: Optional[Tensor] = None,
    *,
    generator: Optional[torch.Generator] = None,
    node_dims: Dims = 0,
    permute_graph: Callable[[Any, Tensor], Any] = permute_graph,
    rtol: Optional[float] = None,
    atol: Optional[float] = None,
) -> Tensor:
    """Assert ``fn(P x, P G) == fn(x, G)`` (graph-level invariance); returns the permutation used."""
    out, out_p, perm = _permuted_call(fn, x, graph, perm, generator, node_dims, permute_graph)
    for k, (a, b) in enumerate(zip(out, out_p)):
        torch.testing.assert_close(
            b,
            a,
            **_tolerances(a, rtol, atol),
            msg=lambda m, k=k: f"graph-level invariance fails for output {k}: {m}",
        )
    return perm
