r"""``estimate_energy``: run a model once under the counter and report MAC/AC/energy per layer.

Follows the SNN literature's estimate (Horowitz 45 nm unit energies; Spikformer, Spike-driven
Transformer, syops-counter): ``E = E_MAC * #MAC + E_AC * #AC`` where a synaptic layer fed binary
spikes costs ``AC = rate x FLOPs`` and one fed real values costs ``MAC = FLOPs``.

Parity (tests/spiking/energy/test_parity.py): with ``ac_count="exact"`` our MAC equals
spikingjelly's ``MACCounter`` and our synaptic AC its ``SynOpCounter`` exactly, on a conv/LIF/
linear network and on spikingjelly's ``SpikingSelfAttention`` (spike x spike ``bmm``); torchvision
ResNet-18 at 1x3x224x224 gives 1,814,073,344 MACs = 8.345 mJ (published: 1.82 G, 8.372 mJ);
ViT-B/16 17.56 GMAC (fused attention kernels counted).

How this differs from spikingjelly 2.0's ``op_counter`` (``estimate_simple_energy``):

* spikingjelly's ``ACCounter`` also counts the additions inside batch norm, residual ``add``/
  ``sub``, reductions, and the neuron dynamics' elementwise ops (6 per spikingjelly LIF neuron and
  step: its ``sub``/``add``/``rsub`` ops; graphspike's fused LIF op is invisible to it); its
  ``SimpleEnergyProfiler`` even charges an ``aten.sum`` that its own memory counter issues. We
  count synaptic ops (conv/linear/matmul/spmm), pooling, batch norm only with ``bn="count"``, and
  neuron updates only with ``neuron_updates=True`` (one AC per neuron per step). Its ``SynOpCounter`` equals our
  ``ac_count="exact"`` AC on synaptic ops, and its ``MACCounter`` equals our MAC on
  conv/linear/matmul (its BN MAC: one per element when affine, as our ``bn="count"``).
* spikingjelly counts a conv's exact receptive-field occupancy; our default ``ac_count="rate"``
  is the papers' ``rate x FLOPs``; pass ``ac_count="exact"`` for spikingjelly's number.
* graphspike's ``spmm`` aggregation is counted (``nnz * F``); spikingjelly does not know it.
* mode: we count in ``eval()`` (batch norm on running statistics, dropout off) and restore the
  model's mode; spikingjelly counts in whatever mode the model is in (in train mode its BN uses
  batch statistics, so spikes -- and AC -- differ).
* memory: spikingjelly always adds parameter and neuron-state traffic at 24.96 pJ/byte; ours is
  opt-in (``memory=True``) at 3.12 pJ/bit (the same value) and reported separately.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

import torch
from spikingjelly.activation_based import functional as sj_functional
from torch import nn

from sampling.finite import NonFiniteError

from .ann_twin import count_neurons, make_ann_twin
from .counter import EnergyCounter
from .presets import EnergyPreset, get_preset
from .report import EnergyOptions, EnergyReport, build_report

__all__ = ["estimate_energy", "estimate_ann_energy", "count_ops"]


def _describe(inputs: Any) -> str:
    if isinstance(inputs, torch.Tensor):
        return f"Tensor{tuple(inputs.shape)} {inputs.dtype}"
    if isinstance(inputs, (tuple, list)):
        return "(" + ", ".join(_describe(i) for i in inputs) + ")"
    if isinstance(inputs, dict):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in inputs.items()) + "}"
    return type(inputs).__name__


def _has_tensor(tree: Any) -> bool:
    if isinstance(tree, torch.Tensor):
        return True
    if isinstance(tree, (tuple, list)):
        return any(_has_tensor(t) for t in tree)
    if isinstance(tree, dict):
        return any(_has_tensor(t) for t in tree.values())
    return False


def _call(model: nn.Module, inputs: Any) -> Any:
    if isinstance(inputs, tuple):
        return model(*inputs)
    if isinstance(inputs, dict):
        return model(**inputs)
    return model(inputs)


def _check_T(T: Any) -> Optional[int]:
    if T is None:
        return None
    if isinstance(T, bool) or not isinstance(T, int):
        raise TypeError(f"estimate_energy: T must be a positive int or None (got {type(T).__name__})")
    if T <= 0:
        raise ValueError(f"estimate_energy: T must be a positive number of time steps (got {T})")
    return T


def _calls(example_input: Any, T: Optional[int], step_mode: str) -> list[Any]:
    """The list of model inputs, one per forward call."""
    if T is None:
        return [example_input]
    if step_mode == "s":
        return [example_input] * T
    if not isinstance(example_input, torch.Tensor):
        raise TypeError(
            "estimate_energy: with T and step_mode='m' the example input must be one tensor "
            f"that is repeated over T (got {_describe(example_input)})"
        )
    # [B, ...] -> [T, B, ...]
    return [example_input.unsqueeze(0).repeat(T, *([1] * example_input.dim()))]


def count_ops(model: nn.Module, calls: list[Any]) -> EnergyCounter:
    """Run ``model`` on each input of ``calls`` under an :class:`EnergyCounter` (eval, no grad).

    Neuron states are reset before and after (``spikingjelly.functional.reset_net``); the
    model's train/eval mode is restored afterwards.
    """
    counter = EnergyCounter(model)
    was_training = model.training
    model.eval()
    sj_functional.reset_net(model)
    try:
        with counter, torch.no_grad():
            for inputs in calls:
                try:
                    out = _call(model, inputs)
                except NonFiniteError:  # raised by the counter, naming the layer: not the model's failure
                    raise
                except Exception as err:  # the user's model failed: say so with the input that broke it
                    raise ValueError(
                        f"estimate_energy: the model raised {type(err).__name__} on the example "
                        f"input {_describe(inputs)}: {err}"
                    ) from err
                if not _has_tensor(out):
                    raise TypeError(
                        "estimate_energy: the model must return a tensor or a tuple/list/dict "
                        f"holding tensors (got {type(out).__name__})"
                    )
    finally:
        sj_functional.reset_net(model)
        model.train(was_training)
    return counter


def _ann_report(model: nn.Module, calls: list[Any], unit: EnergyPreset, bn: str, memory: bool) -> EnergyReport:
    opts = EnergyOptions(bn=bn, memory=memory, all_mac=True)
    return build_report(count_ops(model, calls).stats, unit, opts)


def estimate_ann_energy(
    model: nn.Module,
    example_input: Any,
    *,
    preset: Union[str, EnergyPreset, Mapping[str, float]] = "45nm-fp32",
    bn: str = "fold",
    memory: bool = False,
) -> EnergyReport:
    """Count ``model`` as an ANN: every synaptic op is a MAC whatever its input values.

    For an explicit ANN counterpart (e.g. SGC for SpikingGCN); ``estimate_energy(..., ann=True)``
    uses the same counting for its ReLU twin. Additions-only ops (pooling, unweighted ``spmm``,
    scatter-adds) stay AC.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"estimate_ann_energy: model must be an nn.Module (got {type(model).__name__})")
    return _ann_report(model, [example_input], get_preset(preset), bn, memory)


