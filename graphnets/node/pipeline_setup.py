"""The pieces a pipelined full-graph training run needs, built for a deep node classifier.

* :func:`load_node_data`: the dataset (a synthetic SBM or a raw Planetoid folder) and its row-normalised features;
* :func:`build_pipeline_model` -> :class:`PipelineModel`: ``DeepGCN`` or ``DAGNN`` as a layer sequence, the input
  width of every layer, the graph the layers aggregate over and the criterion on the model's output;
* :func:`split_accuracies`: accuracy on the train / validation / test nodes.

The pipeline itself (:class:`sampling.pipeline.GNNPipe`) knows no model; these functions connect the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphnets.conv import gcn_norm
from graphnets.node.dagnn import DAGNN
from graphnets.node.dagnn_pipeline import dagnn_layers
from graphnets.node.dataset import NodeDataset, row_normalize
from graphnets.node.deep_gcn import DeepGCN
from graphnets.node.planetoid import load_planetoid
from graphnets.node.synthetic import make_sbm
from sampling import Graph, Split

__all__ = ["PIPELINE_MODELS", "PipelineModel", "build_pipeline_model", "load_node_data", "split_accuracies"]

PIPELINE_MODELS = ("deep-gcn", "dagnn")


def load_node_data(name: str, root: str | Path | None, seed: int) -> tuple[NodeDataset, Tensor]:
    """``(dataset, row_normalize(dataset.x))``. ``name="synthetic"``: a 4-class SBM of 1000 nodes with 64
    features (``p_in=0.02``, ``p_out=0.002``) drawn from ``torch.Generator().manual_seed(seed)``; otherwise the
    Planetoid graph ``name`` read from the raw files in ``root`` (:func:`graphnets.node.load_planetoid`).

    Raises:
        FileNotFoundError: ``root`` lacks the raw files.
        ValueError: ``root`` is ``None`` for a Planetoid graph, or an unknown ``name``.
    """
    if name == "synthetic":
        ds = make_sbm(
            torch.Generator().manual_seed(seed),
            num_classes=4,
            nodes_per_class=250,
            p_in=0.02,
            p_out=0.002,
            num_features=64,
        )
    else:
        if root is None:
            raise ValueError(f"load_node_data: the Planetoid graph {name!r} needs a root folder (got None)")
        ds = load_planetoid(root, name)
    return ds, row_normalize(ds.x)


@dataclass(frozen=True)
class PipelineModel:
    """A node classifier ready for :class:`sampling.pipeline.GNNPipe` (or for one process).

    Attributes:
        model: the whole model, ``model(x [n, F], graph) -> [n, C]``.
        layers: ``model`` as a layer sequence sharing its parameters (what the pipeline splits).
        widths: the input width of every layer (sizes the pipeline's historical tables).
        graph: the normalised graph the layers aggregate over.
        criterion: ``criterion(out, y, reduction=...)`` on the model's output (cross-entropy on logits for
            ``deep-gcn``, NLL on DAGNN's log-probabilities).
    """

    model: nn.Module
    layers: list[nn.Module]
    widths: list[int]
    graph: Graph
    criterion: Callable[..., Tensor]


def build_pipeline_model(name: str, ds: NodeDataset, hidden: int, num_layers: int, dropout: float) -> PipelineModel:
    """``DeepGCN`` (``name="deep-gcn"``, ``num_layers`` residual GCN blocks of width ``hidden``) or ``DAGNN``
    (``name="dagnn"``, ``K = num_layers`` hops) for ``ds``, initialised from the global RNG.

    Raises:
        ValueError: ``name`` is not one of :data:`PIPELINE_MODELS`.
    """
    if name == "deep-gcn":
        model = DeepGCN(ds.num_features, hidden, ds.num_classes, num_layers=num_layers, dropout=dropout)
        return PipelineModel(
            model, model.pipeline_layers(), model.layer_widths(), DeepGCN.propagation_graph(ds.graph), F.cross_entropy
        )
    if name == "dagnn":
        model = DAGNN(ds.num_features, hidden, ds.num_classes, K=num_layers, dropout=dropout)
        layers, widths = dagnn_layers(model)
        return PipelineModel(model, layers, widths, gcn_norm(ds.graph), F.nll_loss)
    raise ValueError(f"build_pipeline_model: name must be one of {PIPELINE_MODELS} (got {name!r})")


def split_accuracies(out: Tensor, y: Tensor, split: Split) -> list[float]:
    """``[train, val, test]`` accuracy of the predictions ``out.argmax(1)`` (``out [n, C]``, ``y [n]``)."""
    return [float((out[s].argmax(1) == y[s]).float().mean()) for s in (split.train, split.val, split.test)]
