"""What a pipelined training run reports: where an epoch's time went, the communication model of the
partition, the stage split chosen on rank 0, a one-process stand-in for :class:`~sampling.pipeline.GNNPipe`,
and the summary of the per-epoch rows.

* :func:`choose_split`: layers -> stages by count or by measured cost (rank 0 measures, all ranks agree);
* :class:`LocalPipe`: the same ``step`` / ``predict`` calls on an unsplit model in one process (the baseline);
* :func:`epoch_time_split`: the slowest rank's epoch time and the ranks' mean compute / communication / bubble;
* :func:`traffic_model`: analytical bytes per epoch of this pipeline and of graph parallelism;
* :func:`summarize_epochs`: best (by validation accuracy) and final accuracies, median times and bytes.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from sampling.graph import Graph
from sampling.pipeline.chunks import partition_nodes
from sampling.pipeline.graph_stage import NodeWise
from sampling.pipeline.split import measure_layer_costs, split_by_cost, split_by_count
from sampling.pipeline.traffic import halo_exchange_bytes, pipeline_activation_bytes

__all__ = ["LocalPipe", "choose_split", "epoch_time_split", "summarize_epochs", "traffic_model"]


def choose_split(
    layers: Sequence[nn.Module], x: Tensor, graph: Graph, num_stages: int, by: str = "count"
) -> list[range]:
    """Cut ``layers`` into ``num_stages`` contiguous stages: equal layer counts (``by="count"``) or balanced
    cost (``by="cost"``: rank 0 times every layer on ``x`` and ``graph`` with :func:`measure_layer_costs`,
    row-wise :class:`NodeWise` layers on ``x`` alone, and broadcasts the costs so that every rank of an
    initialised process group cuts the model the same way).

    Raises:
        ValueError: ``by`` is neither ``"count"`` nor ``"cost"``, or fewer layers than stages.
    """
    if by not in ("count", "cost"):
        raise ValueError(f"choose_split: by must be 'count' or 'cost' (got {by!r})")
    split = split_by_count(len(layers), num_stages)
    if by == "count":
        return split
    grouped = dist.is_available() and dist.is_initialized()
    costs: list[Any] = [None]
    if not grouped or dist.get_rank() == 0:
        costs = [measure_layer_costs(layers, x, call=lambda m, h: m(h) if isinstance(m, NodeWise) else m(h, graph))]
    if grouped:
        dist.broadcast_object_list(costs, src=0)
    return split_by_cost(costs[0], num_stages)


class LocalPipe:
    """The unsplit ``model`` behind :class:`~sampling.pipeline.GNNPipe`'s calls, in one process: ``step`` is one
    full-graph forward and backward of ``loss_fn(model(x, graph), targets)`` (the caller steps the optimiser),
    ``predict`` one forward in eval mode without gradients. Pipelined and unpipelined training then share a loop.

    Args:
        model: ``model(x [n, F], graph) -> [n, C]``.
        graph: the graph ``model`` propagates over (on the model's device).
        loss_fn: ``loss_fn(out [n, C], targets) -> scalar``.
    """

    def __init__(self, model: nn.Module, graph: Graph, loss_fn: Callable[[Tensor, Any], Tensor]) -> None:
        self.model, self.graph, self.loss_fn = model, graph, loss_fn

    def step(self, x: Tensor, targets: Any) -> float:
        """One training forward and backward; the loss as a float."""
        self.model.train()
        loss = self.loss_fn(self.model(x, self.graph), targets)
        loss.backward()
        return float(loss.detach())

    def predict(self, x: Tensor) -> Tensor:
        """The model's output ``[n, C]`` in eval mode, without gradients."""
        self.model.eval()
        with torch.no_grad():
            return self.model(x, self.graph)


def epoch_time_split(driver: Any, wall: float) -> dict[str, float | int]:
    """The epoch time of the slowest rank, and how ranks spent it on average: computing, receiving
    (bytes / measured bandwidth) and waiting (the bubble; on an oversubscribed CPU also for a core).

    ``driver`` is a :class:`~sampling.pipeline.PipelineDriver` after a step, in an initialised process group;
    every rank must call this (two all-reduces over the world). Returns ``epoch_s``, ``compute_s``, ``comm_s``,
    ``bubble_s`` (seconds) and ``bytes_sent`` (summed over ranks).
    """
    st = driver.stats
    if st is None:
        raise RuntimeError("epoch_time_split: the driver has not run a step yet")
    t = torch.tensor(
        [wall, st.compute_seconds, st.comm_seconds, wall - st.compute_seconds - st.comm_seconds, float(st.bytes_sent)],
        dtype=torch.float64,
        device=driver.device,
    )
    world = dist.get_world_size()
    top = t[:1].clone()
    dist.all_reduce(top, op=dist.ReduceOp.MAX)
    dist.all_reduce(t)
    return {
        "epoch_s": float(top),
        "compute_s": float(t[1]) / world,
        "comm_s": float(t[2]) / world,
        "bubble_s": max(float(t[3]) / world, 0.0),
        "bytes_sent": int(t[4]),
    }


def traffic_model(
    split: Sequence[range],
    propagates: Sequence[bool],
    widths: Sequence[int],
    graph: Graph,
    partition: str,
    generator: torch.Generator,
) -> dict[str, Any]:
    """Analytical bytes per epoch (float32, forward + backward) of a pipeline cut at ``split`` and of graph
    parallelism with as many workers as stages (nodes partitioned by ``partition`` with ``generator``), over
    the same layers. ``widths[i]`` is layer ``i``'s input width; ``propagates[i]`` whether it aggregates.

    Returns ``gnnpipe_bytes``, ``graph_parallel_halo_bytes``, ``workers`` and ``ratio_halo_over_gnnpipe``
    (``None`` when the pipeline sends nothing).
    """
    workers = len(split)
    cuts = [widths[r.stop] for r in split[:-1]]
    graph_widths = [w for w, p in zip(widths, propagates) if p]
    gnnpipe = pipeline_activation_bytes(graph.num_nodes, cuts)
    parts = partition_nodes(graph.num_nodes, workers, method=partition, generator=generator, graph=graph)
    halo = halo_exchange_bytes(graph, parts, graph_widths)
    return {
        "gnnpipe_bytes": gnnpipe,
        "graph_parallel_halo_bytes": halo,
        "workers": workers,
        "ratio_halo_over_gnnpipe": halo / gnnpipe if gnnpipe else None,
    }


def summarize_epochs(
    rows: Sequence[dict[str, Any]], pipelined: bool, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Summary of per-epoch rows (``epoch``, ``train_acc``, ``val_acc``, ``test_acc``, ``epoch_s``, ``nodes_per_s``
    and, when ``pipelined``, ``compute_s``, ``comm_s``, ``bubble_s``, ``bytes_sent``): the row with the best
    validation accuracy (the first on ties), the last row's accuracies and the medians over epochs. ``extra``
    (e.g. the run's layout) is merged in after the accuracies and epoch times, before the pipeline's times.

    Raises:
        ValueError: no rows.
    """
    if not rows:
        raise ValueError("summarize_epochs: expected at least one row (got none)")
    best = max(rows, key=lambda r: r["val_acc"])
    out: dict[str, Any] = {
        "best": {"epoch": best["epoch"], "val_acc": best["val_acc"], "test_acc": best["test_acc"]},
        "final": {k: rows[-1][k] for k in ("train_acc", "val_acc", "test_acc")},
        "epoch_seconds": statistics.median(r["epoch_s"] for r in rows),
        "nodes_per_second": statistics.median(r["nodes_per_s"] for r in rows),
        **(extra or {}),
    }
    if pipelined:
        for k in ("compute_s", "comm_s", "bubble_s"):
            out[k.replace("_s", "_seconds")] = statistics.median(r[k] for r in rows)
        out["bytes_sent_per_epoch"] = statistics.median(r["bytes_sent"] for r in rows)
    return out
