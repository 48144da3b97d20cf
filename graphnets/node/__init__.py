"""Node classification on citation graphs: Planetoid data, SBM generator, DAGNN, SpikingGCN."""
from graphnets.node.dagnn import DAGNN
from graphnets.node.dataset import NodeDataset, Split, row_normalize
from graphnets.node.planetoid import PLANETOID_NAMES, load_planetoid
from graphnets.node.presets import PAPER_ACCURACY, DAGNNConfig, SpikingGCNConfig, dagnn_preset, spikinggcn_preset
from graphnets.node.propagation import gcn_norm, propagate
from graphnets.node.results import RunResult
from graphnets.node.spikinggcn import SpikingGCN
from graphnets.node.splits import random_planetoid_split
from graphnets.node.synthetic import make_sbm
from graphnets.node.train_dagnn import prepare_features, train_dagnn
from graphnets.node.train_spikinggcn import evaluate_spikinggcn, train_spikinggcn

__all__ = [
    "DAGNN",
    "DAGNNConfig",
    "NodeDataset",
    "PAPER_ACCURACY",
    "PLANETOID_NAMES",
    "RunResult",
    "SpikingGCN",
    "SpikingGCNConfig",
    "Split",
    "dagnn_preset",
    "evaluate_spikinggcn",
    "gcn_norm",
    "load_planetoid",
    "make_sbm",
    "prepare_features",
    "propagate",
    "random_planetoid_split",
    "row_normalize",
    "spikinggcn_preset",
    "train_dagnn",
    "train_spikinggcn",
]
