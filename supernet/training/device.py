"""Where training runs: the device, and the process group of data-parallel training under torchrun.

Launched with ``torchrun --nproc_per_node=P``, every process trains on its shard of each batch and the
gradients of the sampled sub-network are averaged with one all-reduce per step (gloo on CPU, NCCL on CUDA).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["resolve_device", "DistInfo", "init_distributed", "rank_device", "allreduce_grads", "average_buffers"]


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` -> CUDA when present, else CPU; anything else is passed to :class:`torch.device`."""
    if name is None or str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass(frozen=True)
class DistInfo:
    """Process-group position: ``rank`` of ``world_size`` (1 when not launched by torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1), else a single-process :class:`DistInfo`."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def rank_device(device: torch.device, di: DistInfo) -> torch.device:
    """This process's device: its own GPU (``LOCAL_RANK``) under multi-process CUDA, else ``device``."""
    if device.type == "cuda" and di.world_size > 1:
        device = torch.device("cuda", di.local_rank)
        torch.cuda.set_device(device)
    return device


def allreduce_grads(params: list[torch.Tensor], world_size: int) -> None:
    """Average the gradients that exist (the sampled sub-network's) across processes, one all-reduce."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat.div_(world_size)
    off = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[off : off + n].view_as(g))
        off += n


def average_buffers(model: nn.Module, world_size: int) -> None:
    """Average floating buffers (BN running statistics) so every rank holds the same state."""
    for b in model.buffers():
        if b.is_floating_point():
            dist.all_reduce(b)
            b.div_(world_size)
