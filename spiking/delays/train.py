"""One training epoch and one evaluation of a delay network (the official loop, without the printing)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

import torch
from spikingjelly.activation_based import functional
from torch import nn

from .loss import sum_softmax_loss, summed_softmax
from .tools import clamp_positions, integer_delays

__all__ = ["evaluate", "train_epoch"]


def _batches(loader: Iterable, progress: Callable | None) -> Iterable:
    return progress(loader) if progress is not None else loader


def train_epoch(
    model: nn.Module,
    loader: Iterable,
    optimizers: list[torch.optim.Optimizer],
    device: str | torch.device = "cpu",
    progress: Callable | None = None,
) -> dict:
    """Train one epoch over ``loader`` batches ``(x [T, B, C], y [B], ...)``.

    Per batch: forward, :func:`~spiking.delays.loss.sum_softmax_loss`, backward, every optimiser
    steps, positions clamped to the kernels, ``reset_net``. ``progress`` wraps the loader (e.g. a
    tqdm bar). Returns ``{"loss", "acc", "samples", "steps"}`` (sample-weighted means; ``steps`` the
    input time steps processed, for throughput).
    """
    model.train()
    total_loss, correct, seen, steps = 0.0, 0, 0, 0
    for batch in _batches(loader, progress):
        x, y = batch[0].to(device), batch[1].to(device)
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        v = model(x)
        loss = sum_softmax_loss(v, y)
        loss.backward()
        for opt in optimizers:
            opt.step()
        clamp_positions(model)
        functional.reset_net(model)
        with torch.no_grad():
            correct += int((summed_softmax(v).argmax(-1) == y).sum())
        total_loss += loss.item() * y.numel()
        seen += y.numel()
        steps += x.shape[0] * x.shape[1]
    if seen == 0:
        raise ValueError("train_epoch: the loader yielded no batches")
    return {"loss": total_loss / seen, "acc": correct / seen, "samples": seen, "steps": steps}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    device: str | torch.device = "cpu",
    progress: Callable | None = None,
    rounded: bool = True,
) -> dict:
    """Loss and accuracy over ``loader`` in eval mode, with integer delays when ``rounded`` (the
    paper's evaluation: the fast path of :func:`~spiking.delays.integer.integer_delay_linear`).
    Returns ``{"loss", "acc", "samples", "steps"}``."""
    model.eval()
    total_loss, correct, seen, steps = 0.0, 0, 0, 0
    ctx = integer_delays(model) if rounded else contextlib.nullcontext()
    with ctx:
        for batch in _batches(loader, progress):
            x, y = batch[0].to(device), batch[1].to(device)
            v = model(x)
            functional.reset_net(model)
            total_loss += float(sum_softmax_loss(v, y)) * y.numel()
            correct += int((summed_softmax(v).argmax(-1) == y).sum())
            seen += y.numel()
            steps += x.shape[0] * x.shape[1]
    if seen == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return {"loss": total_loss / seen, "acc": correct / seen, "samples": seen, "steps": steps}
