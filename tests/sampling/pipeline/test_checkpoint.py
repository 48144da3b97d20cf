"""torch.distributed.checkpoint save/resume of a pipelined GNNPipe run (gloo, CPU): a resumed run
continues with the same losses as an uninterrupted one (parameters, Adam state, historical tables,
per-rank RNG for dropout, step count)."""

from __future__ import annotations

import pytest
import torch

from sampling.pipeline import GNNPipe, GNNPipeConfig, PipelineConfig, init_distributed, load_checkpoint, save_checkpoint
from tests.sampling.pipeline._dist import run_ranks
from tests.sampling.pipeline._models import gcn_layers, masked_ce, random_graph, toy_data

N, F, WIDTH, DEPTH, C = 40, 5, 8, 4, 3


def _pipe(layout):
    graph = random_graph(N, 3.0, 0)
    x, y, w = toy_data(N, F, C, 1)
    layers = gcn_layers(F, WIDTH, DEPTH, C, seed=2, dropout=0.3)
    pipe = GNNPipe(
        layers,
        [F] + [WIDTH] * (DEPTH + 1),
        graph,
        layout,
        loss_fn=masked_ce,
        config=GNNPipeConfig(chunks=4),
        pipeline=PipelineConfig(schedule="1f1b"),
    )
    opt = torch.optim.Adam(pipe.driver.parameters(), lr=0.05)
    return pipe, opt, x, y, w


def _train(pipe, opt, x, y, w, steps):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        losses.append(pipe.step(x, (y, w)))
        opt.step()
    return losses


def _run(rank, world, folder, phase):
    layout = init_distributed()
    torch.manual_seed(100 + rank)  # dropout draws from each rank's own generator
    pipe, opt, x, y, w = _pipe(layout)
    if phase == "straight":
        return _train(pipe, opt, x, y, w, 4)
    if phase == "first":
        losses = _train(pipe, opt, x, y, w, 2)
        save_checkpoint(folder, pipe.driver, opt, extra={"epoch": 2, "losses": losses})
        return losses
    torch.manual_seed(999)  # a different RNG state: resuming must restore the saved one
    extra = load_checkpoint(folder, pipe.driver, opt)
    assert pipe.driver.steps == 2 and extra["epoch"] == 2
    return extra["losses"] + _train(pipe, opt, x, y, w, 2)


def test_resumed_run_has_the_same_losses(tmp_path):
    straight = run_ranks(_run, 2, str(tmp_path / "unused"), "straight").results[0]
    first = run_ranks(_run, 2, str(tmp_path / "ckpt"), "first").results[0]
    assert (tmp_path / "ckpt" / ".metadata").is_file() and not (tmp_path / "ckpt.part").exists()
    resumed = run_ranks(_run, 2, str(tmp_path / "ckpt"), "resume").results
    assert first == straight[:2]
    for r in resumed:
        assert r == pytest.approx(straight, abs=0, rel=0)  # bit-for-bit
    assert len(set(straight)) == 4  # losses moved (dropout and Adam were in play)


def _errors(rank, world, folder):
    pipe, opt, *_ = _pipe(init_distributed())
    with pytest.raises(FileNotFoundError, match="holds no checkpoint"):
        load_checkpoint(f"{folder}/nothing", pipe.driver, opt)
    with pytest.raises(TypeError, match="JSON"):
        save_checkpoint(f"{folder}/c", pipe.driver, opt, extra={"x": object()})


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    run_ranks(_errors, 1, str(tmp_path))
