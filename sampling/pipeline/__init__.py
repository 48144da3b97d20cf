"""Pipelined layer parallelism on :mod:`torch.distributed.pipelining`, and GNNPipe for full-graph GNNs.

* :func:`init_distributed` / :class:`Layout`: the ``[dp, pp]`` rank grid (torchrun or one process);
* :func:`split_by_count`, :func:`split_by_cost`, :func:`measure_layer_costs`: layers -> stages;
* :class:`PipelineDriver` (:class:`PipelineConfig`, :class:`StepStats`): this rank's stages, the
  schedule (GPipe / 1F1B / Interleaved1F1B / LoopedBFS), steps, forward-only evaluation;
* :class:`FailureGuard`, :class:`PipelineFailure`: one failing rank ends all ranks, with its message;
* :func:`save_checkpoint`, :func:`load_checkpoint`: ``torch.distributed.checkpoint`` of a pipeline;
* GNNPipe: :func:`partition_nodes`, :class:`GraphChunks` (graph chunks as micro-batches),
  :class:`NodeWise`, :class:`GraphStage` (historical embeddings per layer), :class:`GNNPipe`;
* :func:`halo_exchange_bytes`, :func:`pipeline_activation_bytes`: communication per epoch;
* :func:`choose_split`, :class:`LocalPipe`, :func:`epoch_time_split`, :func:`traffic_model`,
  :func:`summarize_epochs`: what a pipelined training run chooses, measures and reports.
"""

from sampling.pipeline.checkpoint import load_checkpoint, save_checkpoint
from sampling.pipeline.chunks import PARTITIONS, GraphChunks, partition_nodes
from sampling.pipeline.driver import DATA_PARALLEL, SCHEDULES, PipelineConfig, PipelineDriver, StepStats
from sampling.pipeline.failure import FailureGuard, PipelineFailure
from sampling.pipeline.gnnpipe import GNNPipe, GNNPipeConfig
from sampling.pipeline.graph_stage import GraphStage, NodeWise
from sampling.pipeline.layout import Layout, init_distributed
from sampling.pipeline.report import LocalPipe, choose_split, epoch_time_split, summarize_epochs, traffic_model
from sampling.pipeline.split import measure_layer_costs, split_by_cost, split_by_count, stage_costs
from sampling.pipeline.stage import InstrumentedStage, MicrobatchHook
from sampling.pipeline.traffic import halo_exchange_bytes, halo_sizes, pipeline_activation_bytes

__all__ = [
    "DATA_PARALLEL",
    "PARTITIONS",
    "SCHEDULES",
    "FailureGuard",
    "GNNPipe",
    "GNNPipeConfig",
    "GraphChunks",
    "GraphStage",
    "InstrumentedStage",
    "Layout",
    "LocalPipe",
    "MicrobatchHook",
    "NodeWise",
    "PipelineConfig",
    "PipelineDriver",
    "PipelineFailure",
    "StepStats",
    "choose_split",
    "epoch_time_split",
    "halo_exchange_bytes",
    "halo_sizes",
    "init_distributed",
    "load_checkpoint",
    "measure_layer_costs",
    "partition_nodes",
    "pipeline_activation_bytes",
    "save_checkpoint",
    "split_by_cost",
    "split_by_count",
    "stage_costs",
    "summarize_epochs",
    "traffic_model",
]
