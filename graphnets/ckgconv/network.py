"""Graph-regression networks: CKGCN (a CKGConv stack) and the same-size GCN baseline, on PyG batches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import Tensor, nn

from graphnets.ckgconv.block import PostNormBlock
from graphnets.ckgconv.stem import NodeStem, PairStem
from graphnets.conv import CKGConv, GCNConv
from sampling import Graph, GraphBatch

__all__ = ["CKGCNConfig", "CKGCN", "GCNRegressor", "RegressionHead", "batch_graph"]


@dataclass(frozen=True)
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


def batch_graph(data: Any, index: Tensor) -> GraphBatch:
    """The block-diagonal :class:`sampling.GraphBatch` of a PyG ``Batch`` (or one ``Data``) for a pair list.

    ``index`` is PyG-style ``[2, E]`` (row 0 source, row 1 target) over the batch's concatenated
    nodes (``edge_index``, or the kernel support ``pair_index``); graph ``k`` owns the nodes
    ``data.ptr[k] .. data.ptr[k+1]-1`` (a single ``Data`` is one graph). The CSR keeps the list's
    order when it is sorted by (target, source), as :class:`~graphnets.ckgconv.AddRRWP` returns
    ``pair_index``.

    Raises:
        ValueError: an entry joins two graphs.
    """
    n = data.x.shape[0]
    ptr = getattr(data, "ptr", None)
    if ptr is None:
        ptr = torch.tensor([0, n], device=index.device)
    return GraphBatch.from_ptr(Graph.from_edge_index(index, num_nodes=n), ptr)


def _check_sorted(pair_index: Tensor, n: int) -> None:
    key = pair_index[1] * n + pair_index[0]  # [P]
    if key.numel() > 1 and bool((key[1:] < key[:-1]).any()):
        raise ValueError(
            "CKGCN: pair_index must be sorted by (target, source), as AddRRWP returns it, so that the "
            "pair embeddings follow the support's CSR order (got an unsorted list)"
        )


class RegressionHead(nn.Module):
    """``san_graph`` head: Linear(d, d/2) - ReLU - Linear(d/2, d/4) - ReLU - Linear(d/4, 1)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(
            nn.Linear(dim, dim // 2), nn.ReLU(), nn.Linear(dim // 2, dim // 4), nn.ReLU(), nn.Linear(dim // 4, 1)
        )

    def forward(self, g: Tensor) -> Tensor:
        return self.mlp(g).squeeze(-1)  # [G]

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def _check_cfg(name: str, cfg: Any) -> CKGCNConfig:
    if not isinstance(cfg, CKGCNConfig):
        raise TypeError(f"{name}: cfg must be a CKGCNConfig (got {type(cfg).__name__})")
    if cfg.dim < 4 or cfg.num_layers < 1 or cfg.K < 0:
        raise ValueError(
            f"{name}: need dim >= 4, num_layers >= 1, K >= 0 (got dim={cfg.dim}, "
            f"num_layers={cfg.num_layers}, K={cfg.K})"
        )
    return cfg


class _PooledRegressor(nn.Module):
    """What :class:`CKGCN` and :class:`GCNRegressor` share: the subclass's ``_embed(data)`` gives
    ``(h [N, d], batch)``; graph predictions are ``head`` of the batch's pooled ``h``."""

    cfg: CKGCNConfig
    head: RegressionHead

    def _embed(self, data: Any) -> tuple[Tensor, GraphBatch]:
        raise NotImplementedError(f"{type(self).__name__}._embed must be defined by the subclass")

    def node_embeddings(self, data: Any) -> Tensor:
        """``[N, d]`` node representations before pooling."""
        return self._embed(data)[0]

    def forward(self, data: Any) -> Tensor:
        h, batch = self._embed(data)
        return self.head(batch.pool(h))  # [G]

    def extra_repr(self) -> str:
        return f"cfg={self.cfg}"


class CKGCN(_PooledRegressor):
    r"""CKGConv graph-regression network (Ma et al., ICML 2024), the official ZINC configuration
    (``configs/CKGConvMLP/zinc-CKGConvMLP-BN-BS32.yaml``).

    Node stem (atom embedding + absolute RRWP), pair stem (relative RRWP + bond embeddings),
    ``num_layers`` post-norm blocks around :class:`graphnets.conv.CKGConv` on the kernel support
    (``pair_index`` as a block-diagonal :class:`sampling.Graph`), sum pooling per graph (a
    deterministic segment sum, :meth:`sampling.GraphBatch.pool`) and the ``san_graph`` head
    :math:`d 	o d/2 	o d/4 	o 1` with ReLU. The pair embedding is computed once and shared by
    all layers (each layer has its own kernel MLP), as in the official code.

    Args:
        cfg: :class:`CKGCNConfig` (default: official ZINC).

    Shapes:
        input a PyG ``Batch`` of graphs transformed by :class:`~graphnets.ckgconv.AddRRWP`
        (``x`` ``[N]`` int64 atom types, ``edge_index`` ``[2, E]``, ``edge_attr`` ``[E]`` int64,
        ``abs_pe`` ``[N, K]``, ``pair_index`` ``[2, P]``, ``pair_attr`` ``[P, K+1]``, ``deg`` ``[N]``,
        ``ptr`` ``[G+1]``) -> ``[G]`` predictions; :meth:`node_embeddings` gives ``[N, d]``.

    Differences from the official code: no GraphGym; ``dim`` hidden, ``num_heads = dim`` fixed.
    """

    def __init__(self, cfg: Optional[CKGCNConfig] = None) -> None:
        super().__init__()
        self.cfg = cfg = _check_cfg("CKGCN", cfg if cfg is not None else CKGCNConfig())
        self.node_stem = NodeStem(cfg.num_node_types, cfg.K, cfg.dim)
        self.pair_stem = PairStem(cfg.K, cfg.dim, cfg.num_edge_types, rescale=cfg.rescale)
        self.layers = nn.ModuleList(
            PostNormBlock(
                CKGConv(cfg.dim, cfg.num_blocks, cfg.kernel_dropout, cfg.mlp_dropout, cfg.deg_scaler),
                cfg.dim,
                cfg.dropout,
                cfg.ffn_ratio,
            )
            for _ in range(cfg.num_layers)
        )
        self.head = RegressionHead(cfg.dim)

    def _embed(self, data: Any) -> tuple[Tensor, GraphBatch]:
        n = data.x.shape[0]
        if data.pair_attr.shape[-1] != self.cfg.K + 1:
            raise ValueError(
                f"CKGCN: data was transformed with K={data.pair_attr.shape[-1] - 1} but the model has "
                f"K={self.cfg.K} (got pair_attr {tuple(data.pair_attr.shape)})"
            )
        _check_sorted(data.pair_index, n)
        support = batch_graph(data, data.pair_index)
        h = self.node_stem(data.x, data.abs_pe)  # [N, d]
        e = self.pair_stem(data.pair_attr, data.pair_index, n, data.edge_index, getattr(data, "edge_attr", None))
        for layer in self.layers:
            h = layer(h, support.graph, e, data.deg)
        return h, support


class GCNRegressor(_PooledRegressor):
    r"""The GCN baseline of :class:`CKGCN`: same node stem, blocks, pooling and head, with GCN
    aggregation in place of CKGConv, so that the two models differ only in the convolution.

    Each block's convolution is :class:`graphnets.conv.GCNConv` without weight or bias,
    :math:`\hat A x` with :math:`\hat A = D_r^{-1/2}(A + I)D_c^{-1/2}` (Kipf & Welling, ICLR 2017;
    ``remaining_self_loops=False, degree="both"``); the block's output Linear is the GCN weight.
    :math:`\hat A` is computed once per batch and shared by the layers.

    Args:
        cfg: :class:`CKGCNConfig` (``num_edge_types``, ``rescale`` and the kernel fields unused).

    Shapes:
        input a PyG ``Batch`` with ``x`` ``[N]``, ``edge_index`` ``[2, E]``, optional ``abs_pe``
        ``[N, K]``, ``ptr`` ``[G+1]`` -> ``[G]``.
    """

    def __init__(self, cfg: Optional[CKGCNConfig] = None) -> None:
        super().__init__()
        self.cfg = cfg = _check_cfg("GCNRegressor", cfg if cfg is not None else CKGCNConfig())
        self.node_stem = NodeStem(cfg.num_node_types, cfg.K, cfg.dim)
        self.layers = nn.ModuleList(
            PostNormBlock(
                GCNConv(cfg.dim, cfg.dim, weight=False, bias=False, remaining_self_loops=False, degree="both"),
                cfg.dim,
                cfg.dropout,
                cfg.ffn_ratio,
            )
            for _ in range(cfg.num_layers)
        )
        self.head = RegressionHead(cfg.dim)

    def _embed(self, data: Any) -> tuple[Tensor, GraphBatch]:
        batch = batch_graph(data, data.edge_index)
        h = self.node_stem(data.x, getattr(data, "abs_pe", None))
        for layer in self.layers:
            h = layer(h, batch.graph)
        return h, batch
