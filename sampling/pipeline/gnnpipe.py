r"""``GNNPipe``: full-graph GNN training with layer-level pipeline parallelism.

Chen, Chen & Qian, "GNNPipe: Scaling Deep GNN Training with Pipelined Model Parallelism",
arXiv 2308.10087. The model's layers are split into consecutive stages, one per pipeline rank
(or several, interleaved); every stage computes its layers on the *whole* graph, chunk by chunk:
graph chunks are the micro-batches (:class:`~sampling.pipeline.GraphChunks`), and each stage keeps
historical embeddings of every node for every layer it owns
(:class:`~sampling.pipeline.GraphStage`), read for the neighbours in chunks that have not reached
that layer yet in the current step. Only activations of the stage boundaries travel, so
communication no longer grows with the number of layers (see :mod:`sampling.pipeline.traffic`).

Staleness control (:class:`GNNPipeConfig`): tables are refreshed as chunks pass (staleness at
most one step); ``warmup`` fills them with an exact full-graph forward before the first step (so
the first epoch reads no zeros); ``refresh_every = k`` repeats that exact refresh before every
``k``-th step; ``halo_grad`` returns the gradient of halo rows to the chunks owning them one step
late (without it, a chunk's loss never reaches its neighbours in other chunks, which on a deep
model with many cut edges slows training down badly). ``mode="exact"`` replaces the historical
embeddings by exact receptive-field micro-batches: gradients then equal the unpipelined model's (a
check, at up to ``chunks`` times the compute).

Replicas: with ``dp`` pipeline replicas each one trains on ``chunks / dp`` of the chunks (chunk
``c`` on replica ``c % dp``); gradients are averaged by DDP/FSDP, and after every step each
table row is taken from the replica that owns its chunk (one all-reduce per table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from sampling.graph import Graph
from sampling.pipeline.chunks import PARTITIONS, GraphChunks, partition_nodes
from sampling.pipeline.driver import PipelineConfig, PipelineDriver
from sampling.pipeline.graph_stage import GraphStage, NodeWise
from sampling.pipeline.layout import Layout
from sampling.pipeline.split import split_by_count

__all__ = ["MODES", "GNNPipe", "GNNPipeConfig"]

MODES = ("historical", "exact")


@dataclass(frozen=True)
class GNNPipeConfig:
    """How the graph is cut into micro-batches and how stale the tables may get.

    Attributes:
        chunks: number of graph chunks (micro-batches per step, summed over replicas).
        partition: ``"contiguous"`` node-id ranges, a seeded ``"random"`` partition, or ``"metis"``
            (few edges between chunks; needs ``pymetis``).
        mode: ``"historical"`` (GNNPipe) or ``"exact"`` (no staleness; for checking).
        warmup: exact refresh of the tables before the first step.
        refresh_every: exact refresh before every ``k``-th step (0: never beyond ``warmup``).
        halo_grad: historical mode: send the gradient of halo rows back to their owners one step
            late (stale halo gradients, :class:`~sampling.pipeline.GraphStage`); ``False`` drops it.
    """

    chunks: int = 4
    partition: str = "contiguous"
    mode: str = "historical"
    warmup: bool = True
    refresh_every: int = 0
    halo_grad: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.chunks, bool) or not isinstance(self.chunks, int) or self.chunks < 1:
            raise ValueError(f"GNNPipeConfig: chunks must be a positive int (got {self.chunks!r})")
        if self.partition not in PARTITIONS:
            raise ValueError(f"GNNPipeConfig: partition must be one of {PARTITIONS} (got {self.partition!r})")
        if self.mode not in MODES:
            raise ValueError(f"GNNPipeConfig: mode must be one of {MODES} (got {self.mode!r})")
        if isinstance(self.refresh_every, bool) or not isinstance(self.refresh_every, int) or self.refresh_every < 0:
            raise ValueError(f"GNNPipeConfig: refresh_every must be an int >= 0 (got {self.refresh_every!r})")


class GNNPipe:
    """Pipelined full-graph training of a GNN given as a sequence of layers.

    Args:
        layers: the model: graph layers called ``layer(x_src, block)`` and :class:`NodeWise` ones.
            Every rank passes the same (identically initialised) list; each keeps its stages' layers.
        in_widths: input width of every layer (sizes the historical tables).
        graph: the aggregation graph, normalised as the layers expect (weights used as given).
        layout: from :func:`~sampling.pipeline.init_distributed`.
        loss_fn: ``loss_fn(out, targets) -> scalar`` on one chunk: ``out`` the last layer's rows of
            the chunk (zero-padded), ``targets`` the tuple given to :meth:`step` cut the same way
            (padding rows are zero, so a per-node weight target masks them out).
        config: :class:`GNNPipeConfig`.
        pipeline: :class:`~sampling.pipeline.PipelineConfig` (its ``n_microbatches`` is replaced
            by the chunks of this replica).
        split: layer ranges per stage (default :func:`split_by_count` over ``pp_size *
            stages_per_rank`` stages).
        stages_per_rank: stages per pipeline rank (interleaved schedules, single-process mode).
        generator: for ``partition="random"``.

    Raises:
        ValueError: a split that does not cover the layers in order, or chunks not divisible by
            the number of replicas.
    """

    def __init__(
        self,
        layers: Sequence[nn.Module],
        in_widths: Sequence[int],
        graph: Graph,
        layout: Layout,
        *,
        loss_fn: Callable[[Tensor, Any], Tensor],
        config: GNNPipeConfig = GNNPipeConfig(),
        pipeline: PipelineConfig = PipelineConfig(),  # noqa: B008 (a frozen dataclass: immutable default)
        split: Sequence[range] | None = None,
        stages_per_rank: int = 1,
        generator: torch.Generator | None = None,
    ) -> None:
        layers = list(layers)
        if len(in_widths) != len(layers):
            raise ValueError(f"GNNPipe: in_widths needs one width per layer ({len(layers)}) (got {len(in_widths)})")
        if config.chunks % layout.dp_size:
            raise ValueError(
                f"GNNPipe: chunks={config.chunks} must be divisible by the number of replicas dp_size={layout.dp_size}"
            )
        num_stages = layout.pp_size * stages_per_rank if split is None else len(split)
        split = list(split) if split is not None else split_by_count(len(layers), num_stages)
        if [i for r in split for i in r] != list(range(len(layers))):
            raise ValueError(f"GNNPipe: split must cover layers 0..{len(layers) - 1} in order (got {split})")
        self.layers, self.in_widths, self.split = layers, [int(w) for w in in_widths], split
        self.config, self.layout = config, layout
        self.propagates = [not isinstance(layer, NodeWise) for layer in layers]
        n = graph.num_nodes
        parts = partition_nodes(n, config.chunks, method=config.partition, generator=generator, graph=graph)
        self.parts = parts
        mine = parts[layout.dp_rank :: layout.dp_size]
        device = layout.device
        self.train_plan = GraphChunks(graph, mine, self.propagates, exact=config.mode == "exact").to(device)
        self.full_plan = GraphChunks(graph, [torch.arange(n)], self.propagates, exact=True).to(device)
        history = config.mode == "historical"

        def build(s: int) -> GraphStage:
            r = split[s]
            return GraphStage(
                [layers[i] for i in r],
                first_layer=r.start,
                in_widths=self.in_widths[r.start : r.stop],
                num_nodes=n,
                history=history,
                halo_grad=history and config.halo_grad,
                dtype=_dtype(nn.ModuleList(layers[i] for i in r)),
            )

        pipeline = replace(pipeline, n_microbatches=len(mine))
        self.driver = PipelineDriver(build, layout, pipeline, loss_fn=loss_fn, num_stages=len(split))
        self._use(self.train_plan)

    # --- plans ------------------------------------------------------------------------------------------
    @property
    def stages(self) -> dict[int, GraphStage]:
        """This rank's graph stages by stage index."""
        return self.driver.local_modules()

    def _use(self, plan: GraphChunks, write_history: bool = True) -> None:
        for stage in self.stages.values():
            stage.use_plan(plan)
            stage.write_history = write_history

    # --- training ---------------------------------------------------------------------------------------
    def step(self, x: Tensor | None, targets: Sequence[Tensor]) -> float:
        """One training step (an epoch of full-graph training) over this replica's chunks.

        Args:
            x: node features ``[N, F]`` (read on the first stage's rank; ``None`` elsewhere is fine).
            targets: per-node tensors (e.g. labels and a loss weight that is zero outside the
                training set), cut into chunks for ``loss_fn`` on the last stage's rank.

        Returns:
            The step's loss (sum over chunks, averaged over replicas), on every rank.
        """
        k = self.config.refresh_every
        if (self.driver.steps == 0 and self.config.warmup and self.config.mode == "historical") or (
            k and self.driver.steps % k == 0 and self.driver.steps > 0
        ):
            self.refresh(x)
        self._use(self.train_plan)
        for stage in self.stages.values():
            stage.start_step()
        plan = self.train_plan
        inputs = plan.inputs(x) if self.driver.is_first else None
        tg = None
        if self.driver.is_last:
            cut = [plan.gather(t) for t in targets]
            tg = [tuple(c[i] for c in cut) for i in range(plan.num_chunks)]
        loss = self.driver.step(inputs, tg)
        if self.layout.dp_size > 1 and self.config.mode == "historical":
            self._sync_history()
        return loss

    @torch.no_grad()
    def refresh(self, x: Tensor | None) -> None:
        """Exact full-graph forward (eval mode) that rewrites every historical table."""
        self._full(x, write_history=True)

    @torch.no_grad()
    def predict(self, x: Tensor | None) -> Tensor | None:
        """Exact full-graph output ``[N, F_out]`` (eval mode) on the last stage's rank, ``None`` elsewhere.
        The historical tables are left as they are."""
        return self._full(x, write_history=False)

    def _full(self, x: Tensor | None, write_history: bool) -> Tensor | None:
        self._use(self.full_plan, write_history)
        try:
            inputs = self.full_plan.inputs(x) if self.driver.is_first else [None]
            out = self.driver.eval(inputs)
        finally:
            self._use(self.train_plan)
        return None if out is None else out[0]

    @torch.no_grad()
    def _sync_history(self) -> None:
        owned = torch.zeros(self.train_plan.num_nodes, dtype=torch.bool, device=self.layout.device)
        for p in self.train_plan.parts:
            owned[p] = True
        for stage in self.stages.values():
            for name, table in stage.named_buffers():
                if name.startswith("history_"):
                    mine = table * owned.unsqueeze(1).to(table.dtype)
                    dist.all_reduce(mine, group=self.layout.dp_group)
                    table.copy_(mine)
                elif name.startswith("grad_sum_"):  # every replica's chunks send gradients to every row
                    dist.all_reduce(table, group=self.layout.dp_group)

    def guard(self, **kwargs: Any):
        """The driver's :meth:`~sampling.pipeline.PipelineDriver.guard`."""
        return self.driver.guard(**kwargs)


def _dtype(module: nn.Module) -> torch.dtype:
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    for b in module.buffers():
        if b.is_floating_point():
            return b.dtype
    return torch.get_default_dtype()
