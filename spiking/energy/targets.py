"""What to count and how to summarise it: an :class:`EnergyTarget` (model, example input, ANN
counterpart, per-unit divisor) and :func:`measure_energy`, which turns one into a report plus the
flat figures an experiment log wants (``examples/energy.py`` is a thin command line over these)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from .ann_twin import make_ann_twin
from .estimate import estimate_ann_energy, estimate_energy
from .report import EnergyReport

__all__ = [
    "INPUT_KINDS",
    "EnergyResult",
    "EnergyTarget",
    "imported_target",
    "measure_energy",
    "random_input",
    "spiking_frames_target",
]

INPUT_KINDS = ("real", "spikes", "events")


@dataclass
class EnergyTarget:
    """One inference to count.

    Attributes:
        name: shown in tables and files.
        model, example: the module and its input (a tensor, a tuple of ``*args`` or a dict).
        T: ``None`` when time is inside ``example`` already, else the steps a static input is repeated.
        weight_reads: memory term: steps inside one call when the input carries time.
        ann_model, ann_example: an explicit ANN counterpart and its input (else, when the model has
            spiking neurons, :func:`estimate_energy`'s twin: neurons -> ReLU).
        per: ``(unit, count)``: also report energy per unit (``("sample", B)``).
        notes: lines describing the input, weights and counterpart.
        extra_reports: more figures to report beside the main one (reports or numbers), e.g. a
            propagation computed once per graph.
    """

    name: str
    model: nn.Module
    example: Any
    T: int | None = None
    weight_reads: int | None = None
    ann_model: nn.Module | None = None
    ann_example: Any = None
    per: tuple[str, float] | None = None
    notes: list[str] = field(default_factory=list)
    extra_reports: dict = field(default_factory=dict)

    def to(self, device: str | torch.device) -> EnergyTarget:
        """Move the models and the tensor inputs (also inside tuples/dicts) to ``device``; returns ``self``."""

        def move(x: Any) -> Any:
            if isinstance(x, Tensor):
                return x.to(device)
            if isinstance(x, (tuple, list)):
                return type(x)(move(v) for v in x)
            return {k: move(v) for k, v in x.items()} if isinstance(x, dict) else x

        self.model, self.example, self.ann_example = self.model.to(device), move(self.example), move(self.ann_example)
        self.ann_model = None if self.ann_model is None else self.ann_model.to(device)
        return self


@dataclass
class EnergyResult:
    """``report`` (per layer, with ``report.ann``), ``metrics`` (flat figures) and ``data`` (the
    report's dictionary with the extra reports, what ``report.json`` holds)."""

    report: EnergyReport
    metrics: dict
    data: dict


def random_input(shape: tuple[int, ...], kind: str, rate: float, generator: torch.Generator) -> Tensor:
    """A random input of ``shape``: ``"real"`` standard normal values, ``"spikes"`` Bernoulli(``rate``)
    0/1 values, ``"events"`` Poisson(``rate``) event counts clamped to 3 (mostly 0, some 1-3)."""
    if kind not in INPUT_KINDS:
        raise ValueError(f"random_input: kind must be one of {INPUT_KINDS} (got {kind!r})")
    if kind == "spikes" and not 0.0 <= rate <= 1.0 or kind == "events" and not rate >= 0.0:
        raise ValueError(f"random_input: rate must be a probability for spikes and >= 0 for events (got {rate})")
    if kind == "spikes":
        return (torch.rand(shape, generator=generator) < rate).float()
    if kind == "events":
        return torch.poisson(torch.full(shape, rate), generator=generator).clamp(max=3.0)
    return torch.randn(shape, generator=generator)


def spiking_frames_target(name: str, model: nn.Module, frames: Tensor, notes: list[str]) -> EnergyTarget:
    """A spiking classifier on event frames ``[T, B, C, H, W]``; its ANN counterpart (neurons -> ReLU)
    sees all events integrated into one frame ``[1, B, C, H, W]``; energy also per sample."""
    if frames.dim() < 3:
        raise ValueError(f"spiking_frames_target: frames must be [T, B, ...] (got shape {tuple(frames.shape)})")
    T, B = frames.shape[:2]
    return EnergyTarget(
        name,
        model,
        frames,
        weight_reads=T,
        ann_model=make_ann_twin(model),
        ann_example=frames.sum(0, keepdim=True),
        per=("sample", float(B)),
        notes=[*notes, "ANN twin: neurons -> ReLU, one step on the events integrated into one frame"],
    )


def imported_target(
    spec: str,
    input_shape: tuple[int, ...] | None,
    generator: torch.Generator,
    input_kind: str | None = None,
    rate: float = 0.1,
    T: int | None = None,
) -> EnergyTarget:
    """A model named by an import path, on a random input (:func:`random_input`, kind ``"real"``
    unless ``input_kind``).

    * ``"torchvision:NAME"``: ``torchvision.models.get_model(NAME)`` with random weights; input
      ``[1, 3, 224, 224]`` unless ``input_shape``; energy also per sample (dimension 0).
    * ``"module:callable"``: ``callable()`` from ``module`` must return an ``nn.Module``;
      ``input_shape`` is required.

    ``T``: steps a static input is repeated (``None``: one call).

    Raises:
        ValueError: ``spec`` is neither form, the module or name cannot be imported, the callable
            returns no ``nn.Module``, or ``input_shape`` is missing for a callable.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected torchvision:NAME or module:callable (got {spec!r})")
    if module_name == "torchvision":
        import torchvision

        model = torchvision.models.get_model(attr, weights=None)  # ValueError for an unknown name
        x = random_input(input_shape or (1, 3, 224, 224), input_kind or "real", rate, generator)
        return EnergyTarget(f"torchvision.{attr}", model, x, T=T, per=("sample", float(x.shape[0])))
    try:
        model = getattr(importlib.import_module(module_name), attr)()
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot import {attr!r} from {module_name!r} ({err})") from err
    if not isinstance(model, nn.Module) or input_shape is None:
        raise ValueError(
            f"needs an input shape and a callable returning an nn.Module (got {type(model).__name__}, "
            f"input shape {input_shape})"
        )
    return EnergyTarget(spec, model, random_input(input_shape, input_kind or "real", rate, generator), T=T)


def measure_energy(
    target: EnergyTarget,
    *,
    ann: bool = True,
    preset: Any = "45nm-fp32",
    first_layer: str = "auto",
    ac_count: str = "rate",
    bn: str = "fold",
    step_mode: str = "m",
    static_input: str = "per_step",
    neuron_updates: bool = False,
    memory: bool = False,
) -> EnergyResult:
    """Count ``target`` with :func:`estimate_energy` (options as there), its ANN counterpart when
    ``ann`` (``target.ann_model`` with :func:`estimate_ann_energy`, else the ReLU twin), and collect:
    totals, ``ann_energy_mJ``, ``ann_mac``, ``snn_over_ann_energy``, ``energy_mJ_per_<unit>`` and
    ``<extra>_mJ`` for every extra report."""
    report = estimate_energy(
        target.model,
        target.example,
        T=target.T,
        step_mode=step_mode,
        weight_reads=target.weight_reads,
        static_input=static_input if target.T else "per_step",
        ann=ann and target.ann_model is None,
        preset=preset,
        first_layer=first_layer,
        ac_count=ac_count,
        bn=bn,
        neuron_updates=neuron_updates,
        memory=memory,
    )
    if ann and target.ann_model is not None:
        report.ann = estimate_ann_energy(target.ann_model, target.ann_example, preset=preset, bn=bn, memory=memory)
    report.notes.extend(target.notes)
    metrics = {"model": target.name, **report.totals()}
    if report.ann is not None:
        metrics["ann_energy_mJ"] = report.ann.energy_mJ
        metrics["ann_mac"] = report.ann.mac
        metrics["snn_over_ann_energy"] = report.energy_pJ / report.ann.energy_pJ if report.ann.energy_pJ else None
    if target.per is not None:
        unit, count = target.per
        metrics[f"energy_mJ_per_{unit}"] = report.energy_mJ / count
    data = report.to_dict()
    data["model"] = target.name
    for key, extra in target.extra_reports.items():
        if isinstance(extra, EnergyReport):
            data[key] = {"total": extra.totals(), "layers": [r.to_dict() for r in extra.layers]}
            metrics[f"{key}_mJ"] = extra.energy_mJ
        else:
            data[key] = metrics[key] = extra
    return EnergyResult(report, metrics, data)
