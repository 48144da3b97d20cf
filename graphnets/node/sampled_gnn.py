r"""``SampledGNN``: a stack of GraphSAGE or GCN layers run on sampled message-flow blocks or on the whole graph."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from graphnets.conv import GCNConv, SAGEConv
from graphnets.conv._inputs import GraphLike

__all__ = ["SAMPLED_MODELS", "SampledGNN"]

SAMPLED_MODELS = ("sage", "gcn")


class SampledGNN(nn.Module):
    r"""``L`` graph convolutions, ReLU between them and dropout before each:
    :math:`h^{l+1} = \sigma(\mathrm{conv}_l(\mathrm{drop}(h^l), G_l))`, no activation after the last.

    ``model="sage"``: :class:`graphnets.conv.SAGEConv` (mean aggregation, Hamilton et al., NeurIPS 2017);
    ``model="gcn"``: :class:`graphnets.conv.GCNConv` with :math:`D_r^{-1/2}(A+I)D_c^{-1/2}` (self loops always
    added, degrees of rows and columns; Kipf & Welling, ICLR 2017), which on a sampled block normalises by the
    block's own degrees. ``graphs`` is one graph per layer: the blocks of a
    :class:`sampling.NeighborSampler` (first hop last, as sampled), or the whole graph repeated ``L`` times.

    Shapes: ``x [num_src_0, dims[0]]`` -> ``[num_dst_{L-1}, dims[-1]]``.

    Args:
        model: ``"sage"`` or ``"gcn"``.
        dims: ``[in, hidden..., out]`` widths; ``len(dims) - 1`` layers (``>= 1``).
        dropout: dropout probability in ``[0, 1]``.

    Raises:
        ValueError: an unknown model, fewer than two widths, or a dropout outside ``[0, 1]``.

    The convolutions initialise themselves as they are built (``reset_parameters`` re-draws them), so a seeded
    construction gives the same weights as building the layers one by one.
    """

    def __init__(self, model: str, dims: Sequence[int], dropout: float) -> None:
        super().__init__()
        if model not in SAMPLED_MODELS:
            raise ValueError(f"SampledGNN: model must be one of {SAMPLED_MODELS} (got {model!r})")
        if len(dims) < 2:
            raise ValueError(f"SampledGNN: dims must hold an input and an output width (got {list(dims)})")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"SampledGNN: dropout must lie in [0, 1] (got {dropout})")
        self.model, self.dims, self.dropout = model, [int(d) for d in dims], float(dropout)

        def conv(a: int, b: int) -> nn.Module:
            return SAGEConv(a, b) if model == "sage" else GCNConv(a, b, remaining_self_loops=False, degree="both")

        self.convs = nn.ModuleList(conv(a, b) for a, b in zip(self.dims[:-1], self.dims[1:]))

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, graphs: Sequence[GraphLike], x: Tensor) -> Tensor:
        if len(graphs) != len(self.convs):
            raise ValueError(f"SampledGNN: expected one graph per layer ({len(self.convs)}) (got {len(graphs)})")
        for i, (conv, graph) in enumerate(zip(self.convs, graphs)):
            x = conv(F.dropout(x, self.dropout, self.training), graph)  # [num_dst_i, dims[i+1]]
            x = x.relu() if i < len(self.convs) - 1 else x
        return x

    def extra_repr(self) -> str:
        return f"model={self.model!r}, dims={self.dims}, dropout={self.dropout}"
