r"""DAGNN's deep propagation as a sequence of layers a pipeline can split (``dagnn_layers``).

DAGNN (Liu, Gao & Ji, KDD 2020; :class:`graphnets.node.DAGNN`) computes :math:`Z = \mathrm{MLP}(X)`, the
hops :math:`H_k = \hat A^k Z` (``k = 0..K``) and the adaptive sum :math:`\sum_k s_k H_k` with retention
scores :math:`s_k = \sigma(H_k s + b)` from one projection shared by all hops. Split over stages:

* :class:`DAGNNEncoder` (row-wise): the MLP, ``[n, F] -> [n, C]`` (= :math:`H_0`);
* :class:`DAGNNHop` ``k = 1..K`` (graph layers, no parameters): the running stack
  :math:`[H_0 \| \dots \| H_{k-1}]` ``[n_src, kC]`` -> :math:`[H_0 \| \dots \| H_k]` ``[n_dst, (k+1)C]``,
  propagating only the last ``C`` columns;
* :class:`DAGNNReadout` (row-wise): the retention scores and the weighted sum, then
  ``log_softmax``: ``[n, (K+1)C] -> [n, C]``.

Carrying the stack keeps the shared projection in one stage (the readout), so the pipelined model
is exactly DAGNN with the same parameters; the price is activations that grow by ``C`` per hop (small:
DAGNN propagates in class space). Dense features only (DAGNN's sparse-feature path is not split).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphnets.conv import DAGNNConv, GCNConv
from graphnets.conv._inputs import GraphLike, as_graph
from graphnets.node.dagnn import DAGNN
from sampling.pipeline import NodeWise

__all__ = ["DAGNNEncoder", "DAGNNHop", "DAGNNReadout", "dagnn_layers"]


class DAGNNEncoder(nn.Module):
    """DAGNN's MLP ``lin2(drop(relu(lin1(drop(x)))))`` on the given (shared) linear layers: ``[n, F] -> [n, C]``."""

    def __init__(self, lin1: nn.Linear, lin2: nn.Linear, dropout: float) -> None:
        super().__init__()
        self.lin1, self.lin2, self.dropout = lin1, lin2, float(dropout)

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.lin1(F.dropout(x, self.dropout, self.training)))  # [n, hidden]
        return self.lin2(F.dropout(h, self.dropout, self.training))  # [n, C]

    def extra_repr(self) -> str:
        return f"dropout={self.dropout}"


class DAGNNHop(nn.Module):
    r"""Hop ``k``: append :math:`\hat A H_{k-1}` to the stack, the aggregation of a parameter-free
    :class:`graphnets.conv.GCNConv` (``weight=False, normalize=False, bias=False``: the graph's weights are
    used as given, i.e. already normalised). ``x_src [num_src, kC]`` (destinations first) -> ``[num_dst, (k+1)C]``."""

    def __init__(self, channels: int, k: int) -> None:
        super().__init__()
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"DAGNNHop: k must be an int >= 1 (got {k!r})")
        self.channels, self.k = int(channels), k
        self.conv = GCNConv(self.channels, self.channels, weight=False, normalize=False, bias=False)

    def forward(self, x: Tensor, graph: GraphLike) -> Tensor:
        g = as_graph("DAGNNHop", graph)
        if x.shape[1] != self.k * self.channels:
            raise ValueError(
                f"DAGNNHop: hop {self.k} expects a stack of {self.k} x {self.channels} columns (got {x.shape[1]})"
            )
        h = x[:, -self.channels :]  # H_{k-1} of every source  [num_src, C]
        new = self.conv(h, g)  # [num_dst, C]
        return torch.cat([x[: g.num_rows], new], dim=1)  # [num_dst, (k+1)C]

    def extra_repr(self) -> str:
        return f"channels={self.channels}, k={self.k}"


class DAGNNReadout(nn.Module):
    """Adaptive sum of the hop stack with the (shared) :class:`graphnets.conv.DAGNNConv` retention, then
    ``log_softmax``; ``adaptive=False`` keeps the last hop only. ``[n, (K+1)C] -> [n, C]``."""

    def __init__(self, prop: DAGNNConv, adaptive: bool = True) -> None:
        super().__init__()
        self.prop, self.adaptive = prop, bool(adaptive)

    def forward(self, stack: Tensor) -> Tensor:
        C = self.prop.in_channels
        hops = stack.view(stack.shape[0], -1, C)  # [n, K+1, C]
        if not self.adaptive:
            return F.log_softmax(hops[:, -1], dim=-1)
        score = self.prop.retention(hops)  # [n, K+1]
        return F.log_softmax((score.unsqueeze(1) @ hops).squeeze(1), dim=-1)  # [n, C]


def dagnn_layers(model: DAGNN) -> tuple[list[nn.Module], list[int]]:
    """``(layers, in_widths)`` of ``model`` for :class:`sampling.pipeline.GNNPipe`: the encoder, ``K`` hops
    and the readout, sharing ``model``'s parameters. The aggregation graph to give GNNPipe is
    ``graphnets.conv.gcn_norm(graph)``, the normalisation DAGNN uses.

    Raises:
        TypeError: ``model`` is not a :class:`graphnets.node.DAGNN`.
    """
    if not isinstance(model, DAGNN):
        raise TypeError(f"dagnn_layers: model must be a graphnets.node.DAGNN (got {type(model).__name__})")
    C, K = model.out_channels, model.K
    layers = [
        NodeWise(DAGNNEncoder(model.lin1, model.lin2, model.dropout)),
        *(DAGNNHop(C, k) for k in range(1, K + 1)),
        NodeWise(DAGNNReadout(model.prop, model.adaptive)),
    ]
    widths = [model.in_channels] + [k * C for k in range(1, K + 2)]
    return layers, widths
