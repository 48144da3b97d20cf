"""Node classification on citation graphs: Planetoid data, SBM generator, DAGNN, SpikingGCN, and deep
models written as layer sequences for pipelines (DeepGCN, DAGNN's hops via ``dagnn_layers``).

Splits (:class:`sampling.Split`, :func:`sampling.random_planetoid_split`) live in :mod:`sampling.splits`;
the GCN normalisation and propagation (:func:`graphnets.conv.gcn_norm`, :func:`graphnets.conv.propagate`)
in :mod:`graphnets.conv`."""

from graphnets.node.dagnn import DAGNN
from graphnets.node.dagnn_pipeline import DAGNNEncoder, DAGNNHop, DAGNNReadout, dagnn_layers
from graphnets.node.dataset import NodeDataset, row_normalize
from graphnets.node.deep_gcn import DeepGCN, ResGCNBlock
from graphnets.node.pipeline_setup import (
    PIPELINE_MODELS,
    PipelineModel,
    build_pipeline_model,
    load_node_data,
    split_accuracies,
)
from graphnets.node.planetoid import PLANETOID_NAMES, load_planetoid
from graphnets.node.presets import PAPER_ACCURACY, DAGNNConfig, SpikingGCNConfig, dagnn_preset, spikinggcn_preset
from graphnets.node.results import RunResult
from graphnets.node.sampled_gnn import SAMPLED_MODELS, SampledGNN
from graphnets.node.spikinggcn import SpikingGCN
from graphnets.node.synthetic import make_sbm
from graphnets.node.train_dagnn import prepare_features, train_dagnn
from graphnets.node.train_sampled import evaluate_sampled, node_accuracy, train_sampled_epoch
from graphnets.node.train_spikinggcn import evaluate_spikinggcn, train_spikinggcn

__all__ = [
    "DAGNN",
    "PAPER_ACCURACY",
    "PIPELINE_MODELS",
    "SAMPLED_MODELS",
    "PLANETOID_NAMES",
    "DAGNNConfig",
    "DAGNNEncoder",
    "DAGNNHop",
    "DAGNNReadout",
    "DeepGCN",
    "NodeDataset",
    "PipelineModel",
    "ResGCNBlock",
    "RunResult",
    "SampledGNN",
    "SpikingGCN",
    "SpikingGCNConfig",
    "build_pipeline_model",
    "dagnn_layers",
    "dagnn_preset",
    "evaluate_sampled",
    "evaluate_spikinggcn",
    "load_node_data",
    "load_planetoid",
    "make_sbm",
    "node_accuracy",
    "prepare_features",
    "row_normalize",
    "spikinggcn_preset",
    "split_accuracies",
    "train_dagnn",
    "train_sampled_epoch",
    "train_spikinggcn",
]
