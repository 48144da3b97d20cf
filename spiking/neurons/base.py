"""Shared module shell of our LIF-family neurons (state, step modes, backend, spikingjelly interop)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from spikingjelly.activation_based import base as sj_base

from cuda_ext import BACKENDS, LIFParams, lif_multistep, lif_multistep_sequence, lif_step, resolve_backend
from cuda_ext.neuron import opmath_dtype

from .surrogate import resolve_surrogate

__all__ = ["SpikingNeuron"]


class SpikingNeuron(sj_base.MemoryModule):
    r"""Base class of the LIF family: a spikingjelly ``MemoryModule`` holding the membrane potential ``v``.

    The dynamics are those of :mod:`cuda_ext.neuron` (one :class:`cuda_ext.LIFParams` record, one
    reference step); the module owns the hyperparameters and the state, nothing else.

    State: ``v`` is registered through ``register_memory``, so
    ``spikingjelly.activation_based.functional.reset_net`` and :meth:`reset` restore it
    (to ``v_reset``, or 0 for soft reset), ``set_step_mode`` switches the mode,
    ``detach_net`` detaches it, and tools that recognise spikingjelly stateful modules (our
    energy counter, monitors) see it. ``is_spiking_neuron = True`` marks our neurons.

    Step modes (as spikingjelly): ``'s'`` takes ``x`` ``[B, ...]`` and returns spikes ``[B, ...]``;
    ``'m'`` takes time-major ``x_seq`` ``[T, B, ...]``. One multi-step call equals T single steps.
    Multi-step inference writes the spikes and the last state only (``cuda_ext.lif_multistep``);
    the membrane sequence ``v_seq`` ``[T, B, ...]`` is computed only with ``store_v_seq=True``.

    Hyperparameters (``v_threshold``, ``v_reset``, ``detach_reset``, ``decay_input``, ``backend``
    and the subclass's ``tau``) may be changed after construction, e.g. shifting every
    neuron's threshold at inference; the new value is validated on assignment and used from
    the next call on. Changing ``v_reset`` also changes the value ``reset()`` restores.

    Backend: ``"auto"`` (the CUDA kernel for CUDA tensors when the extension is built; in
    multi-step mode on CPU float32/float64 tensors the compiled CPU kernel when built, whose
    gradients equal the PyTorch loop's to rounding; else PyTorch), ``"torch"`` or ``"cuda"`` (an
    explicit request, never replaced: CPU tensors or a missing extension raise; a surrogate the
    kernel does not implement is rejected at construction). Resolved by
    ``cuda_ext._backend.resolve_backend``. In single-step mode the PyTorch path is
    :func:`cuda_ext.lif_step` with the spikingjelly surrogate object (spikes and state bitwise
    spikingjelly's ``LIFNode``; gradients too, except that spikingjelly runs its sigmoid/atan
    steps through a fused op of its own, equal to rounding); the CUDA path runs the kernel with
    T = 1.

    Differences from spikingjelly's ``BaseNode``: ``store_v_seq`` fills ``v_seq`` in multi-step
    mode only (spikingjelly also appends single steps); feeding a batch whose shape differs from
    the stored ``v`` raises a ``ValueError`` asking for ``reset_net`` instead of broadcasting;
    half-precision multi-step inputs compute in float32.
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
        backend: str = "auto",
        *,
        tau: float = 2.0,
    ) -> None:
        super().__init__()
        spec = resolve_surrogate(surrogate, alpha)
        self._surrogate = spec
        self.surrogate_function = spec.fn  # submodule, as in spikingjelly's BaseNode
        self._params = self._record(
            tau=tau,
            v_threshold=v_threshold,
            v_reset=v_reset,
            decay_input=decay_input,
            detach_reset=detach_reset,
            surrogate=spec.name if spec.fused else spec.fn,
            alpha=spec.alpha,
        )
        self.backend = backend
        self.store_v_seq = bool(store_v_seq)
        self.step_mode = step_mode
        # V starts (and is reset by reset_net) at v_reset, or 0 for soft reset, as spikingjelly's BaseNode
        self.register_memory("v", self._params.v_rest)
        if self.store_v_seq:
            self.register_memory("v_seq", None)

    # hyperparameters ----------------------------------------------------------------------
    def _record(self, **fields: Any) -> LIFParams:
        try:
            return LIFParams(**fields)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{type(self).__name__}: {err}") from None

    def _update(self, **changes: Any) -> None:
        try:
            params = replace(self._params, **changes)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{type(self).__name__}: {err}") from None
        if params.v_rest != self._params.v_rest:
            self.set_reset_value("v", params.v_rest)
            if not isinstance(self.v, torch.Tensor):
                self.v = params.v_rest
        self._params = params

    @property
    def v_threshold(self) -> float:
        return self._params.v_threshold

    @v_threshold.setter
    def v_threshold(self, value: float) -> None:
        self._update(v_threshold=value)

    @property
    def v_reset(self) -> float | None:
        return self._params.v_reset

    @v_reset.setter
    def v_reset(self, value: float | None) -> None:
        self._update(v_reset=value)

    @property
    def detach_reset(self) -> bool:
        return self._params.detach_reset

    @detach_reset.setter
    def detach_reset(self, value: bool) -> None:
        self._update(detach_reset=value)

    @property
    def decay_input(self) -> bool:
        return self._params.decay_input

    @decay_input.setter
    def decay_input(self, value: bool) -> None:
        self._update(decay_input=value)

    @property
    def backend(self) -> str:
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        if value not in BACKENDS:
            raise ValueError(f"{type(self).__name__}: backend must be one of {BACKENDS} (got {value!r})")
        if value == "cuda" and not self._surrogate.fused:
            raise ValueError(
                f"{type(self).__name__}: backend='cuda' needs a surrogate the kernel implements "
                f"('sigmoid', 'atan') (got {self._surrogate.name!r})"
            )
        self._backend = value

    @property
    def surrogate_name(self) -> str:
        return self._surrogate.name

    @property
    def alpha(self) -> float:
        return self._surrogate.alpha

    def tau_value(self) -> float | torch.Tensor:
        """The time constant of the next call: a float (``inf`` for IF) or a 0-dim tensor (a subclass
        with a learnable time constant overrides this)."""
        return self._params.tau

    def lif_params(self) -> LIFParams:
        """The :class:`cuda_ext.LIFParams` of the next call: tau from :meth:`tau_value`, the fused op's
        surrogate name when the kernel implements it, else the spikingjelly surrogate object."""
        tau = self.tau_value()
        return self._params if tau is self._params.tau else replace(self._params, tau=tau)

    # forward ----------------------------------------------------------------------------
    def _check_state(self, x: torch.Tensor, where: str) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{type(self).__name__}.{where}: expected a tensor (got {type(x).__name__})")
        if not x.is_floating_point():
            raise TypeError(f"{type(self).__name__}.{where}: expected a floating-point tensor (got {x.dtype})")
        v = self.v
        if isinstance(v, torch.Tensor) and v.shape != x.shape[x.dim() - v.dim() :]:
            raise ValueError(
                f"{type(self).__name__}.{where}: input shape {tuple(x.shape)} does not match the stored membrane "
                f"potential {tuple(v.shape)}; call spikingjelly.activation_based.functional.reset_net(model) "
                "after every batch"
            )

    def _v_init(self, shape: torch.Size, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        v = self.v
        if isinstance(v, torch.Tensor):
            return v
        return torch.full(shape, float(v), dtype=dtype, device=device)  # [B, ...]

    def single_step_forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` [B, ...] -> spikes [B, ...]; updates ``self.v``."""
        self._check_state(x, "single_step_forward")
        params = self.lif_params()
        if params.fused and resolve_backend("lif_multistep", self.backend, x.device) == "cuda":
            v_init = self._v_init(x.shape, opmath_dtype(x.dtype), x.device)
            spikes, self.v = lif_multistep(x.unsqueeze(0), v_init, params, backend="cuda")  # [1, B, ...]
            return spikes[0]
        spike, self.v = lif_step(
            x, self._v_init(x.shape, x.dtype, x.device), replace(params, surrogate=self._surrogate.fn)
        )
        return spike

    def multi_step_forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        """``x_seq`` [T, B, ...] -> spikes [T, B, ...]; ``self.v`` becomes V[T-1] ([B, ...]), and
        ``self.v_seq`` [T, B, ...] when ``store_v_seq``."""
        self._check_state(x_seq, "multi_step_forward")
        if x_seq.dim() < 2:
            raise ValueError(
                f"{type(self).__name__}.multi_step_forward: expected time-major [T, B, ...] "
                f"(got shape {tuple(x_seq.shape)})"
            )
        v_init = self._v_init(x_seq.shape[1:], opmath_dtype(x_seq.dtype), x_seq.device)
        if self.store_v_seq:
            spikes, v_seq = lif_multistep_sequence(x_seq, v_init, self.lif_params(), backend=self.backend)
            self.v_seq = v_seq
            self.v = v_seq[-1].clone()  # a view would break spikingjelly's in-place detach_net/reset
        else:
            spikes, self.v = lif_multistep(x_seq, v_init, self.lif_params(), backend=self.backend)
        return spikes

    def extra_repr(self) -> str:
        return (
            f"v_threshold={self.v_threshold}, v_reset={self.v_reset}, surrogate={self.surrogate_name!r}, "
            f"alpha={self.alpha}, detach_reset={self.detach_reset}, decay_input={self.decay_input}, "
            f"step_mode={self.step_mode!r}, store_v_seq={self.store_v_seq}, backend={self.backend!r}"
        )
