r"""``GCNConv``: the graph convolution of Kipf & Welling, and ``gcn_norm``, its normalisation."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from cuda_ext import spmm
from graphnets.conv._inputs import GraphLike, NodeFeatures, as_graph, split_features
from sampling import Graph

__all__ = ["GCNConv", "gcn_norm"]


def gcn_norm(
    graph: Graph,
    *,
    add_self_loops: bool = True,
    fill_value: float = 1.0,
    remaining_self_loops: bool = True,
    degree: str = "target",
) -> Graph:
    r"""GCN's normalised adjacency :math:`\hat A = \tilde D^{-1/2} (A + \mathrm{fill}\, I) \tilde D^{-1/2}`.

    The defaults are PyG's ``gcn_norm`` (and the official DAGNN and SpikingGCN code): a loop of
    weight ``fill_value`` is added only to nodes without one, and edge ``j -> i`` is scaled by
    :math:`\tilde d_i^{-1/2} w_{ij} \tilde d_j^{-1/2}` with :math:`\tilde d` the weighted in-degree
    (row sum) of the looped graph for both ends. ``remaining_self_loops=False, degree="both"`` is
    the textbook :math:`D_r^{-1/2}(A + I)D_c^{-1/2}` (Kipf's ``preprocess_adj``, DGL's
    ``add_self_loop`` + ``GraphConv(norm="both")``), the only one defined on bipartite graphs and
    blocks. The two agree on symmetric graphs without self loops (every dataset used here).

    The result is memoised on ``graph`` (see :meth:`sampling.Graph.normalize`), so every layer
    and every call on the same graph object share one normalisation.

    Example:
        >>> g = Graph.from_edge_index(torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
        >>> gcn_norm(g).to_dense()
        tensor([[0.5000, 0.5000],
                [0.5000, 0.5000]])
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"gcn_norm: graph must be a sampling.Graph (got {type(graph).__name__})")
    return graph.normalize(
        "sym",
        add_self_loops=add_self_loops,
        fill_value=fill_value,
        remaining_self_loops=remaining_self_loops,
        degree=degree,
    )


