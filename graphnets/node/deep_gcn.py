"""``DeepGCN``: a residual deep GCN (8-32 layers) as a sequence of layers a pipeline can split."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from graphnets.conv import GCNConv, gcn_norm
from graphnets.conv._inputs import GraphLike
from sampling import Graph
from sampling.pipeline import NodeWise

__all__ = ["DeepGCN", "ResGCNBlock"]


def _check_positive(fn: str, name: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{fn}: {name} must be a positive int (got {v!r})")


class ResGCNBlock(nn.Module):
    r"""One "res+" block :math:`x' = x_{\mathrm{dst}} + \mathrm{GCN}(\mathrm{drop}(\mathrm{ReLU}(\mathrm{LN}(x))))`
    over an already normalised graph (see :class:`DeepGCN`).

    Args:
        channels: width ``H`` (in and out).
        dropout: dropout probability before the convolution.
        norm: use LayerNorm.
    """

    def __init__(self, channels: int, dropout: float = 0.5, norm: bool = True) -> None:
        super().__init__()
        _check_positive("ResGCNBlock", "channels", channels)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"ResGCNBlock: dropout must be in [0, 1) (got {dropout!r})")
        self.channels, self.dropout, self.use_norm = channels, float(dropout), bool(norm)
        self.norm = nn.LayerNorm(channels) if norm else nn.Identity()
        self.conv = GCNConv(channels, channels, normalize=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if isinstance(self.norm, nn.LayerNorm):
            self.norm.reset_parameters()
        self.conv.reset_parameters()

    def forward(self, x: Tensor, graph: GraphLike) -> Tensor:
        h = F.dropout(F.relu(self.norm(x)), self.dropout, self.training)  # [num_src, H]
        out = self.conv(h, graph)  # [num_dst, H]
        return out + x[: out.shape[0]]

    def extra_repr(self) -> str:
        return f"{self.channels}, dropout={self.dropout}, norm={self.use_norm}"


class _Head(nn.Module):
    def __init__(self, channels: int, out_channels: int, dropout: float, norm: bool) -> None:
        super().__init__()
        self.dropout = dropout
        self.norm = nn.LayerNorm(channels) if norm else nn.Identity()
        self.lin = nn.Linear(channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.lin(F.dropout(F.relu(self.norm(x)), self.dropout, self.training))


class DeepGCN(nn.Module):
    r"""Residual deep GCN written as a sequence of layers a pipeline can split.

    Pre-activation residual blocks of DeeperGCN (Li, Xiong, Thabet & Ghanem, "DeeperGCN: All You Need to
    Train Deeper GCNs", arXiv 2006.07739, the "res+" block; official code lightaime/deep_gcns_torch):

    .. math::
        H^{(0)} &= X W_{\mathrm{in}} + b_{\mathrm{in}} \quad (\text{after input dropout}) \\
        H^{(l+1)} &= H^{(l)} + \hat A\,\mathrm{drop}\big(\mathrm{ReLU}(\mathrm{LN}(H^{(l)}))\big) W^{(l)} + b^{(l)},
            \qquad l = 0 .. L-1 \\
        Z &= \mathrm{drop}\big(\mathrm{ReLU}(\mathrm{LN}(H^{(L)}))\big) W_{\mathrm{out}} + b_{\mathrm{out}}

    with :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}` (:func:`graphnets.conv.gcn_norm`).

    :meth:`DeepGCN.pipeline_layers` returns ``[encoder, block_0 .. block_{L-1}, head]`` (the encoder and
    head wrapped in :class:`sampling.pipeline.NodeWise`) and :meth:`DeepGCN.layer_widths` their input
    widths, what :class:`sampling.pipeline.GNNPipe` takes; :meth:`forward` runs the very same sequence on
    the whole graph, so the pipelined and the unpipelined model are one function.

    Differences from DeeperGCN: LayerNorm instead of BatchNorm (a row-wise norm gives a graph chunk the
    same values as the whole graph, so pipelined micro-batches and the full graph agree); GCN
    aggregation instead of DeeperGCN's softmax-aggregated GENConv; a linear encoder in place of the
    first graph convolution.

    Args:
        in_channels: input features ``F``.
        hidden_channels: width ``H`` of every block.
        out_channels: classes ``C``.
        num_layers: residual GCN blocks ``L`` (>= 1).
        dropout: dropout before every convolution, on the input and before the classifier.
        norm: LayerNorm in each block (``False``: identity).

    Shapes:
        x ``[N, F]``, graph a square :class:`sampling.Graph` (raw; normalised inside and memoised) ->
        logits ``[N, C]``. A block layer takes ``(x_src [num_src, H], graph)`` with a normalised
        :class:`sampling.Graph` or :class:`sampling.Block` and returns ``[num_dst, H]``.

    Example:
        >>> import torch
        >>> from sampling import Graph
        >>> g = Graph.from_edge_index(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
        >>> model = DeepGCN(4, 8, 2, num_layers=3)
        >>> model(torch.rand(3, 4), g).shape
        torch.Size([3, 2])
        >>> len(model.pipeline_layers()), model.layer_widths()
        (5, [4, 8, 8, 8, 8])
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_layers: int = 16,
        dropout: float = 0.5,
        norm: bool = True,
    ) -> None:
        super().__init__()
        for name, v in (
            ("in_channels", in_channels),
            ("hidden_channels", hidden_channels),
            ("out_channels", out_channels),
            ("num_layers", num_layers),
        ):
            _check_positive("DeepGCN", name, v)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"DeepGCN: dropout must be in [0, 1) (got {dropout!r})")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.num_layers, self.dropout, self.norm = num_layers, float(dropout), bool(norm)
        self.encoder = NodeWise(nn.Sequential(nn.Dropout(dropout), nn.Linear(in_channels, hidden_channels)))
        self.blocks = nn.ModuleList(ResGCNBlock(hidden_channels, dropout, norm) for _ in range(num_layers))
        self.head = NodeWise(_Head(hidden_channels, out_channels, dropout, norm))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.encoder.module[1].reset_parameters()
        for block in self.blocks:
            block.reset_parameters()
        if isinstance(self.head.module.norm, nn.LayerNorm):
            self.head.module.norm.reset_parameters()
        self.head.module.lin.reset_parameters()

    def pipeline_layers(self) -> list[nn.Module]:
        """``[encoder, blocks..., head]``: the model as the layer sequence a pipeline splits (shared modules)."""
        return [self.encoder, *self.blocks, self.head]

    def layer_widths(self) -> list[int]:
        """Input width of each of :meth:`pipeline_layers` (sizes GNNPipe's historical tables)."""
        return [self.in_channels] + [self.hidden_channels] * (self.num_layers + 1)

    @staticmethod
    def propagation_graph(graph: Graph) -> Graph:
        """The graph the blocks aggregate over: :func:`graphnets.conv.gcn_norm` of ``graph`` (memoised)."""
        return gcn_norm(graph)

    def forward(self, x: Tensor, graph: Graph) -> Tensor:
        if not isinstance(graph, Graph) or not graph.is_square or graph.num_rows != x.shape[0]:
            got = f"shape {graph.shape}" if isinstance(graph, Graph) else type(graph).__name__
            raise ValueError(
                f"DeepGCN: graph must be a square sampling.Graph over the {x.shape[0]} nodes of x (got {got})"
            )
        g = self.propagation_graph(graph)
        h = self.encoder(x)  # [N, H]
        for block in self.blocks:
            h = block(h, g)  # [N, H]
        return self.head(h)  # [N, C]

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, hidden_channels={self.hidden_channels}, "
            f"out_channels={self.out_channels}, num_layers={self.num_layers}, dropout={self.dropout}, "
            f"norm={self.norm}"
        )
