"""A rank that raises, is killed or hangs makes every rank exit non-zero, with a clear message, within
the process-group timeout (gloo, CPU ranks; each case takes a few seconds at most)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from sampling.pipeline import PipelineConfig, PipelineDriver, init_distributed
from tests.sampling.pipeline._dist import run_ranks
from tests.sampling.pipeline.test_driver import _data, _loss, _stages

PG_TIMEOUT = 4.0


def _train(rank, world, how, victim):
    layout = init_distributed()
    driver = PipelineDriver(_stages(world), layout, PipelineConfig(schedule="1f1b", n_microbatches=4), loss_fn=_loss)
    x, y = _data()
    with driver.guard(poll_seconds=0.1):
        for step in range(1000):
            if rank == victim and step == 3:
                if how == "raise":
                    raise ValueError("injected failure")
                if how == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                if how == "hang":
                    time.sleep(120)
            driver.step(list(x.chunk(4)), list(y.chunk(4)))


@pytest.mark.parametrize("world,how", [(2, "raise"), (4, "raise"), (2, "kill"), (4, "kill"), (2, "hang")])
def test_one_failing_rank_ends_all_ranks_with_a_message(world, how):
    victim = world - 1 if how != "kill" else 1
    t0 = time.perf_counter()
    run = run_ranks(_train, world, how, victim, timeout=30, pg_timeout=PG_TIMEOUT, check=False)
    elapsed = time.perf_counter() - t0
    assert all(code != 0 for code in run.exitcodes), run.exitcodes
    assert elapsed < PG_TIMEOUT + 6, elapsed  # start-up, the timeout and a poll interval, never a hang
    others = [log for r, log in enumerate(run.logs) if r != victim]
    if how == "raise":
        assert all(f"rank {victim} (stage {victim}) failed: ValueError: injected failure" in log for log in others), (
            others
        )
        assert "PipelineFailure" in run.logs[victim]
    elif how == "kill":
        assert run.exitcodes[victim] == -signal.SIGKILL
        assert all(f"rank {victim} stopped without a report" in log and "killed or crashed" in log for log in others), (
            others
        )
    else:
        # the waiting rank times out, reports it; the hung rank's watchdog ends it
        assert all("one is probably stuck" in log and "Timed out" in log for log in others), others
        assert "stopping:" in run.logs[victim] and run.exitcodes[victim] == 1
