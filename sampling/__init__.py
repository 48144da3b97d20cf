"""graphspike's shared data layer: graph structure, batching, splits and samplers used by graph and spiking models."""
from sampling.batch import GraphBatch, batch_graphs
from sampling.block import Block
from sampling.bpr import sample_bpr_triples, sample_positive_pairs
from sampling.graph import Graph, InvalidGraphError
from sampling.negatives import PositiveSets, sample_negatives, sample_uniform_items
from sampling.segment import segment_mean, segment_sum
from sampling.splits import Split, leave_one_group_out, random_group_split, random_planetoid_split, random_user_split

__all__ = [
    "Block",
    "Graph",
    "GraphBatch",
    "InvalidGraphError",
    "PositiveSets",
    "Split",
    "batch_graphs",
    "leave_one_group_out",
    "random_group_split",
    "random_planetoid_split",
    "random_user_split",
    "sample_bpr_triples",
    "sample_negatives",
    "sample_positive_pairs",
    "sample_uniform_items",
    "segment_mean",
    "segment_sum",
]
