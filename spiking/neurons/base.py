"""Shared module shell of our LIF-family neurons (state handling, step modes, spikingjelly interop)."""
from __future__ import annotations

import torch
from spikingjelly.activation_based import base as sj_base

from . import functional as F
from .surrogate import resolve_surrogate


class SpikingNeuron(sj_base.MemoryModule):
    """Base class: a spikingjelly ``MemoryModule`` holding the membrane potential ``v``.

    Because it is a ``MemoryModule`` with ``v`` registered through ``register_memory``,
    ``spikingjelly.activation_based.functional.reset_net`` resets it, ``set_step_mode`` switches it,
    and tools that recognise spikingjelly stateful modules (our energy counter, monitors) see it.
    ``is_spiking_neuron = True`` marks our neurons explicitly.

    Step modes (as spikingjelly): ``'s'`` takes ``x`` [B, ...] and returns spikes [B, ...];
    ``'m'`` takes time-major ``x_seq`` [T, B, ...]. One multi-step call equals T single steps.

    Subclasses define :meth:`tau_value` (a float, ``inf`` for IF, or a 0-dim tensor).

    Differences from spikingjelly's ``BaseNode``: ``store_v_seq`` fills ``v_seq`` in multi-step
    mode only (spikingjelly also appends single steps); feeding a batch whose shape differs from
    the stored ``v`` raises a ``ValueError`` asking for ``reset_net`` instead of broadcasting.
    """

    is_spiking_neuron = True

    def __init__(
        self,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate: str | torch.nn.Module = "sigmoid",
        alpha: float | None = None,
        detach_reset: bool = False,
        decay_input: bool = True,
        step_mode: str = "s",
        store_v_seq: bool = False,
    ) -> None:
        super().__init__()
        spec = resolve_surrogate(surrogate, alpha)
        self._surrogate = spec
        self.surrogate_function = spec.fn  # submodule, as in spikingjelly's BaseNode
        self.v_threshold = float(v_threshold) if isinstance(v_threshold, int) else v_threshold
        self.v_reset = float(v_reset) if isinstance(v_reset, int) else v_reset
        self.detach_reset = bool(detach_reset)
        self.decay_input = bool(decay_input)
        self.store_v_seq = bool(store_v_seq)
        self.step_mode = step_mode
        # V starts (and is reset by reset_net) at v_reset, or 0 for soft reset, as spikingjelly's BaseNode
        self.register_memory("v", 0.0 if self.v_reset is None else self.v_reset)
        if self.store_v_seq:
            self.register_memory("v_seq", None)

    # subclasses --------------------------------------------------------------------------
    def tau_value(self) -> float | torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__}.tau_value must be defined by the subclass")

    # helpers ----------------------------------------------------------------------------
    @property
    def surrogate_name(self) -> str:
        return self._surrogate.name

    @property
    def alpha(self) -> float:
        return self._surrogate.alpha

    def _check_state(self, x: torch.Tensor, where: str) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{type(self).__name__}.{where}: expected a tensor (got {type(x).__name__})")
        if not x.is_floating_point():
            raise TypeError(f"{type(self).__name__}.{where}: expected a floating-point tensor (got {x.dtype})")
        v = self.v
        if isinstance(v, torch.Tensor) and v.shape != x.shape[x.dim() - v.dim():]:
            raise ValueError(
                f"{type(self).__name__}.{where}: input shape {tuple(x.shape)} does not match the stored membrane "
                f"potential {tuple(v.shape)}; call spikingjelly.activation_based.functional.reset_net(model) "
                "after every batch"
            )

    def _kwargs(self) -> dict:
        return dict(decay_input=self.decay_input, v_threshold=self.v_threshold, v_reset=self.v_reset,
                    surrogate=self._surrogate, detach_reset=self.detach_reset)

    # forward ----------------------------------------------------------------------------
    def single_step_forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` [B, ...] -> spikes [B, ...]; updates ``self.v``."""
        self._check_state(x, "single_step_forward")
        spike, self.v = F.lif_step(x, self.v, self.tau_value(), **self._kwargs())
        return spike

    def multi_step_forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        """``x_seq`` [T, B, ...] -> spikes [T, B, ...]; ``self.v`` becomes V[T-1] ([B, ...]), and
        ``self.v_seq`` [T, B, ...] when ``store_v_seq``."""
        self._check_state(x_seq, "multi_step_forward")
        if x_seq.dim() < 2:
            raise ValueError(
                f"{type(self).__name__}.multi_step_forward: expected time-major [T, B, ...] (got shape {tuple(x_seq.shape)})"
            )
        spikes, self.v, v_seq = F.lif_multistep(x_seq, self.v, self.tau_value(), return_v_seq=self.store_v_seq,
                                                **self._kwargs())
        if self.store_v_seq:
            self.v_seq = v_seq
        return spikes

    def extra_repr(self) -> str:
        return (f"v_threshold={self.v_threshold}, v_reset={self.v_reset}, surrogate={self.surrogate_name!r}, "
                f"alpha={self.alpha}, detach_reset={self.detach_reset}, decay_input={self.decay_input}, "
                f"step_mode={self.step_mode!r}, store_v_seq={self.store_v_seq}")