def estimate_energy(
    model: nn.Module,
    example_input: Any,
    *,
    T: Optional[int] = None,
    step_mode: str = "m",
    preset: Union[str, EnergyPreset, Mapping[str, float]] = "45nm-fp32",
    first_layer: str = "auto",
    ac_count: str = "rate",
    bn: str = "fold",
    static_input: str = "per_step",
    neuron_updates: bool = False,
    memory: bool = False,
    weight_reads: Optional[int] = None,
    ann: bool = False,
) -> EnergyReport:
    r"""Per-layer operation counts and energy of one inference of ``model``.

    Args:
        model: any ``nn.Module`` (torch, spikingjelly or graphspike; spiking or not).
        example_input: a tensor, a tuple (passed as ``*args``) or a dict (``**kwargs``).
        T: ``None`` -- call the model once on ``example_input`` as given (time already inside the
            input or the model). An int -- the input is static and repeated over ``T`` steps:
            ``step_mode="m"`` calls the model once on ``[T, *shape]``; ``"s"`` calls it ``T`` times.
        step_mode: ``"m"`` or ``"s"``, see ``T``.
        preset: a name (``"45nm-fp32"`` (default), ``"45nm-fp16"``, ``"45nm-int8"``, ``"45nm-int32"``),
            an :class:`EnergyPreset` or ``{"mac_pj": .., "ac_pj": .., "memory_pj_per_bit": ..}``.
        first_layer: ``"auto"`` (binary input -> AC, real -> MAC), ``"mac"``, ``"ac"`` (x non-zero rate).
        ac_count: ``"rate"`` (``AC = rate x FLOPs``, the papers) or ``"exact"`` (spike-triggered weight
            uses, spikingjelly's ``SynOpCounter``).
        bn: ``"fold"`` (BN folded into the previous layer: free) or ``"count"`` (1 MAC per element).
        static_input: ``"per_step"`` or ``"once"`` (the first layer on a static input computed once;
            needs ``T``).
        neuron_updates: add one AC per neuron per step for the state update.
        memory: add the memory-access term (reported separately).
        weight_reads: memory term: how often one forward call reads each weight (default ``T`` when
            ``T`` is given with ``step_mode="m"``, else 1; pass the number of steps when the input
            already carries time, since hardware reads the weights at every step).
        ann: also count the ANN twin (neurons -> ReLU, all MAC, one step) and store it in ``report.ann``
            (skipped, with a note, when the model has no neuron modules).

    Returns:
        an :class:`~spiking.energy.report.EnergyReport` (``.table()``, ``.to_dict()``, ``.to_json()``).

    Raises:
        TypeError: ``model`` not a module, bad ``T`` type, non-tensor model output.
        ValueError: ``T <= 0``, unknown preset or option, the model failing on ``example_input``.

    Example::

        >>> import torchvision
        >>> _ = torch.manual_seed(0)
        >>> r = estimate_energy(torchvision.models.resnet18(), torch.randn(1, 3, 224, 224))
        >>> round(r.mac / 1e9, 2), round(r.energy_mJ, 2)   # the papers' 1.82 GMAC, 8.37 mJ
        (1.81, 8.34)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"estimate_energy: model must be an nn.Module (got {type(model).__name__})")
    T = _check_T(T)
    if step_mode not in ("m", "s"):
        raise ValueError(f"estimate_energy: step_mode must be 'm' or 's' (got {step_mode!r})")
    unit = get_preset(preset)
    if weight_reads is None:
        weight_reads = T if (T is not None and step_mode == "m") else 1
    opts = EnergyOptions(
        first_layer=first_layer,
        ac_count=ac_count,
        bn=bn,
        static_input=static_input,
        neuron_updates=neuron_updates,
        memory=memory,
        T=T,
        weight_reads=weight_reads,
    )
    if static_input == "once" and T is None:
        raise ValueError("estimate_energy: static_input='once' needs T (the number of repeats) (got T=None)")
    if not isinstance(ann, bool):
        raise TypeError(f"estimate_energy: ann must be a bool (got {type(ann).__name__})")

    counter = count_ops(model, _calls(example_input, T, step_mode))
    report = build_report(counter.stats, unit, opts)
    if ann and count_neurons(model) == 0:
        report.notes.append("ANN twin skipped: the model has no spiking-neuron modules to replace")
    elif ann:
        twin = make_ann_twin(model)
        twin_calls = _calls(example_input, 1 if T is not None else None, step_mode)
        report.ann = _ann_report(twin, twin_calls, unit, bn, memory)
        if T is not None:
            report.notes.append("ANN twin counted for one step (T=1) on the static input")
    return report
