r"""torch_geometric adapters: our sampler as a PyG ``BaseSampler``, our stores as PyG stores.

* :class:`sampling.NeighborSampler` implements ``sample_from_nodes`` / ``sample_from_edges`` /
  ``edge_permutation`` through the functions below and is registered here as a virtual subclass
  of ``torch_geometric.sampler.BaseSampler``. PyG's ``NodeLoader``/``LinkLoader`` then run on
  a stock install, where PyG's own ``NeighborSampler`` needs pyg-lib or torch-sparse::

      loader = NodeLoader(data, node_sampler=NeighborSampler(data, [10, 5]), input_nodes=train_mask,
                          batch_size=128)

  Seed bookkeeping, metadata and negative sampling reuse PyG's ``node_sample``/``edge_sample``
  (so the batch attributes -- ``n_id``, ``e_id``, ``input_id``, ``batch_size``,
  ``num_sampled_nodes``/``num_sampled_edges``, ``edge_label_index`` -- are PyG's own). Negative
  edges drawn by PyG use torch's global generator; our sampling uses the sampler's ``generator``.
  Not supported: heterogeneous graphs, temporal sampling, ``disjoint`` subgraphs.
* :class:`PyGFeatureStore` is a ``torch_geometric.data.FeatureStore`` over
  :class:`sampling.FeatureStore` tables (any placement), so PyG code reads rows with
  ``get_tensor``/``multi_get_tensor`` (the latter launches every gather before waiting on any).
* :class:`PyGGraphStore` is a ``torch_geometric.data.GraphStore`` over a :class:`sampling.Graph`
  (CSC in PyG's terms: our CSR rows are PyG's destination columns), the pair
  ``(PyGFeatureStore, PyGGraphStore)`` being PyG's remote-backend input to its loaders.

This module imports torch_geometric (a few seconds); ``import sampling`` does not.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import EdgeAttr, GraphStore, TensorAttr
from torch_geometric.data import FeatureStore as _PyGFeatureStoreBase
from torch_geometric.sampler import BaseSampler, SamplerOutput
from torch_geometric.sampler.neighbor_sampler import edge_sample, node_sample

from sampling.feature_store import FeatureStore
from sampling.graph import Graph
from sampling.neighbor_sampler import NeighborSampler

__all__ = ["PyGFeatureStore", "PyGGraphStore", "sample_from_edges", "sample_from_nodes"]

BaseSampler.register(NeighborSampler)


def _sample_fn(sampler: NeighborSampler, fn: str):
    def sample(seed: Any, seed_time: Optional[Tensor]) -> SamplerOutput:
        if isinstance(seed, dict):
            raise ValueError(f"{fn}: heterogeneous graphs are not supported (got seeds of types {list(seed)})")
        if seed_time is not None:
            raise ValueError(f"{fn}: temporal sampling is not supported (got seed times)")
        node, row, col, edge, num_nodes, num_edges = sampler.sample_subgraph(seed)
        return SamplerOutput(
            node=node, row=row, col=col, edge=edge, batch=None, num_sampled_nodes=num_nodes, num_sampled_edges=num_edges
        )

    return sample


def sample_from_nodes(sampler: NeighborSampler, index: Any, **kwargs: Any) -> SamplerOutput:
    """PyG ``BaseSampler.sample_from_nodes``: the sampled subgraph around ``index.node``."""
    return node_sample(index, _sample_fn(sampler, "NeighborSampler.sample_from_nodes"))


def sample_from_edges(sampler: NeighborSampler, index: Any, neg_sampling: Any = None) -> SamplerOutput:
    """PyG ``BaseSampler.sample_from_edges``: the subgraph around the seed edges' endpoints."""
    fn = "NeighborSampler.sample_from_edges"
    if index.input_type is not None:
        raise ValueError(f"{fn}: heterogeneous graphs are not supported (got input_type {index.input_type})")
    return edge_sample(
        index, _sample_fn(sampler, fn), sampler.num_nodes, disjoint=False, node_time=None, neg_sampling=neg_sampling
    )


def _as_index(index: Any, num_rows: int) -> Union[Tensor, None]:
    if index is None:
        return None
    if isinstance(index, slice):
        return torch.arange(*index.indices(num_rows))
    if isinstance(index, int):
        return torch.tensor([index])
    if isinstance(index, np.ndarray):
        return torch.from_numpy(index)
    return index


