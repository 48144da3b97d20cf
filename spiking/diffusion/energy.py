r"""Energy of generating samples: every denoising call of a sampler, counted through :mod:`spiking.energy`.

A sample costs the sum over its sampler's model calls (1000 for DDPM, e.g. 50 for DDIM). Firing
rates depend on the diffusion step, so we do not multiply one call by the number of steps: the
sampler runs once while the inputs of each call are recorded, then every call is replayed under
:func:`spiking.energy.count_ops` and priced with :func:`spiking.energy.build_report` (Horowitz 45 nm
by default: MAC 4.6 pJ, AC 0.9 pJ; a conv fed spikes costs ``rate x FLOPs`` ACs, one fed real values
``FLOPs`` MACs). With ``ann=True`` every synaptic op is a MAC (the count for an ANN twin).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from spiking.energy import EnergyOptions, EnergyPreset, EnergyReport, build_report, count_ops, get_preset

from .gaussian import GaussianDiffusion

__all__ = ["sampling_energy"]


def sampling_energy(
    diffusion: GaussianDiffusion,
    shape: tuple[int, ...],
    *,
    sampler: str = "ddpm",
    steps: int | None = None,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    ann: bool = False,
    preset: str | EnergyPreset | Mapping[str, float] = "45nm-fp32",
    bn: str = "fold",
) -> tuple[EnergyReport, int]:
    """Count the energy of sampling a batch of ``shape`` (all denoising calls together).

    Returns ``(report, calls)``: the :class:`~spiking.energy.EnergyReport` of all ``calls`` model
    evaluations for the whole batch (divide ``report.energy_mJ`` by ``shape[0]`` for one sample and by
    ``calls`` for one denoising step; ``report.firing_rate`` and the neuron rows' ``output_rate`` give
    firing rates). ``ann=True`` counts every synaptic op as a MAC (use for the ANN twin).
    """
    if not isinstance(diffusion, GaussianDiffusion):
        raise TypeError(f"sampling_energy: diffusion must be a GaussianDiffusion (got {type(diffusion).__name__})")
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def record(module, args):
        calls.append((args[0].detach().clone(), args[1].detach().clone()))

    handle = diffusion.model.register_forward_pre_hook(record)
    try:
        diffusion.sample(shape, sampler=sampler, steps=steps, eta=eta, generator=generator)
    finally:
        handle.remove()
    counter = count_ops(diffusion.model, calls)
    opts = EnergyOptions(bn=bn, all_mac=True) if ann else EnergyOptions(bn=bn)
    return build_report(counter.stats, get_preset(preset), opts), len(calls)
