"""One pass of a spiking classifier with per-step logits ``[T, B, K]`` (TET training, mean-logit evaluation)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from spikingjelly.activation_based import functional
from torch import Tensor, nn

from sampling.finite import check_finite, check_loss, check_parameters
from spiking.training.monitor import FiringRateMonitor

__all__ = ["run_sequence_epoch"]


def run_sequence_epoch(
    model: nn.Module,
    batches: Iterable[tuple[Tensor, Tensor]],
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    *,
    optimizer: torch.optim.Optimizer | None = None,
    device: str | torch.device = "cpu",
    where: str = "run_sequence_epoch",
) -> dict:
    r"""Train (``optimizer`` given) or evaluate ``model`` for one pass over ``batches``.

    Per batch ``(x [T, B, ...], y [B])`` (:func:`~spiking.training.time_major_collate`):
    ``model.forward_seq(x)`` gives per-step logits ``[T, B, K]``. Training minimises
    ``loss_fn(logits_seq, y)`` (e.g. :meth:`~spiking.models.SpikingTransformerConfig.loss`, the TET
    loss of Deng et al., ICLR 2022, or cross-entropy of the time-averaged logits) with one
    optimizer step per batch; evaluation reports the plain cross-entropy of the time-averaged logits
    :math:`\mathrm{CE}(\frac{1}{T}\sum_t z_t, y)` (no label smoothing). Predictions are
    :math:`\arg\max_k \frac{1}{T}\sum_t z_{t,k}`. ``functional.reset_net`` runs after every batch.

    Args:
        model: a module with ``forward_seq``; already on ``device``.
        batches: an iterable of ``(x, y)`` (a ``DataLoader``, possibly wrapped in a progress bar).
        loss_fn: the training loss on ``(logits_seq [T, B, K], y [B])``; unused when evaluating.
        optimizer: steps the parameters; ``None`` evaluates (eval mode, no gradients).
        device: where batches are moved.
        where: the caller named in errors (e.g. ``"spiking_transformer (epoch 1 train)"``).

    Returns:
        ``{"loss", "acc", "samples", "rates"}``: sample-weighted mean loss, accuracy (fraction),
        sample count, and mean firing rate per spiking-neuron layer (:class:`FiringRateMonitor`).

    Raises:
        TypeError: ``model`` has no ``forward_seq``, ``loss_fn`` is not callable, or ``optimizer``
            is not a ``torch.optim.Optimizer``.
        ValueError: ``batches`` is empty.
        sampling.finite.NonFiniteError: a non-finite input batch or loss (named by ``where`` and the
            batch index, raised before that batch's update), or non-finite parameters after training.
    """
    if not callable(getattr(model, "forward_seq", None)):
        raise TypeError(f"run_sequence_epoch: model must have a forward_seq method (got {type(model).__name__})")
    if not callable(loss_fn):
        raise TypeError(f"run_sequence_epoch: loss_fn must be callable (got {type(loss_fn).__name__})")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"run_sequence_epoch: optimizer must be a torch.optim.Optimizer (got {type(optimizer).__name__})"
        )
    train = optimizer is not None
    model.train(train)
    monitor = FiringRateMonitor(model)
    total, correct, n = 0.0, 0, 0
    try:
        with torch.set_grad_enabled(train):
            for i, (x, y) in enumerate(batches):
                x, y = x.to(device), y.to(device)
                check_finite(x, f"{where}, batch {i}", "the input batch", ("time", "sample"))
                logits_seq = model.forward_seq(x)  # [T, B, K]
                mean_logits = logits_seq.mean(0)  # [B, K]
                loss = loss_fn(logits_seq, y) if train else nn.functional.cross_entropy(mean_logits, y)
                value = check_loss(loss, where, batch=i)  # before the update
                if train:
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                functional.reset_net(model)
                total += value * y.numel()
                correct += int((mean_logits.argmax(1) == y).sum())
                n += y.numel()
    except BaseException:
        functional.reset_net(model)  # no stale membrane state (holding this pass's graph) survives the error
        raise
    finally:
        monitor.remove()
    if n == 0:
        raise ValueError(f"run_sequence_epoch: batches must hold at least one sample (got none, {where})")
    if train:  # a spiking neuron turns NaN weights into silence and a finite loss: check the weights
        check_parameters(model, where)
    return {"loss": total / n, "acc": correct / n, "samples": n, "rates": monitor.pop()}
