r"""``InstrumentedStage``: torch's manual ``PipelineStage`` plus the hooks a driver needs.

Three additions, none of which changes what the stage computes:

* before each micro-batch's forward it tells the module which micro-batch comes (a module with
  a ``set_microbatch(index)`` method gets it; then the driver's hook runs). Graph stages pick
  their chunk this way, spiking stages reset their neurons;
* it counts the bytes it sends and receives (activations forward, gradients backward);
* it times its forward and backward compute (synchronising CUDA around each, when timing is on).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.pipelining import PipelineStage

__all__ = ["InstrumentedStage", "MicrobatchHook", "unwrap"]

MicrobatchHook = Callable[[nn.Module, int, int], None]
"""``hook(module, stage_index, microbatch_index)``, called before each micro-batch's forward."""


def unwrap(module: nn.Module) -> nn.Module:
    """The user's module inside a DDP wrapper (FSDP2 modules are the user's module itself)."""
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def _contiguous(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.contiguous()
    if isinstance(out, tuple):
        return tuple(_contiguous(t) for t in out)
    if isinstance(out, list):
        return [_contiguous(t) for t in out]
    return out


def _op_bytes(ops: list[dist.P2POp]) -> int:
    return sum(op.tensor.numel() * op.tensor.element_size() for op in ops)


class InstrumentedStage(PipelineStage):
    """A :class:`torch.distributed.pipelining.PipelineStage` that calls a micro-batch hook and keeps
    counters (``bytes_sent``, ``bytes_received``, ``compute_seconds``, reset by :meth:`reset_counters`).

    Args:
        submodule, stage_index, num_stages, device, group: as for ``PipelineStage``.
        hook: optional :data:`MicrobatchHook`.
        timing: synchronise CUDA around each forward/backward so ``compute_seconds`` is exact
            (on CPU timing is always exact and free).
    """

    def __init__(
        self,
        submodule: nn.Module,
        stage_index: int,
        num_stages: int,
        device: torch.device,
        group: dist.ProcessGroup | None = None,
        hook: MicrobatchHook | None = None,
        timing: bool = True,
    ) -> None:
        super().__init__(submodule, stage_index, num_stages, device, group=group)
        self.hook = hook
        self.timing = timing
        self.reset_counters()

    def reset_counters(self) -> None:
        self.bytes_sent = 0
        self.bytes_received = 0
        self.compute_seconds = 0.0

    def _sync(self) -> None:
        if self.timing and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def _timed(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._sync()
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self._sync()
        self.compute_seconds += time.perf_counter() - t0
        return out

    def forward_one_chunk(
        self, fwd_chunk_id: int, args: tuple[Any, ...], kwargs: dict | None = None, save_forward_output: bool = True
    ) -> Any:
        module = unwrap(self.submod)
        set_mb = getattr(module, "set_microbatch", None)
        if callable(set_mb):
            set_mb(fwd_chunk_id)
        if self.hook is not None:
            self.hook(module, self.stage_index, fwd_chunk_id)
        return self._timed(super().forward_one_chunk, fwd_chunk_id, args, kwargs, save_forward_output)

    def backward_one_chunk(
        self, bwd_chunk_id: int, loss: Any = None, full_backward: bool = True, last_backward: bool = False
    ) -> None:
        return self._timed(
            super().backward_one_chunk,
            bwd_chunk_id,
            loss=loss,
            full_backward=full_backward,
            last_backward=last_backward,
        )

    def backward_weight_one_chunk(self, bwd_chunk_id: int, last_backward: bool = False) -> None:
        return self._timed(super().backward_weight_one_chunk, bwd_chunk_id, last_backward=last_backward)

    # Point-to-point transfers need contiguous tensors (gloo refuses others; receive buffers are
    # allocated with the sender's strides). Stage outputs are made contiguous where they are produced,
    # gradients where they are sent.
    def forward_maybe_with_nosync(self, *args: Any, **kwargs: Any) -> Any:
        return _contiguous(super().forward_maybe_with_nosync(*args, **kwargs))

    def _compute_outputs(self, *args: Any, module: nn.Module, **kwargs: Any) -> Any:
        return _contiguous(super()._compute_outputs(*args, module=module, **kwargs))

    def get_fwd_send_ops(self, fwd_chunk_id: int) -> list[dist.P2POp]:
        ops = super().get_fwd_send_ops(fwd_chunk_id)
        self.bytes_sent += _op_bytes(ops)
        return ops

    def get_bwd_send_ops(self, bwd_chunk_id: int) -> list[dist.P2POp]:
        ops = [
            op if op.tensor.is_contiguous() else dist.P2POp(op.op, op.tensor.contiguous(), op.peer, op.group, op.tag)
            for op in super().get_bwd_send_ops(bwd_chunk_id)
        ]
        self.bytes_sent += _op_bytes(ops)
        return ops

    def get_fwd_recv_ops(self, fwd_chunk_id: int) -> list[dist.P2POp]:
        ops = super().get_fwd_recv_ops(fwd_chunk_id)
        self.bytes_received += _op_bytes(ops)
        return ops

    def get_bwd_recv_ops(self, bwd_chunk_id: int) -> list[dist.P2POp]:
        ops = super().get_bwd_recv_ops(bwd_chunk_id)
        self.bytes_received += _op_bytes(ops)
        return ops
