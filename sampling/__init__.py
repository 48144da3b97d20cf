"""graphspike's shared data layer: graph structure and samplers used by graph and spiking models."""
from sampling.block import Block
from sampling.bpr import sample_bpr_triples, sample_positive_pairs
from sampling.graph import Graph, InvalidGraphError
from sampling.negatives import PositiveSets, sample_negatives, sample_uniform_items

__all__ = [
    "Block",
    "Graph",
    "InvalidGraphError",
    "PositiveSets",
    "sample_bpr_triples",
    "sample_negatives",
    "sample_positive_pairs",
    "sample_uniform_items",
]
