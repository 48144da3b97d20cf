r"""Counting through PyTorch's dispatcher, attributed to modules through forward hooks.

A :class:`torch.utils._python_dispatch.TorchDispatchMode` sees every aten op a forward pass
executes -- including functional calls (``x @ w``, ``F.conv2d``, ``torch.einsum``) written
inside a ``forward`` that module hooks alone would miss -- and graphspike's registered
``torch.ops.graphspike.spmm`` custom op as one op. Forward pre/post hooks on every submodule
keep a stack of the running modules, so each op is charged to the innermost module
(its qualified name). Spiking neurons (spikingjelly ``BaseNode`` or graphspike neurons marked
``is_spiking_neuron``) are counted from their hooks: input elements (state updates),
output spikes, state bits; ops inside a neuron are its internal dynamics, not synapses. A
functional call of the fused ``torch.ops.graphspike.lif_multistep`` op outside any neuron module
(e.g. ``cuda_ext.lif_multistep`` inside a model's ``forward``) is counted as a neuron row of the
calling module.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Optional

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

import cuda_ext  # noqa: F401  (registers torch.ops.graphspike.spmm so its rule can be installed)
import cuda_ext.lif  # noqa: F401  (registers torch.ops.graphspike.lif_multistep)
from sampling.finite import NonFiniteError

from .rules import default_rules, nonzero_stats
from .stats import LayerStats

__all__ = ["EnergyCounter", "is_spiking_neuron"]

ROOT = "(root)"


@contextmanager
def _naming(layer: str, func: Any = None):
    """Re-raise a non-finite operand with the layer (and op) it appeared in."""
    try:
        yield
    except NonFiniteError as err:
        op = f", op {getattr(func, '__name__', func)}" if func is not None else ""
        raise NonFiniteError(f"{err} (in layer {layer!r}{op}); the model's activations diverged") from None


def is_spiking_neuron(module: nn.Module) -> bool:
    """True for spikingjelly ``BaseNode`` subclasses and graphspike neurons (``is_spiking_neuron``)."""
    if getattr(module, "is_spiking_neuron", False) is True:
        return True
    from spikingjelly.activation_based.neuron import BaseNode

    return isinstance(module, BaseNode)


def _first_tensor(tree: Any) -> Optional[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return tree
    if isinstance(tree, (tuple, list)):
        for item in tree:
            found = _first_tensor(item)
            if found is not None:
                return found
    if isinstance(tree, dict):
        return _first_tensor(list(tree.values()))
    return None


class _Mode(TorchDispatchMode):
    def __init__(self, owner: "EnergyCounter") -> None:
        super().__init__()
        self.owner = owner

    def __torch_dispatch__(self, func, types, args, kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.owner._on_op(func, args, kwargs, out)
        return out


class EnergyCounter:
    """Context manager that records :class:`LayerStats` for one or more forward passes.

    Example::

        counter = EnergyCounter(model)
        with counter, torch.no_grad():
            model(x)
        counter.stats  # list[LayerStats] in first-execution order
    """

    def __init__(self, model: nn.Module) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"EnergyCounter: expected an nn.Module (got {type(model).__name__})")
        self.model = model
        self.rules = default_rules()
        self._rows: dict[tuple[str, str], LayerStats] = {}
        self._stack: list[tuple[str, nn.Module]] = []
        self._names = {m: (n or ROOT) for n, m in model.named_modules()}
        self._handles: list[Any] = []
        self._mode: Optional[_Mode] = None
        self._neuron_depth = 0
        self._param_bits: dict[str, float] = {}
        ns = torch.ops.graphspike
        self._lif_op = ns.lif_multistep.default if hasattr(ns, "lif_multistep") else None

    # rows ------------------------------------------------------------------------------
    @property
    def stats(self) -> list[LayerStats]:
        return sorted(self._rows.values(), key=lambda r: r.order)

    def _row(self, name: str, module: Optional[nn.Module], op: str) -> LayerStats:
        key = (name, op)
        row = self._rows.get(key)
        if row is None:
            mtype = type(module).__name__ if module is not None else "function"
            row = LayerStats(name=name, module_type=mtype, op=op, order=len(self._rows))
            self._rows[key] = row
        return row

    # hooks -----------------------------------------------------------------------------
    def _pre_hook(self, module: nn.Module, args: tuple) -> None:
        self._stack.append((self._names.get(module, type(module).__name__), module))
        if is_spiking_neuron(module):
            self._neuron_depth += 1

    def _post_hook(self, module: nn.Module, args: tuple, output: Any) -> None:
        if not self._stack or self._stack[-1][1] is not module:
            return  # hook pairs got out of step (module raised); nothing sensible to pop
        name, _ = self._stack.pop()
        direct = sum(p.numel() * p.element_size() * 8 for p in module.parameters(recurse=False))
        if is_spiking_neuron(module):
            self._neuron_depth -= 1
            x = _first_tensor(args)
            spikes = _first_tensor(output)
            if x is not None and spikes is not None:
                with torch.no_grad(), _naming(name):
                    _, nnz, numel = nonzero_stats(spikes.detach())
                # one read and one write of the membrane state per neuron and step
                state_bits = 2.0 * x.numel() * x.element_size() * 8
                row = self._row(name, module, "neuron")
                row.add_neuron_call(x.numel(), nnz, numel, state_bits)
                row.param_bits += direct
            return
        if direct:
            self._param_bits[name] = self._param_bits.get(name, 0.0) + direct

    # dispatch --------------------------------------------------------------------------
    def _on_op(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        if self._neuron_depth > 0:
            return
        name, module = self._stack[-1] if self._stack else (ROOT, None)
        if func is self._lif_op:
            # the fused LIF op called functionally (no neuron module): a neuron row of the caller
            x, spikes = args[0], out[0]
            with torch.no_grad(), _naming(name):
                _, nnz, numel = nonzero_stats(spikes)
            state_bits = 2.0 * x.numel() * x.element_size() * 8
            self._row(name, module, "neuron").add_neuron_call(x.numel(), nnz, numel, state_bits)
            return
        rule = self.rules.get(func)
        if rule is None:
            return
        with _naming(name, func):
            calls = rule(args, kwargs, out, module)
        for call in calls if isinstance(calls, list) else ([calls] if calls is not None else []):
            self._row(name, module, call.op).add(call)

    # context ---------------------------------------------------------------------------
    def __enter__(self) -> "EnergyCounter":
        self._rows.clear()
        self._stack.clear()
        self._param_bits = {}
        self._neuron_depth = 0
        for module in self.model.modules():
            self._handles.append(module.register_forward_pre_hook(self._pre_hook))
            self._handles.append(module.register_forward_hook(self._post_hook, always_call=True))
        self._mode = _Mode(self)
        self._mode.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._mode is not None:
                self._mode.__exit__(exc_type, exc, tb)
        finally:
            self._mode = None
            for handle in self._handles:
                handle.remove()
            self._handles.clear()
            self._stack.clear()
            self._attach_param_bits()

    def _attach_param_bits(self) -> None:
        """Charge each module's parameter reads to its first counted row."""
        for name, bits in self._param_bits.items():
            rows = [r for r in self.stats if r.name == name]
            if rows:
                rows[0].param_bits += bits