class PyGFeatureStore(_PyGFeatureStoreBase):
    """A ``torch_geometric.data.FeatureStore`` whose tables are :class:`sampling.FeatureStore`.

    Args:
        stores: optional initial tables, ``{attr_name: store}`` or ``{(group_name, attr_name):
            store}``; a tensor value is wrapped in a :class:`sampling.FeatureStore`.
        **store_kwargs: keyword arguments of :class:`sampling.FeatureStore` for tensors added by
            ``put_tensor`` (e.g. ``placement="pinned"``).

    ``put_tensor`` with an index writes rows in place (``"cpu"``, ``"pinned"``, ``"cuda"``;
    ``"mmap"`` tables are read-only and refuse). ``get_tensor`` without an index returns the whole
    table as stored; with one, the gathered rows on the store's compute device.

    Example:
        >>> fs = PyGFeatureStore({"x": torch.eye(3)})
        >>> fs.get_tensor(group_name=None, attr_name="x", index=torch.tensor([2])).tolist()
        [[0.0, 0.0, 1.0]]
    """

    def __init__(self, stores: Optional[dict] = None, **store_kwargs: Any) -> None:
        super().__init__()
        self._stores: dict[tuple[Any, str], FeatureStore] = {}
        self._store_kwargs = store_kwargs
        for key, value in (stores or {}).items():
            group, name = key if isinstance(key, tuple) else (None, key)
            store = value if isinstance(value, FeatureStore) else FeatureStore(value, **store_kwargs)
            self._stores[(group, name)] = store

    def _put_tensor(self, tensor: Any, attr: TensorAttr) -> bool:
        key = (attr.group_name, attr.attr_name)
        if attr.index is None:
            old = self._stores.pop(key, None)
            if old is not None:
                old.close()
            self._stores[key] = FeatureStore(tensor, **self._store_kwargs)
            return True
        store = self._stores.get(key)
        if store is None or store.placement == "mmap":
            return False
        index = _as_index(attr.index, store.num_rows)
        store.table[index.to(store.table.device)] = torch.as_tensor(tensor).to(store.table.device, store.dtype)
        return True

    def _get_tensor(self, attr: TensorAttr) -> Optional[Tensor]:
        store = self._stores.get((attr.group_name, attr.attr_name))
        if store is None:
            return None
        index = _as_index(attr.index, store.num_rows)
        return store.table if index is None else store.gather(index)

    def _multi_get_tensor(self, attrs: list) -> list:
        handles = []
        for attr in attrs:
            store = self._stores.get((attr.group_name, attr.attr_name))
            index = None if store is None else _as_index(attr.index, store.num_rows)
            handles.append(None if store is None else (store.table if index is None else store.gather_async(index)))
        return [h.wait() if hasattr(h, "wait") else h for h in handles]

    def _remove_tensor(self, attr: TensorAttr) -> bool:
        store = self._stores.pop((attr.group_name, attr.attr_name), None)
        if store is None:
            return False
        store.close()
        return True

    def _get_tensor_size(self, attr: TensorAttr) -> Optional[tuple[int, ...]]:
        store = self._stores.get((attr.group_name, attr.attr_name))
        return None if store is None else store.shape

    def get_all_tensor_attrs(self) -> list[TensorAttr]:
        return [TensorAttr(group, name) for group, name in self._stores]

    def close(self) -> None:
        """Close every table (unpinning pinned ones)."""
        for store in self._stores.values():
            store.close()

    def __repr__(self) -> str:
        return f"PyGFeatureStore({', '.join(f'{k}: {v!r}' for k, v in self._stores.items())})"


class PyGGraphStore(GraphStore):
    """A ``torch_geometric.data.GraphStore`` holding one homogeneous :class:`sampling.Graph`.

    PyG's ``"csc"`` layout of edge type ``None`` is our CSR (``colptr = indptr``, ``row =
    indices``: destination-major); ``"coo"`` gives ``(source, destination)``; ``"csr"`` the
    transpose. ``put_edge_index`` accepts a ``"coo"`` or ``"csc"`` edge index.

    Example:
        >>> gs = PyGGraphStore(Graph.from_edge_index(torch.tensor([[0, 1], [1, 2]]), num_nodes=3))
        >>> [t.tolist() for t in gs.get_edge_index(edge_type=None, layout="coo")]
        [[0, 1], [1, 2]]
    """

    def __init__(self, graph: Optional[Graph] = None) -> None:
        super().__init__()
        self.graph = graph

    def _put_edge_index(self, edge_index: Any, edge_attr: EdgeAttr) -> bool:
        n = edge_attr.size[0] if edge_attr.size is not None else None
        layout = str(getattr(edge_attr.layout, "value", edge_attr.layout))
        if layout == "coo":
            self.graph = Graph.from_edge_index(torch.stack(list(edge_index)), num_nodes=n)
        elif layout == "csc":
            row, colptr = edge_index
            self.graph = Graph(colptr.long(), row.long(), num_cols=n)
        else:
            return False
        return True

    def _get_edge_index(self, edge_attr: EdgeAttr) -> Optional[tuple[Tensor, Tensor]]:
        g = self.graph
        if g is None:
            return None
        layout = str(getattr(edge_attr.layout, "value", edge_attr.layout))
        if layout == "coo":
            return g.indices, g.row
        if layout == "csc":
            return g.indices, g.indptr
        t_indptr, t_indices, _ = g.transpose_csr()
        return t_indptr, t_indices  # csr: (rowptr, col)

    def _remove_edge_index(self, edge_attr: EdgeAttr) -> bool:
        had, self.graph = self.graph is not None, None
        return had

    def get_all_edge_attrs(self) -> list[EdgeAttr]:
        if self.graph is None:
            return []
        n = self.graph.num_rows
        return [EdgeAttr(None, layout, is_sorted=layout == "csc", size=(n, n)) for layout in ("coo", "csc", "csr")]
