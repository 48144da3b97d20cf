r"""Process layout of a pipelined run: ``world = dp x pp`` ranks, started by ``torchrun`` or alone.

Ranks form a grid ``[dp, pp]`` (row-major, as :func:`torch.distributed.device_mesh.init_device_mesh`
lays it out): rank ``r`` is pipeline rank ``r % pp`` of replica ``r // pp``. The ``pp`` ranks of a
replica pass activations to each other (one pipeline); the ``dp`` ranks holding the same stages
average their gradients (data parallelism across pipeline replicas, DDP or FSDP).

:func:`init_distributed` reads torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``/``MASTER_PORT``), so one machine (``torchrun --standalone --nproc-per-node N``) and
many (``torchrun --nnodes M --node-rank i --rdzv-endpoint host:port ...``) run the same code.
Without that environment it starts a one-process group (single-process mode: every stage in
this process, no communication).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import DeviceMesh, init_device_mesh

__all__ = ["Layout", "init_distributed"]


@dataclass(frozen=True)
class Layout:
    """This process's place in the ``[dp, pp]`` grid, with the groups it talks through.

    Attributes:
        rank, world_size: global rank and world size.
        pp_size, dp_size: pipeline length (ranks per replica) and number of replicas.
        device: the device this rank computes on.
        mesh: the ``("dp", "pp")`` device mesh.
        owns_group: ``True`` when :func:`init_distributed` created the default process group
            (:meth:`close` then destroys it).
    """

    rank: int
    world_size: int
    pp_size: int
    dp_size: int
    device: torch.device
    mesh: DeviceMesh
    owns_group: bool = False

    @property
    def pp_rank(self) -> int:
        """Position of this rank in its pipeline (0 holds the first stage)."""
        return self.rank % self.pp_size

    @property
    def dp_rank(self) -> int:
        """Index of this rank's pipeline replica."""
        return self.rank // self.pp_size

    @property
    def pp_group(self) -> dist.ProcessGroup:
        """The ranks of this replica's pipeline."""
        return self.mesh["pp"].get_group()

    @property
    def dp_group(self) -> dist.ProcessGroup:
        """The ranks holding the same stages in the other replicas."""
        return self.mesh["dp"].get_group()

    @property
    def single_process(self) -> bool:
        return self.world_size == 1

    def global_rank(self, pp_rank: int, dp_rank: int | None = None) -> int:
        """Global rank of pipeline position ``pp_rank`` in replica ``dp_rank`` (default: this one)."""
        return (self.dp_rank if dp_rank is None else dp_rank) * self.pp_size + pp_rank

    def close(self) -> None:
        """Destroy the default process group if :func:`init_distributed` created it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def _default_backend(device: torch.device) -> str:
    # NCCL moves CUDA tensors; gloo keeps CPU objects (metadata, checkpoints, stores) working too.
    return "cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo"


def init_distributed(
    *,
    pp_size: int | None = None,
    dp_size: int = 1,
    device: str | torch.device = "cpu",
    backend: str | None = None,
    timeout: float = 300.0,
) -> Layout:
    """Join (or start) the process group and build the ``[dp, pp]`` layout.

    Args:
        pp_size: ranks per pipeline (default ``world_size // dp_size``).
        dp_size: pipeline replicas (default 1); ``pp_size * dp_size`` must equal the world size.
        device: ``"cpu"``, ``"cuda"`` (each rank takes ``cuda:LOCAL_RANK``) or an explicit device.
        backend: process-group backend (default gloo on CPU, NCCL for CUDA tensors).
        timeout: seconds any collective or point-to-point transfer may wait before it raises
            (the bound on how long a rank waits for a failed or hung peer).

    Returns:
        The :class:`Layout`. A process group that already exists is reused (and not owned).

    Raises:
        ValueError: sizes that do not multiply to the world size, or a non-positive timeout.
    """
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"init_distributed: timeout must be a positive number of seconds (got {timeout!r})")
    device = torch.device(device)
    owns = False
    if not dist.is_initialized():
        td = datetime.timedelta(seconds=float(timeout))
        if "WORLD_SIZE" in os.environ and "RANK" in os.environ:
            if device.type == "cuda" and device.index is None:
                device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            if device.type == "cuda":
                torch.cuda.set_device(device)
            dist.init_process_group(backend or _default_backend(device), timeout=td)
        else:  # single-process mode: a private one-rank group, no network
            dist.init_process_group(
                backend or _default_backend(device), store=dist.HashStore(), rank=0, world_size=1, timeout=td
            )
        owns = True
    elif device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    world, rank = dist.get_world_size(), dist.get_rank()
    if isinstance(dp_size, bool) or not isinstance(dp_size, int) or dp_size < 1:
        raise ValueError(f"init_distributed: dp_size must be a positive int (got {dp_size!r})")
    if pp_size is None:
        if world % dp_size:
            raise ValueError(f"init_distributed: world size {world} is not divisible by dp_size={dp_size}")
        pp_size = world // dp_size
    if pp_size * dp_size != world:
        raise ValueError(
            f"init_distributed: pp_size * dp_size must equal the world size {world} (got {pp_size} * {dp_size})"
        )
    mesh = init_device_mesh(device.type, (dp_size, pp_size), mesh_dim_names=("dp", "pp"))
    return Layout(
        rank=rank, world_size=world, pp_size=pp_size, dp_size=dp_size, device=device, mesh=mesh, owns_group=owns
    )
