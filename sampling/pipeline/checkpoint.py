r"""Save and resume a pipelined run with :mod:`torch.distributed.checkpoint` (DCP).

Every rank writes its own stages (parameters and buffers, so GNNPipe's historical tables too),
its optimizer state and its RNG state into one checkpoint folder; state replicated across
pipeline replicas is written once, FSDP shards as shards. Keys are ``stage<s>.<name>``, so a
checkpoint does not depend on which rank held a stage (the same pipeline shape is needed to load
it, as DCP reshards only FSDP/DTensor state).

Saving is atomic at the folder level: DCP writes ``<path>.part``, then rank 0 renames it to
``<path>`` (an older ``<path>`` is replaced), so a run killed while saving keeps its previous
checkpoint. On several machines ``path`` must be on a file system all ranks share.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict, set_state_dict

from sampling.pipeline.driver import PipelineDriver

__all__ = ["load_checkpoint", "save_checkpoint"]


# Optimizer state keyed per parameter name (``state.stage3.lin.weight.exp_avg``, ``param_groups.stage3...lr``):
# ranks hold different parameters, so nested per-group lists would collide across ranks.
_OPTIONS = StateDictOptions(flatten_optimizer_state_dict=True)


def _model(driver: PipelineDriver) -> nn.ModuleDict:
    return nn.ModuleDict({f"stage{s}": m for s, m in driver.modules.items()})


def _rng_states() -> dict[str, torch.Tensor]:
    out = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state()
    return out


def _state(driver: PipelineDriver, optimizer: torch.optim.Optimizer | None, extra: str) -> dict[str, Any]:
    msd, osd = get_state_dict(_model(driver), [optimizer] if optimizer is not None else [], options=_OPTIONS)
    rank = driver.layout.rank
    return {"model": msd, "optim": osd, f"rng_rank{rank}": _rng_states(), "steps": driver.steps, "extra_json": extra}


def _barrier() -> None:
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


def save_checkpoint(
    path: str | Path,
    driver: PipelineDriver,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    extra: dict | None = None,
) -> Path:
    """Write the pipeline's state to the folder ``path`` (a collective: every rank calls it).

    Args:
        path: checkpoint folder (replaced atomically when it exists).
        driver: the :class:`~sampling.pipeline.PipelineDriver` (or ``GNNPipe.driver``).
        optimizer: the optimizer over ``driver.parameters()``, if any.
        extra: JSON-serialisable values to keep (epoch, metrics), the same on every rank.

    Raises:
        TypeError: ``extra`` is not JSON-serialisable.
    """
    path = Path(path)
    try:
        text = json.dumps(extra or {})
    except TypeError as err:
        raise TypeError(f"save_checkpoint: extra must be JSON-serialisable (got {err})") from None
    part = path.with_name(path.name + ".part")
    if driver.layout.rank == 0 and part.exists():
        shutil.rmtree(part)
    _barrier()
    dcp.save(_state(driver, optimizer, text), checkpoint_id=str(part))
    _barrier()
    if driver.layout.rank == 0:
        old = path.with_name(path.name + ".old")
        if path.exists():
            path.rename(old)
        part.rename(path)
        if old.exists():
            shutil.rmtree(old)
    _barrier()
    return path


def load_checkpoint(path: str | Path, driver: PipelineDriver, optimizer: torch.optim.Optimizer | None = None) -> dict:
    """Restore what :func:`save_checkpoint` wrote into ``driver`` (and ``optimizer``), the RNG state of
    this rank and ``driver.steps``; returns ``extra``. A collective: every rank calls it.

    Raises:
        FileNotFoundError: ``path`` holds no checkpoint.
    """
    path = Path(path)
    if not (path / ".metadata").is_file():
        raise FileNotFoundError(f"load_checkpoint: {path} holds no checkpoint (no .metadata file)")
    state = _state(driver, optimizer, "")
    dcp.load(state, checkpoint_id=str(path))
    set_state_dict(
        _model(driver),
        [optimizer] if optimizer is not None else [],
        model_state_dict=state["model"],
        optim_state_dict=state["optim"],
        options=_OPTIONS,
    )
    rng = state[f"rng_rank{driver.layout.rank}"]
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng:
        torch.cuda.set_rng_state(rng["cuda"])
    driver.steps = int(state["steps"])
    return json.loads(state["extra_json"] or "{}")
