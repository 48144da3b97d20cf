"""graphspike's shared data layer: graph structure, batching, splits, samplers, feature stores and loaders.

The torch_geometric adapters (:class:`PyGFeatureStore`, :class:`PyGGraphStore`, in
:mod:`sampling.pyg`) load on first access, so ``import sampling`` does not import torch_geometric.
"""

from sampling.batch import GraphBatch, batch_graphs
from sampling.block import Block
from sampling.bpr import sample_bpr_triples, sample_positive_pairs
from sampling.feature_store import PLACEMENTS, FeatureStore, GatherHandle
from sampling.graph import Graph, InvalidGraphError
from sampling.loader import Loader, MiniBatch
from sampling.negatives import PositiveSets, sample_negatives, sample_uniform_items
from sampling.neighbor_sampler import NeighborSampler
from sampling.pinned import PinnedRegion, UnpinnableError
from sampling.segment import segment_mean, segment_sum
from sampling.splits import Split, leave_one_group_out, random_group_split, random_planetoid_split, random_user_split
from sampling.synthetic import SyntheticGraph, community_features, powerlaw_community_graph, synthetic_node_dataset

__all__ = [
    "Block",
    "FeatureStore",
    "GatherHandle",
    "Graph",
    "GraphBatch",
    "InvalidGraphError",
    "Loader",
    "MiniBatch",
    "NeighborSampler",
    "PLACEMENTS",
    "PinnedRegion",
    "PositiveSets",
    "PyGFeatureStore",
    "PyGGraphStore",
    "Split",
    "SyntheticGraph",
    "UnpinnableError",
    "batch_graphs",
    "community_features",
    "leave_one_group_out",
    "powerlaw_community_graph",
    "random_group_split",
    "random_planetoid_split",
    "random_user_split",
    "sample_bpr_triples",
    "sample_negatives",
    "sample_positive_pairs",
    "sample_uniform_items",
    "segment_mean",
    "segment_sum",
    "synthetic_node_dataset",
]

_LAZY = {"PyGFeatureStore", "PyGGraphStore"}


def __getattr__(name: str):
    if name in _LAZY:
        from sampling import pyg

        return getattr(pyg, name)
    raise AttributeError(f"module 'sampling' has no attribute {name!r}")
