r"""``PipelineDriver``: builds this rank's stages, the schedule and runs steps on
:mod:`torch.distributed.pipelining`.

The model is a sequence of stage modules (``stages[s]`` computes stage ``s``; split a list of
layers with :func:`~sampling.pipeline.split_by_count` / :func:`~sampling.pipeline.split_by_cost`).
With ``pp`` ranks per pipeline and ``v = num_stages / pp`` stages per rank, stage ``s`` lives on
pipeline rank ``s % pp`` (torch's looped placement). Schedules:

========================  ===========================  ==================================
``schedule``              one stage per rank           several stages per rank
========================  ===========================  ==================================
``"gpipe"``               ``ScheduleGPipe``            ``ScheduleLoopedBFS`` (looped GPipe)
``"1f1b"``                ``Schedule1F1B``             ``ScheduleInterleaved1F1B``
``"interleaved1f1b"``     ``ScheduleInterleaved1F1B``  ``ScheduleInterleaved1F1B``
``"loopedbfs"``           ``ScheduleLoopedBFS``        ``ScheduleLoopedBFS``
========================  ===========================  ==================================

Single-process mode (a world of one rank, e.g. one GPU) runs every stage in this process under
the multi-stage schedule; adjacent stages hand tensors over directly, nothing is sent.

Micro-batches are passed pre-split (``arg_mbs``): a micro-batch is whatever the first stage takes
(a tuple of tensors), so graph chunks, padded to one shape, work like batch slices. Losses follow
the *sum* convention by default (``scale_grads=False``): the loss of micro-batch ``i`` should be
its share of the total (e.g. a sum over its samples divided by the global sample count), and the
step's gradients then equal those of the unpipelined model on the whole batch. With
``scale_grads=True`` torch divides gradients by the number of micro-batches (mean convention).

Replicas (``dp_size > 1`` in the :class:`~sampling.pipeline.Layout`): each stage module is wrapped
in DDP (``broadcast_buffers=False``) or FSDP2 ``fully_shard`` over the replica group; gradients are
averaged over replicas once per step, after the last micro-batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.distributed.pipelining import Schedule1F1B, ScheduleGPipe, ScheduleInterleaved1F1B, ScheduleLoopedBFS

from sampling.pipeline.failure import FailureGuard
from sampling.pipeline.layout import Layout
from sampling.pipeline.stage import InstrumentedStage, MicrobatchHook, unwrap

__all__ = ["DATA_PARALLEL", "SCHEDULES", "PipelineConfig", "PipelineDriver", "StepStats"]

SCHEDULES = ("gpipe", "1f1b", "interleaved1f1b", "loopedbfs")
DATA_PARALLEL = ("ddp", "fsdp")


@dataclass(frozen=True)
class PipelineConfig:
    """Settings of a :class:`PipelineDriver`.

    Attributes:
        schedule: one of :data:`SCHEDULES`.
        n_microbatches: micro-batches per step (1F1B needs at least as many as stages).
        scale_grads: divide gradients by ``n_microbatches`` (mean-loss convention); default sum.
        data_parallel: ``"ddp"`` or ``"fsdp"``, used when the layout has replicas.
        timing: synchronise CUDA around each forward/backward so the compute time is exact.
    """

    schedule: str = "1f1b"
    n_microbatches: int = 4
    scale_grads: bool = False
    data_parallel: str = "ddp"
    timing: bool = True

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"PipelineConfig: schedule must be one of {SCHEDULES} (got {self.schedule!r})")
        if isinstance(self.n_microbatches, bool) or not isinstance(self.n_microbatches, int) or self.n_microbatches < 1:
            raise ValueError(f"PipelineConfig: n_microbatches must be a positive int (got {self.n_microbatches!r})")
        if self.data_parallel not in DATA_PARALLEL:
            raise ValueError(
                f"PipelineConfig: data_parallel must be one of {DATA_PARALLEL} (got {self.data_parallel!r})"
            )


@dataclass(frozen=True)
class StepStats:
    """Where one rank's step time went.

    ``compute_seconds`` is measured (forward + backward of its stages). ``comm_seconds`` is the
    time the received bytes take at the pipeline's measured point-to-point bandwidth
    (:meth:`PipelineDriver.measure_bandwidth`; 0 until measured). ``bubble_seconds`` is the rest
    of the wall time: waiting for other stages (the pipeline bubble) and, on an oversubscribed
    CPU, waiting for a core.
    """

    wall_seconds: float
    compute_seconds: float
    comm_seconds: float
    bubble_seconds: float
    bytes_sent: int
    bytes_received: int


StageSource = Sequence[nn.Module] | Callable[[int], nn.Module]


class PipelineDriver:
    """Run a model split into stages on this rank's share of a pipeline.

    Args:
        stages: the stage modules in order, or ``build(stage_index) -> nn.Module`` (then only
            this rank's stages are built; give ``num_stages``). Modules are moved to the layout's
            device.
        layout: from :func:`~sampling.pipeline.init_distributed`.
        config: :class:`PipelineConfig`.
        loss_fn: ``loss_fn(output, target) -> scalar`` applied to the last stage's output of each
            micro-batch (``None``: forward-only driver).
        num_stages: required when ``stages`` is a callable; must be a multiple of ``pp_size``.
        hook: :data:`~sampling.pipeline.MicrobatchHook` called before every micro-batch forward
            (e.g. resetting spiking neurons).

    Raises:
        ValueError: a stage count that is not a positive multiple of the pipeline length, or
            inputs/targets of the wrong length in :meth:`step`.

    Example (one process, two stages)::

        layout = init_distributed()
        driver = PipelineDriver([nn.Linear(4, 4), nn.Linear(4, 2)], layout,
                                PipelineConfig(n_microbatches=2), loss_fn=lambda y, t: (y - t).pow(2).sum())
        loss = driver.step([(x0,), (x1,)], [t0, t1])
    """

    def __init__(
        self,
        stages: StageSource,
        layout: Layout,
        config: PipelineConfig = PipelineConfig(),
        *,
        loss_fn: Callable[[Any, Any], Tensor] | None = None,
        num_stages: int | None = None,
        hook: MicrobatchHook | None = None,
    ) -> None:
        if not isinstance(layout, Layout):
            raise TypeError(f"PipelineDriver: layout must be a sampling.pipeline.Layout (got {type(layout).__name__})")
        if not isinstance(config, PipelineConfig):
            raise TypeError(f"PipelineDriver: config must be a PipelineConfig (got {type(config).__name__})")
        if callable(stages) and not isinstance(stages, nn.Module):
            if num_stages is None:
                raise ValueError("PipelineDriver: num_stages is required when stages is a build function")
            build = stages
        else:
            stages = list(stages)
            if not stages or not all(isinstance(m, nn.Module) for m in stages):
                raise TypeError(
                    "PipelineDriver: stages must be a non-empty sequence of nn.Module "
                    f"(got {[type(m).__name__ for m in stages]})"
                )
            if num_stages is not None and num_stages != len(stages):
                raise ValueError(f"PipelineDriver: num_stages={num_stages} but {len(stages)} stages were given")
            num_stages = len(stages)
            build = stages.__getitem__
        pp = layout.pp_size
        if isinstance(num_stages, bool) or not isinstance(num_stages, int) or num_stages < 1 or num_stages % pp:
            raise ValueError(
                f"PipelineDriver: the number of stages must be a positive multiple of the pipeline "
                f"length pp_size={pp} (got {num_stages})"
            )
        self.layout = layout
        self.config = config
        self.loss_fn = loss_fn
        self.num_stages = num_stages
        self.stages_per_rank = num_stages // pp
        self.hook = hook
        self.device = layout.device
        self.stage_indices = [layout.pp_rank + k * pp for k in range(self.stages_per_rank)]
        self.modules: dict[int, nn.Module] = {}
        for s in self.stage_indices:
            module = build(s)
            if not isinstance(module, nn.Module):
                raise TypeError(f"PipelineDriver: stage {s} must be an nn.Module (got {type(module).__name__})")
            self.modules[s] = self._wrap(module.to(self.device))
        self.is_first = 0 in self.modules
        self.is_last = num_stages - 1 in self.modules
        self._schedules: dict[tuple[int, bool], tuple[Any, list[InstrumentedStage]]] = {}
        self.bandwidth: float | None = None  # bytes/s between neighbouring ranks, once measured
        self.stats: StepStats | None = None
        self.steps = 0
        self._targets: list = []

    # --- construction ------------------------------------------------------------------------------
    def _wrap(self, module: nn.Module) -> nn.Module:
        if self.layout.dp_size == 1:
            return module
        if self.config.data_parallel == "fsdp":
            from torch.distributed.fsdp import fully_shard

            return fully_shard(module, mesh=self.layout.mesh["dp"])
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(
            module, device_ids=ids, process_group=self.layout.dp_group, broadcast_buffers=False
        )

    def _schedule_class(self, training: bool):
        name = self.config.schedule if training else "gpipe"
        if self.stages_per_rank == 1 and name in ("gpipe", "1f1b"):
            return ScheduleGPipe if name == "gpipe" else Schedule1F1B
        return ScheduleLoopedBFS if name in ("gpipe", "loopedbfs") else ScheduleInterleaved1F1B

    def _get(self, n: int, training: bool) -> tuple[Any, list[InstrumentedStage]]:
        key = (n, training)
        if key not in self._schedules:
            group = self.layout.pp_group
            stages = [
                InstrumentedStage(
                    self.modules[s],
                    s,
                    self.num_stages,
                    self.device,
                    group=group,
                    hook=self.hook,
                    timing=self.config.timing,
                )
                for s in self.stage_indices
            ]
            cls = self._schedule_class(training)
            loss = self._indexed_loss if training else None
            if cls in (ScheduleGPipe, Schedule1F1B):
                schedule = cls(stages[0], n, loss_fn=loss, scale_grads=self.config.scale_grads)
            else:
                schedule = cls(stages, n, loss_fn=loss, scale_grads=self.config.scale_grads)
                if not training:
                    _forward_only(schedule)
            self._schedules[key] = (schedule, stages)
        return self._schedules[key]

    def _indexed_loss(self, output: Any, index: Tensor) -> Tensor:
        # torch's schedules want tensor targets (it builds metadata from them); targets may be any
        # object here, so the schedule sees micro-batch indices and the loss looks the targets up.
        return self.loss_fn(output, self._targets[int(index)])

    # --- running -----------------------------------------------------------------------------------
    def local_modules(self) -> dict[int, nn.Module]:
        """This rank's stage modules by stage index (DDP wrappers removed)."""
        return {s: unwrap(m) for s, m in self.modules.items()}

    def parameters(self) -> list[nn.Parameter]:
        """Parameters of this rank's stages (what its optimizer updates)."""
        return [p for m in self.modules.values() for p in m.parameters()]

    def train(self, mode: bool = True) -> PipelineDriver:
        for m in self.modules.values():
            m.train(mode)
        return self

    def _microbatches(self, fn: str, items: Sequence | None, n: int, what: str) -> list | None:
        if items is None:
            raise ValueError(
                f"PipelineDriver.{fn}: this rank holds the {what} stage, so {what} micro-batches "
                f"are required (got None)"
            )
        items = list(items)
        if len(items) != n:
            raise ValueError(f"PipelineDriver.{fn}: expected {n} micro-batches (got {len(items)})")
        return items

    def step(self, inputs: Sequence | None = None, targets: Sequence | None = None) -> float:
        """One training step over ``n_microbatches`` micro-batches; returns the step's loss.

        Args:
            inputs: one entry per micro-batch (a tensor or a tuple of the first stage's
                arguments); read on the rank holding stage 0, ignored elsewhere.
            targets: one per micro-batch, passed to ``loss_fn``; read on the last stage's rank.

        Returns:
            The sum of the micro-batch losses (their mean with ``scale_grads=True``), averaged over
            replicas, on every rank. Gradients are in ``.grad``; call the optimizer afterwards.
        """
        if self.loss_fn is None:
            raise RuntimeError("PipelineDriver.step: this driver has no loss_fn (use eval)")
        n = self.config.n_microbatches
        arg_mbs = None
        if self.is_first:
            arg_mbs = _as_args("step", self._microbatches("step", inputs, n, "first"))
        target_mbs = None
        if self.is_last:
            self._targets = self._microbatches("step", targets, n, "last")
            target_mbs = [torch.tensor(i) for i in range(n)]
        schedule, stages = self._get(n, True)
        losses: list | None = [] if self.is_last else None
        for st in stages:
            st.reset_counters()
        t0 = time.perf_counter()
        schedule.step(arg_mbs=arg_mbs, target_mbs=target_mbs, losses=losses, return_outputs=False)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        wall = time.perf_counter() - t0
        value = torch.zeros((), dtype=torch.float64, device=self.device)
        if self.is_last:
            total = torch.stack([loss.detach().to(torch.float64) for loss in losses]).sum()
            value = total / n if self.config.scale_grads else total
        value = self._from_last(value)
        if self.layout.dp_size > 1:
            dist.all_reduce(value, group=self.layout.dp_group)
            value = value / self.layout.dp_size
        self._targets = []
        self.stats = self._stats(stages, wall)
        self.steps += 1
        return float(value)

    @torch.no_grad()
    def eval(self, inputs: Sequence) -> list | None:
        """Forward only (no gradients), on ``len(inputs)`` micro-batches, in eval mode.

        ``inputs`` must have the same length on every rank (its content is read only on the first
        stage's rank). Returns the last stage's outputs, one per micro-batch, on the rank holding
        the last stage, ``None`` elsewhere. Modules are put back in their previous mode.
        """
        inputs = list(inputs)
        if not inputs:
            raise ValueError("PipelineDriver.eval: inputs must hold at least one micro-batch (got none)")
        arg_mbs = _as_args("eval", inputs) if self.is_first else None
        schedule, stages = self._get(len(inputs), False)
        modes = {s: m.training for s, m in self.modules.items()}
        self.train(False)
        try:
            schedule.step(arg_mbs=arg_mbs, return_outputs=True)
        finally:
            for s, m in self.modules.items():
                m.train(modes[s])
        if not self.is_last:
            return None
        return list(stages[-1].output_chunks)

    # --- communication helpers ---------------------------------------------------------------------
    def _from_last(self, value: Tensor) -> Tensor:
        if self.layout.pp_size > 1:
            dist.broadcast(value, group=self.layout.pp_group, group_src=self.layout.pp_size - 1)
        return value

    def broadcast_from_last(self, obj: Any) -> Any:
        """``obj`` as given on the last stage's rank, on every rank of this pipeline (picklable objects)."""
        if self.layout.pp_size == 1:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, group=self.layout.pp_group, group_src=self.layout.pp_size - 1)
        return box[0]

    def measure_bandwidth(self, nbytes: int = 1 << 22, repeats: int = 3) -> float:
        """Bytes per second a rank receives from its neighbour while every rank of the pipeline sends
        ``nbytes`` to the next and receives from the previous at once (median of ``repeats``; a
        collective over the pipeline group). Stored in :attr:`bandwidth`; ``inf`` for one rank."""
        pp = self.layout.pp_size
        if pp == 1:
            self.bandwidth = float("inf")
            return self.bandwidth
        group = self.layout.pp_group
        send = torch.ones(nbytes // 4, dtype=torch.float32, device=self.device)
        recv = torch.empty_like(send)
        nxt = self.layout.global_rank((self.layout.pp_rank + 1) % pp)
        prv = self.layout.global_rank((self.layout.pp_rank - 1) % pp)
        times = []
        for rep in range(repeats + 1):
            dist.barrier(group=group)
            t0 = time.perf_counter()
            works = dist.batch_isend_irecv(
                [dist.P2POp(dist.isend, send, nxt, group), dist.P2POp(dist.irecv, recv, prv, group)]
            )
            for w in works:
                w.wait()
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            if rep:
                times.append(time.perf_counter() - t0)
        self.bandwidth = send.numel() * 4 / sorted(times)[len(times) // 2]
        return self.bandwidth

    def _stats(self, stages: list[InstrumentedStage], wall: float) -> StepStats:
        compute = sum(st.compute_seconds for st in stages)
        sent = sum(st.bytes_sent for st in stages)
        received = sum(st.bytes_received for st in stages)
        comm = received / self.bandwidth if self.bandwidth and received else 0.0
        comm = min(comm, max(wall - compute, 0.0))
        return StepStats(wall, compute, comm, max(wall - compute - comm, 0.0), sent, received)

    def mean_stats(self, stats: StepStats | None = None) -> StepStats:
        """``stats`` (default: the last step's) averaged over the pipeline's ranks, bytes summed."""
        stats = stats or self.stats
        if stats is None:
            raise RuntimeError("PipelineDriver.mean_stats: no step has run yet")
        t = torch.tensor(
            [
                stats.wall_seconds,
                stats.compute_seconds,
                stats.comm_seconds,
                stats.bubble_seconds,
                float(stats.bytes_sent),
                float(stats.bytes_received),
            ],
            dtype=torch.float64,
            device=self.device,
        )
        if self.layout.pp_size > 1:
            dist.all_reduce(t, group=self.layout.pp_group)
        k = self.layout.pp_size
        return StepStats(*(float(v) / k for v in t[:4]), int(t[4]), int(t[5]))

    def guard(self, **kwargs: Any) -> FailureGuard:
        """A :class:`~sampling.pipeline.FailureGuard` naming this rank and its stages."""
        stages = ",".join(str(s) for s in self.stage_indices)
        return FailureGuard(
            f"rank {self.layout.rank} (stage{'s' if len(self.stage_indices) > 1 else ''} {stages})", **kwargs
        )


def _forward_only(schedule: Any) -> None:
    """Drop the backward actions from a multi-stage runtime schedule built without a loss.

    torch 2.14's ``_PipelineScheduleRuntime`` plans backward actions even when there is no loss
    and then fails on them (passing gradients between same-rank stages); forward-only evaluation
    therefore keeps only forward compute and its sends/receives (private attribute, checked here).
    """
    order = getattr(schedule, "pipeline_order_with_comms", None)
    if not isinstance(order, dict):  # a torch-version limitation, not a bad argument
        raise RuntimeError(
            "PipelineDriver.eval: this torch version's multi-stage schedule has no "  # noqa: TRY004
            "pipeline_order_with_comms; forward-only evaluation is unsupported"
        )
    keep = {"F", "SEND_F", "RECV_F", "UNSHARD", "RESHARD"}
    for rank, actions in order.items():
        order[rank] = [a for a in actions if a is not None and str(a.computation_type.value) in keep]


def _as_args(fn: str, items: list) -> list[tuple]:
    """Micro-batches as argument tuples, all of one shape (torch's stages receive into fixed buffers)."""
    out = [x if isinstance(x, tuple) else (x,) for x in items]
    shapes = [tuple(tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__ for t in args) for args in out]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(
            f"PipelineDriver.{fn}: every micro-batch must have one shape (pad them; graph chunks "
            f"are padded by GraphChunks) (got {shapes})"
        )
    return out
