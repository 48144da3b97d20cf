"""DAGNN: Deep Adaptive Graph Neural Network (an MLP, then :class:`graphnets.conv.DAGNNConv`)."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import cuda_ext
from graphnets.conv import DAGNNConv
from graphnets.conv._inputs import as_graph
from graphnets.conv.propagate import check_square
from graphnets.seeded import dropout as _dropout
from graphnets.seeded import reset_linear
from sampling import Graph

__all__ = ["DAGNN"]


class DAGNN(nn.Module):
    r"""DAGNN of Liu, Gao, Ji, "Towards Deeper Graph Neural Networks", KDD 2020,
    https://arxiv.org/abs/2007.09296; official code https://github.com/divelab/DeeperGNN
    (``DeeperGNN/dagnn.py``).

    .. math::
        Z &= \mathrm{MLP}(X) = W_2\,\mathrm{drop}(\mathrm{ReLU}(W_1\,\mathrm{drop}(X) + b_1)) + b_2
            \in \mathbb{R}^{N\times C} \\
        H_k &= \hat A^k Z,\quad k = 0..K,\qquad \hat A = \tilde D^{-1/2}(A+I)\tilde D^{-1/2} \\
        s_{ik} &= \sigma(H_{k,i}\, s + b) \in (0, 1) \quad\text{(one projection } s\in\mathbb{R}^{C}
            \text{ shared by all hops)} \\
        \mathrm{out}_i &= \log\mathrm{softmax}\Big(\sum_{k=0}^{K} s_{ik} H_{k,i}\Big)

    The propagation and the retention scores are :class:`graphnets.conv.DAGNNConv` (``self.prop``,
    as the official ``Prop``); propagation happens in class space (``C`` channels) and has no
    parameters; the retention scores are sigmoids, not a softmax, so the output is a weighted
    *sum* of hops.

    Args:
        in_channels: ``F``. hidden_channels: MLP width (paper 64). out_channels: ``C``.
        K: propagation steps. dropout: dropout before each Linear.
        adaptive: ``True`` = DAGNN; ``False`` = the ablation that returns ``log_softmax(H_K)`` (last
            hop only; the projection is then unused), as asked in DeeperGNN issue #7.

    Shapes:
        x ``[N, F]`` dense, or a torch sparse (COO/CSR) ``[N, F]`` tensor; graph
        :class:`sampling.Graph` ``N x N`` (raw; :math:`\hat A` is memoised on the graph object)
        -> ``[N, C]`` log-probabilities.

    Differences from the official code: sparse features are multiplied through :func:`cuda_ext.spmm`
    with dropout on the stored values (for a sparse ``x`` this is the same distribution as dense
    dropout, since dropped zeros stay zero; far cheaper on CPU; the CSR of a sparse ``x`` is kept
    for the last ``x`` seen and dropped by :meth:`reset_parameters`); dropout masks and
    initialisation can come from a ``torch.Generator``; ``squeeze(-1)`` instead of ``squeeze()``
    (the official code breaks for one node or ``K = 0``); the normalised graph is computed once per
    graph object instead of every forward.

    Example:
        >>> import torch
        >>> from sampling import Graph
        >>> g = Graph.from_edge_index(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
        >>> model = DAGNN(4, 8, 2, K=3, dropout=0.5)
        >>> model(torch.rand(3, 4), g).shape
        torch.Size([3, 2])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        K: int,
        dropout: float = 0.5,
        adaptive: bool = True,
    ) -> None:
        super().__init__()
        for name, v in (
            ("in_channels", in_channels),
            ("hidden_channels", hidden_channels),
            ("out_channels", out_channels),
        ):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"DAGNN: {name} must be a positive int (got {v!r})")
        if not isinstance(K, int) or K < 0:
            raise ValueError(f"DAGNN: K must be a non-negative int (got {K!r})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"DAGNN: dropout must be in [0, 1) (got {dropout})")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.K = K
        self.dropout = float(dropout)
        self.adaptive = bool(adaptive)
        self.lin1 = nn.Linear(in_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, out_channels)
        self.prop = DAGNNConv(out_channels, K)
        self._feat_cache: tuple[Optional[Tensor], Optional[Graph]] = (None, None)
        self.reset_parameters()

    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        """Re-initialise ``lin1``, ``lin2`` and the retention projection (in that order) and drop the input cache."""
        for lin in (self.lin1, self.lin2):
            reset_linear(lin, generator)
        self.prop.reset_parameters(generator)
        self._feat_cache = (None, None)

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, hidden_channels={self.hidden_channels}, "
            f"out_channels={self.out_channels}, K={self.K}, dropout={self.dropout}, adaptive={self.adaptive}"
        )

    # --- pieces ----------------------------------------------------------------------------
    def _features_graph(self, x: Tensor) -> Graph:
        if self._feat_cache[0] is not x:
            self._feat_cache = (x, Graph.from_torch_sparse(x.to_sparse_csr() if x.layout == torch.sparse_coo else x))
        return self._feat_cache[1]

    def mlp(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """``Z = lin2(drop(relu(lin1(drop(x)))))`` ``[N, C]``; ``x`` dense or torch sparse."""
        if x.layout != torch.strided:
            fx = self._features_graph(x)  # [N, F] CSR of the feature values
            vals = _dropout(fx.weight.to(self.lin1.weight.dtype), self.dropout, self.training, generator)
            h = cuda_ext.spmm(fx, self.lin1.weight.t(), vals) + self.lin1.bias  # [N, hidden]
        else:
            h = self.lin1(_dropout(x, self.dropout, self.training, generator))
        h = _dropout(F.relu(h), self.dropout, self.training, generator)
        return self.lin2(h)

    def hops(self, x: Tensor, graph: Graph, generator: Optional[torch.Generator] = None) -> Tensor:
        """``[N, K+1, C]`` stack ``[H_0, .., H_K]``."""
        self._check(x, graph)
        return self.prop.hops(self.mlp(x, generator), graph)

    def forward(self, x: Tensor, graph: Graph, generator: Optional[torch.Generator] = None) -> Tensor:
        if not self.adaptive:
            return F.log_softmax(self.hops(x, graph, generator)[:, -1], dim=-1)
        self._check(x, graph)
        return F.log_softmax(self.prop(self.mlp(x, generator), graph), dim=-1)

    def _check(self, x: Tensor, graph: Graph) -> None:
        if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
            got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"DAGNN: x must be a 2-D floating tensor [N, F] (got {got})")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"DAGNN: x must have in_channels={self.in_channels} features (got {x.shape[1]})")
        check_square(as_graph("DAGNN", graph), x.shape[0], "DAGNN")
