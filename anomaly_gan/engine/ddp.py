"""Data-parallel training under ``torchrun``: process group, sharding, reductions.

``torchrun --nproc-per-node N -m anomaly_gan train ...`` starts N processes
with ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` set. Each reads the training
data and fits the same preprocessing; ``GanTrainer`` then wraps the generator
and the discriminator in ``DistributedDataParallel``, gives each rank its shard
of every epoch through a ``DistributedSampler`` (each rank's batch is
``batch_size / N`` rows, so a step sees the single-process batch size), and
averages the losses over the ranks. Only rank 0 writes checkpoints and the
model. NCCL joins GPUs, gloo joins CPUs. Without ``torchrun`` (``WORLD_SIZE``
unset or 1) nothing here does anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.distributed as dist

from anomaly_gan.exceptions import ConfigError


@dataclass(frozen=True)
class Rank:
    """Where this process stands in the job."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def active(self) -> bool:
        """True under ``torchrun`` with more than one process."""
        return self.world_size > 1

    @property
    def primary(self) -> bool:
        """True for the process that writes files (rank 0, or the only one)."""
        return self.rank == 0


def current() -> Rank:
    """Read this process's rank from torchrun's environment (alone: rank 0 of 1)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError as exc:
        msg = (
            f"torchrun environment: expected integer RANK/LOCAL_RANK/WORLD_SIZE ({exc})"
        )
        raise ConfigError(msg) from exc
    return Rank(rank, local, world)


def device_for(device: torch.device, rank: Rank) -> torch.device:
    """One GPU per process: ``cuda`` becomes ``cuda:LOCAL_RANK`` under torchrun."""
    if rank.active and device.type == "cuda":
        if rank.local_rank >= torch.cuda.device_count():
            msg = (
                f"torchrun: local rank {rank.local_rank} has no GPU "
                f"({torch.cuda.device_count()} visible); use --nproc-per-node "
                "at most the number of GPUs"
            )
            raise ConfigError(msg)
        torch.cuda.set_device(rank.local_rank)
        return torch.device("cuda", rank.local_rank)
    return device


def ensure_process_group(device: torch.device) -> None:
    """Join the job's process group (NCCL for GPUs, gloo for CPUs) once."""
    if dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)


def shutdown() -> None:
    """Leave the process group (after the last collective call)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def epoch_indices(n: int, rank: Rank, *, seed: int, epoch: int) -> torch.Tensor:
    """Return this rank's shuffled rows of one epoch (``DistributedSampler``'s split)."""
    from torch.utils.data import DistributedSampler

    sampler: DistributedSampler[int] = DistributedSampler(
        cast(Any, range(n)),
        num_replicas=rank.world_size,
        rank=rank.rank,
        shuffle=True,
        seed=seed,
        drop_last=True,
    )
    sampler.set_epoch(epoch)
    return torch.as_tensor(list(iter(sampler)), dtype=torch.long)


def mean_over_ranks(values: dict[str, float], device: torch.device) -> dict[str, float]:
    """Average a few scalars over all ranks (one all-reduce)."""
    keys = sorted(values)
    tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    tensor /= dist.get_world_size()
    return {k: float(v) for k, v in zip(keys, tensor.tolist(), strict=True)}


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``DistributedDataParallel`` around ``module`` (on its GPU, or the CPU)."""
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def broadcast_buffers(module: torch.nn.Module) -> None:
    """Copy rank 0's buffers (batch-norm statistics) to every rank."""
    for buffer in module.buffers():
        dist.broadcast(buffer, src=0)


def barrier() -> None:
    """Wait for every rank (no-op without a process group)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
