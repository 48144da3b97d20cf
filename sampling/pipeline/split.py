r"""Split a model given as a sequence of layers into contiguous pipeline stages.

Two rules: equal layer counts (:func:`split_by_count`) and balanced measured cost
(:func:`split_by_cost`, the linear-partition problem: choose ``S - 1`` cut points so that the most
expensive stage is as cheap as possible, solved exactly by dynamic programming in
:math:`O(S L^2)`). :func:`measure_layer_costs` times each layer's forward and backward on an
example input, the cost model GPipe and PipeDream's partitioners use.

A split is a list of ``range`` objects, one per stage, covering ``0 .. L-1`` in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["measure_layer_costs", "split_by_cost", "split_by_count", "stage_costs"]


def _check_count(fn: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{fn}: {name} must be a positive int (got {value!r})")
    return value


def split_by_count(num_layers: int, num_stages: int) -> list[range]:
    """``num_stages`` contiguous ranges of ``0 .. num_layers-1`` whose sizes differ by at most one
    (the first ``num_layers % num_stages`` stages get the extra layer).

    Raises:
        ValueError: fewer layers than stages, or a non-positive count.

    Example:
        >>> split_by_count(10, 4)
        [range(0, 3), range(3, 6), range(6, 8), range(8, 10)]
    """
    _check_count("split_by_count", "num_layers", num_layers)
    _check_count("split_by_count", "num_stages", num_stages)
    if num_stages > num_layers:
        raise ValueError(
            f"split_by_count: every stage needs a layer, so num_stages <= num_layers={num_layers} (got {num_stages})"
        )
    base, extra = divmod(num_layers, num_stages)
    out, start = [], 0
    for s in range(num_stages):
        size = base + (1 if s < extra else 0)
        out.append(range(start, start + size))
        start += size
    return out


def split_by_cost(costs: Sequence[float], num_stages: int) -> list[range]:
    r"""Contiguous split minimising the largest stage cost :math:`\max_s \sum_{l \in s} c_l`.

    Exact dynamic programme over cut points; ties go to the smallest cut point, so the result
    is deterministic.

    Args:
        costs: per-layer cost (seconds, FLOPs, ...), non-negative and finite.
        num_stages: number of stages ``S <= len(costs)``.

    Raises:
        ValueError: an empty or invalid cost list, or more stages than layers.

    Example:
        >>> split_by_cost([1, 1, 1, 5, 1, 1], 3)
        [range(0, 3), range(3, 4), range(4, 6)]
    """
    _check_count("split_by_cost", "num_stages", num_stages)
    c = [float(x) for x in costs]
    if not c:
        raise ValueError("split_by_cost: costs must be a non-empty sequence (got an empty one)")
    if any(not (x >= 0.0) or x == float("inf") for x in c):
        raise ValueError(f"split_by_cost: costs must be finite and >= 0 (got {costs!r})")
    n = len(c)
    if num_stages > n:
        raise ValueError(f"split_by_cost: every stage needs a layer, so num_stages <= {n} layers (got {num_stages})")
    prefix = [0.0]
    for x in c:
        prefix.append(prefix[-1] + x)
    inf = float("inf")
    # best[s][i]: minimal max-stage cost of splitting the first i layers into s stages
    best = [[inf] * (n + 1) for _ in range(num_stages + 1)]
    cut = [[0] * (n + 1) for _ in range(num_stages + 1)]
    best[0][0] = 0.0
    for s in range(1, num_stages + 1):
        for i in range(s, n - (num_stages - s) + 1):
            for j in range(s - 1, i):  # last stage holds layers j .. i-1
                v = max(best[s - 1][j], prefix[i] - prefix[j])
                if v < best[s][i] - 1e-12 * max(1.0, abs(v)):
                    best[s][i], cut[s][i] = v, j
    bounds, i = [], n
    for s in range(num_stages, 0, -1):
        j = cut[s][i]
        bounds.append(range(j, i))
        i = j
    return bounds[::-1]


def stage_costs(costs: Sequence[float], split: Sequence[range]) -> list[float]:
    """Sum of ``costs`` over each stage of ``split``."""
    return [float(sum(costs[i] for i in r)) for r in split]


def measure_layer_costs(
    layers: Sequence[nn.Module], *inputs: Any, repeats: int = 3, call: Callable[[nn.Module, Any], Any] | None = None
) -> list[float]:
    """Seconds of forward + backward of every layer, run as one chain on ``inputs``.

    Layer ``l`` receives the (detached, grad-requiring) output of layer ``l-1``; its time is the
    median over ``repeats`` of its forward plus the backward of ``out.sum()`` (CUDA is
    synchronised around each measurement). RNG state is saved and restored, so measuring does not
    change what training draws later.

    Args:
        layers: the model as a sequence of modules.
        inputs: the first layer's inputs.
        repeats: timed repetitions per layer (>= 1), after one warm-up.
        call: ``call(layer, x) -> y`` for layers that need more than ``layer(x)`` (default:
            ``layer(*x)`` when ``x`` is a tuple, else ``layer(x)``).
    """
    _check_count("measure_layer_costs", "repeats", repeats)
    if not layers:
        raise ValueError("measure_layer_costs: layers must be a non-empty sequence (got an empty one)")

    def run(layer: nn.Module, x: Any) -> Any:
        if call is not None:
            return call(layer, x)
        return layer(*x) if isinstance(x, tuple) else layer(x)

    def sync() -> None:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()

    def leaf(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x.detach().requires_grad_(x.is_floating_point())
        if isinstance(x, tuple):
            return tuple(leaf(v) for v in x)
        return x

    def first_tensor(y: Any) -> torch.Tensor:
        if isinstance(y, torch.Tensor):
            return y
        return next(v for v in y if isinstance(v, torch.Tensor))

    costs = []
    x: Any = inputs[0] if len(inputs) == 1 else tuple(inputs)
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if torch.cuda.is_initialized() else []):
        for layer in layers:
            times = []
            for rep in range(repeats + 1):
                xin = leaf(x)
                sync()
                t0 = time.perf_counter()
                y = run(layer, xin)
                out = first_tensor(y)
                if out.requires_grad:
                    out.float().sum().backward()
                sync()
                if rep:
                    times.append(time.perf_counter() - t0)
            layer.zero_grad(set_to_none=True)
            costs.append(sorted(times)[len(times) // 2])
            x = (
                y.detach()
                if isinstance(y, torch.Tensor)
                else tuple(v.detach() if isinstance(v, torch.Tensor) else v for v in y)
            )
    return costs