class GCNConv(nn.Module):
    r"""Graph convolution from Kipf & Welling, "Semi-Supervised Classification with Graph
    Convolutional Networks", ICLR 2017 (https://arxiv.org/abs/1609.02907):

    .. math::
        X' = \hat D^{-1/2} \hat A \hat D^{-1/2} X W + b,
        \qquad \hat A = A + \mathrm{fill}\cdot I,

    i.e. :math:`x'_i = \sum_{j \in N(i) \cup \{i\}} \frac{\hat a_{ij}}{\sqrt{\hat d_i \hat d_j}} W^\top x_j + b`
    with edge weights :math:`a_{ij}` (1 when the graph is unweighted). Aggregation runs through
    :func:`cuda_ext.spmm` (deterministic); the normalisation (:func:`gcn_norm`) is memoised on the
    input graph object, so it is computed once per graph however many layers and epochs use it.

    The two self-loop normalisations in use are both reachable (they agree on symmetric graphs
    without loops, e.g. Cora, ZINC, residue graphs):

    * ``remaining_self_loops=True, degree="target"`` (default) -- PyG's ``GCNConv``/``gcn_norm``:
      loops only where missing (existing loop weights kept), both ends scaled by the *in*-degree;
      DAGNN and SpikingGCN use it, as their official code does.
    * ``remaining_self_loops=False, degree="both"`` -- :math:`D_r^{-1/2}(A + I)D_c^{-1/2}`: a loop
      added to every node, rows scaled by row sums and columns by column sums (DGL's
      ``GraphConv(norm="both")``); the CKGConv GCN baseline and the protein ``ResidueGCN`` use it.
      It is the one to use on bipartite graphs and sampled blocks.

    On a :class:`sampling.Block` the loop of destination ``i`` joins it to source ``i`` (the
    destinations are the first sources). ``x_dst`` of a ``(x_src, x_dst)`` input is not read: the
    destination's own term is the self loop.

    Args:
        in_channels: input width :math:`F`.
        out_channels: output width :math:`F'`.
        weight: learn :math:`W` (``[F, F']``, Xavier-normal init). ``False`` keeps only the aggregation
            :math:`\hat A X` (needs ``F == F'``): for parameter-free propagation and blocks that
            apply their own projection (CKGConv's post-norm block).
        improved: loop weight 2 instead of 1 (PyG's ``improved``).
        add_self_loops: add self loops before normalising.
        remaining_self_loops: add loops only to nodes without one (see above).
        degree: ``"target"`` or ``"both"`` (see above).
        normalize: compute :math:`\hat D^{-1/2} \hat A \hat D^{-1/2}`; ``False`` uses the graph's
            weights as they are (a graph normalised once outside, e.g. with :func:`gcn_norm`).
        bias: learn :math:`b` (zeros at init).

    Shapes:
        x ``[num_src, F]`` or ``(x_src [num_src, F], x_dst)``; graph a :class:`sampling.Graph` or
        :class:`sampling.Block` with ``num_dst`` rows; optional ``edge_weight [num_edges]``
        (replaces the graph's weights) -> ``[num_dst, F']``.

    Differences from PyG: ``weight=False``; the normalisation is memoised on the graph object
    (PyG's ``cached=True`` keeps the first graph's normalisation whatever graph comes next);
    ``degree="both"`` for blocks; :math:`W` is stored ``[F, F']`` with a Xavier-normal init (PyG:
    Glorot-uniform; the normal variant is what the S-GCN code uses for every layer, so the protein
    GCN baseline starts like the spherical convolutions it is compared with).

    Example:
        >>> import torch
        >>> from sampling import Graph
        >>> g = Graph.from_edge_index(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
        >>> conv = GCNConv(4, 2)
        >>> conv.weight.shape, conv.degree
        (torch.Size([4, 2]), 'target')
        >>> conv(torch.rand(3, 4), g).shape
        torch.Size([3, 2])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        weight: bool = True,
        improved: bool = False,
        add_self_loops: bool = True,
        remaining_self_loops: bool = True,
        degree: str = "target",
        normalize: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"GCNConv: {name} must be a positive int (got {v!r})")
        if not weight and in_channels != out_channels:
            raise ValueError(
                f"GCNConv: weight=False keeps the width, so in_channels must equal out_channels "
                f"(got {in_channels} and {out_channels})"
            )
        if degree not in ("target", "both"):
            raise ValueError(f"GCNConv: degree must be 'target' or 'both' (got {degree!r})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.improved = bool(improved)
        self.add_self_loops = bool(add_self_loops)
        self.remaining_self_loops = bool(remaining_self_loops)
        self.degree = degree
        self.normalize = bool(normalize)
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels)) if weight else None
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            nn.init.xavier_normal_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def normalized(self, graph: Graph) -> Graph:
        """The graph this layer aggregates over (:func:`gcn_norm` with the layer's options, or ``graph``)."""
        if not self.normalize:
            return graph
        return gcn_norm(
            graph,
            add_self_loops=self.add_self_loops,
            fill_value=2.0 if self.improved else 1.0,
            remaining_self_loops=self.remaining_self_loops,
            degree=self.degree,
        )

    def forward(self, x: NodeFeatures, graph: GraphLike, edge_weight: Optional[Tensor] = None) -> Tensor:
        g = as_graph("GCNConv", graph)
        x_src, _ = split_features("GCNConv", x, g, self.in_channels)
        if edge_weight is not None:
            g = g.with_weight(edge_weight)
        norm = self.normalized(g)
        h = x_src @ self.weight if self.weight is not None else x_src  # [num_src, F']
        w = norm.weight.to(h.dtype) if norm.weight is not None else None
        out = spmm(norm, h, w)  # [num_dst, F']
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, weight={self.weight is not None}, improved={self.improved}, "
            f"add_self_loops={self.add_self_loops}, remaining_self_loops={self.remaining_self_loops}, "
            f"degree={self.degree!r}, normalize={self.normalize}, bias={self.bias is not None}"
        )
