"""PipelineDriver on CPU ranks (gloo): gradients equal the unpipelined model for every schedule,
single-process mode, replicas with DDP and FSDP, the micro-batch hook, counters and bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sampling.pipeline import PipelineConfig, PipelineDriver, init_distributed, split_by_count
from tests.sampling.pipeline._dist import run_ranks

L, W, B = 8, 6, 16


def _layers():
    torch.manual_seed(3)
    return [nn.Sequential(nn.Linear(W, W), nn.Tanh()).double() for _ in range(L)]


def _data():
    gen = torch.Generator().manual_seed(4)
    return (
        torch.randn(B, W, generator=gen, dtype=torch.float64),
        torch.randn(B, W, generator=gen, dtype=torch.float64),
    )


def _loss(out, target):
    return ((out - target) ** 2).sum() / B


def _stages(num_stages):
    layers = _layers()
    return [nn.Sequential(*layers[r.start : r.stop]) for r in split_by_count(L, num_stages)]


def _grad_err(driver, num_stages, x, y, scale=1.0):
    ref = nn.Sequential(*_layers())
    _loss(ref(x), y).backward()
    per = L // num_stages
    err = 0.0
    for s, m in driver.local_modules().items():
        ref_params = [p for layer in ref[s * per : (s + 1) * per] for p in layer.parameters()]
        for p, q in zip(m.parameters(), ref_params):
            g = p.grad.full_tensor() if hasattr(p.grad, "full_tensor") else p.grad
            err = max(err, float((g * scale - q.grad).abs().max()))
    return err


def _pipeline_grads(rank, world, schedule, stages_per_rank, microbatches):
    layout = init_distributed()
    num_stages = world * stages_per_rank
    driver = PipelineDriver(
        _stages(num_stages), layout, PipelineConfig(schedule=schedule, n_microbatches=microbatches), loss_fn=_loss
    )
    x, y = _data()
    loss = driver.step(list(x.chunk(microbatches)), list(y.chunk(microbatches)))
    return {
        "err": _grad_err(driver, num_stages, x, y),
        "loss": loss,
        "ref": float(_loss(nn.Sequential(*_layers())(x), y)),
        "stats": driver.stats,
    }


@pytest.mark.parametrize(
    "world,stages_per_rank,schedule",
    [
        (2, 1, "gpipe"),
        (2, 1, "1f1b"),
        (4, 1, "gpipe"),
        (4, 1, "1f1b"),
        (2, 2, "interleaved1f1b"),
        (2, 2, "gpipe"),
        (2, 1, "loopedbfs"),
    ],
)
def test_gradients_equal_unpipelined_float64(world, stages_per_rank, schedule):
    run = run_ranks(_pipeline_grads, world, schedule, stages_per_rank, 4)
    for r in run.results:
        assert r["err"] < 1e-13, r
        assert r["loss"] == pytest.approx(r["ref"], abs=1e-13, rel=0)
    # every boundary moved 4 micro-batches of [4, W] float64 forward and back
    boundaries = world * stages_per_rank - 1
    assert sum(r["stats"].bytes_sent for r in run.results) == boundaries * 2 * B * W * 8


def _single_process(rank, world):
    layout = init_distributed()
    assert layout.single_process and layout.world_size == 1
    driver = PipelineDriver(_stages(4), layout, PipelineConfig(schedule="1f1b", n_microbatches=4), loss_fn=_loss)
    assert sorted(driver.local_modules()) == [0, 1, 2, 3] and driver.is_first and driver.is_last
    x, y = _data()
    driver.step(list(x.chunk(4)), list(y.chunk(4)))
    assert _grad_err(driver, 4, x, y) < 1e-13
    assert driver.stats.bytes_sent == 0  # adjacent stages hand tensors over, nothing is sent
    out = driver.eval(list(x.chunk(2)))
    torch.testing.assert_close(torch.cat(out), nn.Sequential(*_layers())(x), rtol=0, atol=1e-13)


def _single_process_without_torchrun(rank, world):
    import torch.distributed as dist

    dist.destroy_process_group()  # as a script started without torchrun: no group, no environment
    layout = init_distributed()  # a private one-rank group
    assert layout.owns_group and layout.world_size == 1
    _single_process(rank, world)
    layout.close()
    assert not dist.is_initialized()


def test_single_process_mode_runs_every_stage_here():
    # a child process: the test process itself never holds a process group (forking later would hang)
    run_ranks(_single_process_without_torchrun, 1)


def _replicas(rank, world, mode):
    layout = init_distributed(pp_size=2, dp_size=2)
    driver = PipelineDriver(
        _stages(2), layout, PipelineConfig(schedule="1f1b", n_microbatches=2, data_parallel=mode), loss_fn=_loss
    )
    x, y = _data()
    xs, ys = x.chunk(2)[layout.dp_rank], y.chunk(2)[layout.dp_rank]  # each replica takes half the batch
    loss = driver.step(list(xs.chunk(2)), list(ys.chunk(2)))
    # replicas average their gradients: twice the average is the full batch's gradient
    return {"err": _grad_err(driver, 2, x, y, scale=2.0), "loss": loss, "dp": layout.dp_rank, "pp": layout.pp_rank}


@pytest.mark.parametrize("mode", ["ddp", "fsdp"])
def test_replicas_average_gradients(mode):
    run = run_ranks(_replicas, 4, mode)
    assert [(r["dp"], r["pp"]) for r in run.results] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    x, y = _data()
    full = float(_loss(nn.Sequential(*_layers())(x), y).detach())
    for r in run.results:
        assert r["err"] < 1e-13
        assert 2 * r["loss"] == pytest.approx(full, abs=1e-13, rel=0)


class _Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(W, W).double()
        self.seen: list[int] = []

    def set_microbatch(self, i):
        self.seen.append(i)

    def forward(self, x):
        return self.lin(x)


def _hooks(rank, world):
    layout = init_distributed()
    calls = []
    driver = PipelineDriver(
        [_Counting(), _Counting()],
        layout,
        PipelineConfig(schedule="1f1b", n_microbatches=4),
        loss_fn=_loss,
        hook=lambda m, s, i: calls.append((s, i)),
    )
    x, y = _data()
    driver.step(list(x.chunk(4)), list(y.chunk(4)))
    (module,) = driver.local_modules().values()
    return {"seen": module.seen, "calls": calls}


def test_microbatch_hook_runs_before_every_forward_in_order():
    run = run_ranks(_hooks, 2)
    for rank, r in enumerate(run.results):
        assert r["seen"] == [0, 1, 2, 3]
        assert r["calls"] == [(rank, i) for i in range(4)]


def _bad_arguments(rank, world):
    layout = init_distributed()
    with pytest.raises(TypeError, match="layout must be"):
        PipelineDriver([nn.Linear(2, 2)], "cpu")
    driver = PipelineDriver([nn.Linear(2, 2)], layout, PipelineConfig(n_microbatches=2), loss_fn=lambda o, t: o.sum())
    with pytest.raises(ValueError, match="expected 2 micro-batches"):
        driver.step([torch.ones(1, 2)], [None, None])
    with pytest.raises(ValueError, match="one shape"):
        driver.step([torch.ones(2, 2), torch.ones(1, 2)], [None, None])
    with pytest.raises(ValueError, match="num_stages is required"):
        PipelineDriver(lambda s: nn.Linear(2, 2), layout)
    with pytest.raises(ValueError, match="num_stages=2 but 3 stages"):
        PipelineDriver([nn.Linear(2, 2)] * 3, layout, num_stages=2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="schedule must be one of"):
        PipelineConfig(schedule="zigzag")
    with pytest.raises(ValueError, match="n_microbatches"):
        PipelineConfig(n_microbatches=0)
    with pytest.raises(ValueError, match="data_parallel"):
        PipelineConfig(data_parallel="zero3")
    run_ranks(_bad_arguments, 1)
