"""A small GCN written against ``cuda_ext.spmm`` and ``sampling.Graph``/``Block`` for the pipeline tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cuda_ext import spmm
from sampling import Block, Graph
from sampling.pipeline import NodeWise


class TinyGCN(nn.Module):
    """``x' = tanh(A_hat x W + b) + x[:num_dst]`` (a residual GCN layer) on a Graph or a Block."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.lin = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, graph) -> torch.Tensor:
        g = graph.graph if isinstance(graph, Block) else graph
        h = self.lin(x)
        return torch.tanh(spmm(g, h, g.weight.to(h.dtype))) + x[: g.num_rows]


def random_graph(n: int, avg_degree: float, seed: int) -> Graph:
    gen = torch.Generator().manual_seed(seed)
    m = int(n * avg_degree / 2)
    src = torch.randint(0, n, (m,), generator=gen)
    dst = torch.randint(0, n, (m,), generator=gen)
    keep = src != dst
    ei = torch.stack([torch.cat([src[keep], dst[keep]]), torch.cat([dst[keep], src[keep]])])
    ei = torch.unique(ei, dim=1)
    return Graph.from_edge_index(ei, num_nodes=n).normalize("sym", add_self_loops=True)


def gcn_layers(
    num_features: int, width: int, depth: int, classes: int, seed: int, dtype=torch.float64, dropout: float = 0.0
) -> list[nn.Module]:
    torch.manual_seed(seed)
    head = [nn.Linear(num_features, width)] + ([nn.Dropout(dropout)] if dropout else [])
    layers = [NodeWise(nn.Sequential(*head))]
    layers += [TinyGCN(width) for _ in range(depth)]
    layers.append(NodeWise(nn.Linear(width, classes)))
    return [m.to(dtype) for m in layers]


def run_full(layers, x, graph):
    for layer in layers:
        x = layer(x) if isinstance(layer, NodeWise) else layer(x, graph)
    return x


def masked_ce(out: torch.Tensor, targets) -> torch.Tensor:
    """Cross-entropy weighted per node (weights zero outside the training set and on padding rows)."""
    y, w = targets
    return (F.cross_entropy(out, y, reduction="none") * w).sum()


def toy_data(n: int, f: int, classes: int, seed: int, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, f, generator=gen, dtype=dtype)
    y = torch.randint(0, classes, (n,), generator=gen)
    train = torch.rand(n, generator=gen) < 0.5
    w = train.to(dtype) / train.sum()
    return x, y, w
