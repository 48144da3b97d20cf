"""sampling.pipeline.report: the split a run chooses, the one-process stand-in, time split, traffic model, summary."""

from __future__ import annotations

import types

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F

from sampling.pipeline import (
    LocalPipe,
    NodeWise,
    StepStats,
    choose_split,
    epoch_time_split,
    halo_exchange_bytes,
    partition_nodes,
    pipeline_activation_bytes,
    split_by_count,
    summarize_epochs,
    traffic_model,
)
from tests.sampling.pipeline._models import TinyGCN, random_graph


def _layers(depth: int = 5, width: int = 4):
    torch.manual_seed(0)
    return [NodeWise(torch.nn.Linear(3, width))] + [TinyGCN(width) for _ in range(depth)]


def test_choose_split_by_count_is_split_by_count():
    assert choose_split(_layers(), torch.randn(20, 3), random_graph(20, 3, 0), 3) == split_by_count(6, 3)


def test_choose_split_by_cost_covers_the_layers_in_order():
    split = choose_split(_layers(), torch.randn(20, 3), random_graph(20, 3, 0), 3, by="cost")
    assert len(split) == 3 and [i for r in split for i in r] == list(range(6)) and all(len(r) for r in split)


def test_choose_split_rejects_an_unknown_rule():
    with pytest.raises(ValueError, match=r"choose_split: by must be 'count' or 'cost' \(got 'size'\)"):
        choose_split(_layers(), torch.randn(20, 3), random_graph(20, 3, 0), 3, by="size")


class _Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x, graph):
        return self.drop(self.lin(x))


def test_local_pipe_step_is_one_forward_backward_and_predict_is_eval():
    torch.manual_seed(0)
    model, x, y = _Model(), torch.randn(10, 3), torch.randint(0, 2, (10,))
    pipe = LocalPipe(model, random_graph(10, 2, 0), lambda out, t: F.cross_entropy(out, t))
    torch.manual_seed(1)
    loss = pipe.step(x, y)
    grads = [p.grad.clone() for p in model.parameters()]
    assert model.training and isinstance(loss, float)
    model.zero_grad()
    torch.manual_seed(1)
    ref = F.cross_entropy(model(x, None), y)
    ref.backward()
    assert loss == float(ref.detach())
    assert all(torch.equal(g, p.grad) for g, p in zip(grads, model.parameters()))
    out = pipe.predict(x)
    assert not model.training and not out.requires_grad
    assert torch.equal(out, model.lin(x).detach())


def test_epoch_time_split_on_one_rank():
    stats = StepStats(2.0, 0.5, 0.25, 1.25, 1024, 512)
    driver = types.SimpleNamespace(stats=stats, device=torch.device("cpu"))
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        got = epoch_time_split(driver, 3.0)
    finally:
        dist.destroy_process_group()
    assert got == {"epoch_s": 3.0, "compute_s": 0.5, "comm_s": 0.25, "bubble_s": 2.25, "bytes_sent": 1024}


def test_epoch_time_split_needs_a_step():
    with pytest.raises(RuntimeError, match="epoch_time_split: the driver has not run a step yet"):
        epoch_time_split(types.SimpleNamespace(stats=None, device=torch.device("cpu")), 1.0)


def test_traffic_model_is_the_two_byte_counts():
    graph = random_graph(30, 4, 1)
    split, widths, propagates = [range(0, 2), range(2, 4)], [3, 8, 8, 8], [False, True, True, True]
    got = traffic_model(split, propagates, widths, graph, "contiguous", torch.Generator().manual_seed(0))
    parts = partition_nodes(30, 2, method="contiguous", generator=torch.Generator().manual_seed(0), graph=graph)
    halo = halo_exchange_bytes(graph, parts, [8, 8, 8])
    assert got == {
        "gnnpipe_bytes": pipeline_activation_bytes(30, [8]),
        "graph_parallel_halo_bytes": halo,
        "workers": 2,
        "ratio_halo_over_gnnpipe": halo / pipeline_activation_bytes(30, [8]),
    }
    assert got["gnnpipe_bytes"] == 30 * 8 * 4 * 2


def _row(epoch, val, t, **extra):
    return {"epoch": epoch, "train_acc": 0.5, "val_acc": val, "test_acc": val / 2, "epoch_s": t, "nodes_per_s": 10 / t}


def test_summarize_epochs_best_first_on_ties_final_and_medians():
    rows = [_row(1, 0.2, 1.0), _row(2, 0.6, 2.0), _row(3, 0.6, 4.0)]
    got = summarize_epochs(rows, pipelined=False, extra={"nodes": 10})
    assert got == {
        "best": {"epoch": 2, "val_acc": 0.6, "test_acc": 0.3},
        "final": {"train_acc": 0.5, "val_acc": 0.6, "test_acc": 0.3},
        "epoch_seconds": 2.0,
        "nodes_per_second": 5.0,
        "nodes": 10,
    }


def test_summarize_epochs_pipelined_adds_times_and_bytes_after_extra():
    rows = [{**_row(e, 0.1 * e, 1.0), "compute_s": e, "comm_s": 0.1, "bubble_s": 0.0, "bytes_sent": 8} for e in (1, 2)]
    got = summarize_epochs(rows, pipelined=True, extra={"world": 2})
    assert list(got)[4:] == ["world", "compute_seconds", "comm_seconds", "bubble_seconds", "bytes_sent_per_epoch"]
    assert got["compute_seconds"] == 1.5 and got["bytes_sent_per_epoch"] == 8


def test_summarize_epochs_needs_rows():
    with pytest.raises(ValueError, match=r"summarize_epochs: expected at least one row \(got none\)"):
        summarize_epochs([], pipelined=False)
