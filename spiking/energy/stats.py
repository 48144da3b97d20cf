"""Raw per-layer accumulators filled while the model runs (no energy decisions here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .rules import OpCall

__all__ = ["LayerStats"]


@dataclass
class LayerStats:
    """Sums over every call of one ``(scope, op)`` pair.

    ``scope`` is the qualified name of the innermost module running the op (``"(root)"`` for
    the model's own ``forward``). Binary and real-valued calls are kept apart so that the
    first-layer and ANN options can be applied afterwards without re-running the model.
    """

    name: str
    module_type: str
    op: str
    order: int
    calls: int = 0
    flops: float = 0.0
    # calls whose activation operand was binary (spikes)
    flops_binary: float = 0.0
    ac_exact_binary: float = 0.0
    ac_rate_binary: float = 0.0
    nnz_binary: float = 0.0
    numel_binary: float = 0.0
    # calls with a real-valued activation operand
    flops_real: float = 0.0
    ac_exact_real: float = 0.0
    ac_rate_real: float = 0.0
    nnz_real: float = 0.0
    numel_real: float = 0.0
    additive: bool = False
    spike_spike: bool = False
    extra_bits: float = 0.0
    param_bits: float = 0.0
    # neuron rows
    spikes: float = 0.0
    out_numel: float = 0.0
    updates: float = 0.0
    state_bits: float = 0.0
    extras: dict = field(default_factory=dict)

    def add(self, call: OpCall) -> None:
        self.calls += 1
        self.flops += call.flops
        self.additive = self.additive or call.additive
        self.spike_spike = self.spike_spike or call.spike_spike
        self.extra_bits += call.extra_bits
        if call.binary:
            self.flops_binary += call.flops
            self.ac_exact_binary += call.ac_exact
            self.ac_rate_binary += call.ac_rate
            self.nnz_binary += call.nnz
            self.numel_binary += call.numel
        else:
            self.flops_real += call.flops
            self.ac_exact_real += call.ac_exact
            self.ac_rate_real += call.ac_rate
            self.nnz_real += call.nnz
            self.numel_real += call.numel

    def add_neuron_call(self, in_numel: int, spikes: int, out_numel: int, state_bits: float) -> None:
        self.calls += 1
        self.updates += in_numel
        self.spikes += spikes
        self.out_numel += out_numel
        self.state_bits += state_bits
