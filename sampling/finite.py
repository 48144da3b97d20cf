"""Non-finite values (NaN, +-inf): one error type and two checks, used by every normalisation, loss,
trainer and metric of graphspike, so a diverged run or a bad input stops where it appears instead
of flowing on as plausible numbers (a NaN score ranks first; a NaN weight poisons every layer).

* :func:`check_loss` -- a training loss, best *before* its backward pass and optimiser step (so the
  parameters left behind are the last finite ones); the error names the epoch and batch.
* :func:`check_finite` -- any tensor (inputs of a metric, outputs of a normalisation); the error
  names the first bad entry by its index (node, user, row, ...).
* :func:`check_parameters` -- a model's parameters after an epoch. Spiking networks need it: a
  neuron fed NaN never fires (``NaN >= threshold`` is false), so NaN weights before a spiking layer
  give silence, a finite loss and plausible accuracies instead of NaN.

Both raise :class:`NonFiniteError`, which is a ``FloatingPointError`` (arithmetic went wrong) and a
``ValueError`` (the value is unusable), so callers may catch either.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

__all__ = ["NonFiniteError", "check_finite", "check_loss", "check_parameters"]


class NonFiniteError(FloatingPointError, ValueError):
    """A NaN or infinite value where graphspike needs a finite one."""


def check_loss(loss: Union[Tensor, float], fn: str, what: str = "loss", **at: Optional[int]) -> float:
    """``float(loss)``, or :class:`NonFiniteError` when it is NaN/inf.

    ``at`` names where, in order (``epoch=3, batch=17`` or ``step=120``). Call it before
    ``loss.backward()`` and ``optimizer.step()``: the error then leaves the model with the parameters
    of the last finite step. ``what`` names the quantity (``"loss"``, ``"gradient norm"``).
    """
    value = float(loss.detach()) if isinstance(loss, Tensor) else float(loss)
    if not math.isfinite(value):
        where = ", ".join(f"{k} {v}" for k, v in at.items() if v is not None)
        raise NonFiniteError(
            f"{fn}: non-finite {what} {value}{' at ' + where if where else ''}; training diverged (or an input "
            "holds NaN/inf)"
        )
    return value


def check_finite(t: Tensor, fn: str, what: str, dims: Sequence[str] = ()) -> Tensor:
    """``t`` unchanged when every entry is finite; otherwise :class:`NonFiniteError` naming the count
    and the first bad entry, its index labelled with ``dims`` (e.g. ``("user", "dim")``)."""
    if not isinstance(t, Tensor) or not (t.is_floating_point() or t.is_complex()):
        return t
    bad = ~torch.isfinite(t)
    if not bool(bad.any()):
        return t
    first = bad.nonzero()[0].tolist()
    where = ", ".join(f"{n} {i}" for n, i in zip(dims, first))
    if len(first) > len(dims):
        where += f"{', ' if where else ''}index {tuple(first)}"
    where = where or "the value"
    raise NonFiniteError(
        f"{fn}: {what} must be finite (got {int(bad.sum())} NaN/inf entries of {t.numel()}; first at {where}: "
        f"{t[tuple(first)].item()})"
    )


def check_parameters(module: torch.nn.Module, fn: str, **at: Optional[int]) -> None:
    """:class:`NonFiniteError` naming the first parameter of ``module`` holding NaN/inf (and ``at``)."""
    for name, p in module.named_parameters():
        if not bool(torch.isfinite(p).all()):
            where = ", ".join(f"{k} {v}" for k, v in at.items() if v is not None)
            raise NonFiniteError(
                f"{fn}: parameter {name!r} became non-finite{' at ' + where if where else ''} "
                f"({int((~torch.isfinite(p)).sum())} of {p.numel()} entries); training diverged"
            )
