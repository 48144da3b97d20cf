r"""Graph-regression networks: CKGCN (CKGConv stack) and the same-size GCN baseline.

CKGCN as the official ZINC configuration (``configs/CKGConvMLP/zinc-CKGConvMLP-BN-BS32.yaml``):
node stem (atom embedding + absolute RRWP), pair stem (relative RRWP + bond embeddings),
``num_layers`` post-norm blocks around :class:`CKGConv`, sum pooling and the ``san_graph`` head
:math:`d \to d/2 \to d/4 \to 1` with ReLU. The pair embedding is computed once and shared by all
layers (each layer has its own kernel MLP), as in the official code.

:class:`GCNRegressor` has the same node stem, the same blocks with GCN aggregation in place of
CKGConv, the same pooling and head: only the convolution differs.

Input: a PyG ``Batch`` of graphs transformed by :class:`~graphnets.ckgconv.transform.AddRRWP`
with ``x`` ``[N]`` int64 atom types, ``edge_index`` ``[2, E]``, ``edge_attr`` ``[E]`` int64,
``abs_pe`` ``[N, K]``, ``pair_index`` ``[2, P]``, ``pair_attr`` ``[P, K+1]``, ``deg`` ``[N]``,
``batch`` ``[N]``. Output: ``[G]`` predictions (``node_embeddings`` gives ``[N, d]``).

Differences from the official code: no GraphGym; ``dim`` hidden, ``num_heads = dim`` fixed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import Tensor, nn

from graphnets.ckgconv.block import PostNormBlock
from graphnets.ckgconv.conv import CKGConv
from graphnets.ckgconv.gcn import GCNAggregation
from graphnets.ckgconv.stem import NodeStem, PairStem

__all__ = ["CKGCNConfig", "CKGCN", "GCNRegressor", "RegressionHead", "sum_pool"]


@dataclass
class CKGCNConfig:
    """Hyperparameters; defaults = official ZINC (subset) configuration."""

    num_node_types: int = 28
    num_edge_types: int = 4
    K: int = 21
    dim: int = 64
    num_layers: int = 10
    num_blocks: int = 2
    kernel_dropout: float = 0.5
    mlp_dropout: float = 0.1
    dropout: float = 0.0
    ffn_ratio: int = 2
    deg_scaler: bool = True
    rescale: bool = True


def sum_pool(h: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    """``out[g] = sum_{i: batch[i] = g} h[i]``; ``[N, d] -> [G, d]``."""
    return h.new_zeros(num_graphs, h.shape[1]).index_add_(0, batch, h)


class RegressionHead(nn.Module):
    """``san_graph`` head: Linear(d, d/2) - ReLU - Linear(d/2, d/4) - ReLU - Linear(d/4, 1)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, dim // 2), nn.ReLU(), nn.Linear(dim // 2, dim // 4), nn.ReLU(),
                                 nn.Linear(dim // 4, 1))

    def forward(self, g: Tensor) -> Tensor:
        return self.mlp(g).squeeze(-1)  # [G]


def _num_graphs(data: Any) -> int:
    n = getattr(data, "num_graphs", None)
    return int(n) if n is not None else 1


def _batch(data: Any, n: int, device: torch.device) -> Tensor:
    b = getattr(data, "batch", None)
    return b if b is not None else torch.zeros(n, dtype=torch.int64, device=device)


def _check_cfg(name: str, cfg: Any) -> CKGCNConfig:
    if not isinstance(cfg, CKGCNConfig):
        raise TypeError(f"{name}: cfg must be a CKGCNConfig (got {type(cfg).__name__})")
    if cfg.dim < 4 or cfg.num_layers < 1 or cfg.K < 0:
        raise ValueError(f"{name}: need dim >= 4, num_layers >= 1, K >= 0 (got dim={cfg.dim}, "
                         f"num_layers={cfg.num_layers}, K={cfg.K})")
    return cfg


class CKGCN(nn.Module):
    """CKGConv graph-regression network (see the module docstring)."""

    def __init__(self, cfg: Optional[CKGCNConfig] = None) -> None:
        super().__init__()
        self.cfg = cfg = _check_cfg("CKGCN", cfg if cfg is not None else CKGCNConfig())
        self.node_stem = NodeStem(cfg.num_node_types, cfg.K, cfg.dim)
        self.pair_stem = PairStem(cfg.K, cfg.dim, cfg.num_edge_types, rescale=cfg.rescale)
        self.layers = nn.ModuleList(
            PostNormBlock(CKGConv(cfg.dim, cfg.num_blocks, cfg.kernel_dropout, cfg.mlp_dropout, cfg.deg_scaler),
                          cfg.dim, cfg.dropout, cfg.ffn_ratio)
            for _ in range(cfg.num_layers)
        )
        self.head = RegressionHead(cfg.dim)

    def node_embeddings(self, data: Any) -> Tensor:
        n = data.x.shape[0]
        if data.pair_attr.shape[-1] != self.cfg.K + 1:
            raise ValueError(f"CKGCN: data was transformed with K={data.pair_attr.shape[-1] - 1} but the model has "
                             f"K={self.cfg.K} (got pair_attr {tuple(data.pair_attr.shape)})")
        h = self.node_stem(data.x, data.abs_pe)  # [N, d]
        e = self.pair_stem(data.pair_attr, data.pair_index, n, data.edge_index, getattr(data, "edge_attr", None))
        for layer in self.layers:
            h = layer(h, data.pair_index, e, data.deg)
        return h

    def forward(self, data: Any) -> Tensor:
        h = self.node_embeddings(data)
        return self.head(sum_pool(h, _batch(data, h.shape[0], h.device), _num_graphs(data)))


class GCNRegressor(nn.Module):
    """Same stem, blocks, pooling and head as :class:`CKGCN`, with GCN aggregation."""

    def __init__(self, cfg: Optional[CKGCNConfig] = None) -> None:
        super().__init__()
        self.cfg = cfg = _check_cfg("GCNRegressor", cfg if cfg is not None else CKGCNConfig())
        self.node_stem = NodeStem(cfg.num_node_types, cfg.K, cfg.dim)
        self.layers = nn.ModuleList(
            PostNormBlock(GCNAggregation(), cfg.dim, cfg.dropout, cfg.ffn_ratio) for _ in range(cfg.num_layers)
        )
        self.head = RegressionHead(cfg.dim)

    def node_embeddings(self, data: Any) -> Tensor:
        h = self.node_stem(data.x, getattr(data, "abs_pe", None))
        for layer in self.layers:
            h = layer(h, data.edge_index)
        return h

    def forward(self, data: Any) -> Tensor:
        h = self.node_embeddings(data)
        return self.head(sum_pool(h, _batch(data, h.shape[0], h.device), _num_graphs(data)))
