"""torch.distributed helpers: works unchanged in one process (every call degrades to a no-op).

Under ``torchrun`` (``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR`` set) :func:`init_from_env`
joins the process group — NCCL on GPUs, gloo on CPUs.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def init_from_env(backend: str | None = None) -> bool:
    """Join the process group torchrun describes; True when running distributed afterwards."""
    if not active() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
    return active() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", rank() if active() else 0))


def is_main() -> bool:
    return rank() == 0


def barrier() -> None:
    if active() and world_size() > 1:
        dist.barrier()


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """Mean of ``tensor`` over ranks (a copy; the input is not changed)."""
    if not active() or world_size() == 1:
        return tensor
    out = tensor.clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / world_size()


def broadcast_object(obj: Any, source: int = 0) -> Any:
    """Rank ``source``'s ``obj`` on every rank (small JSON-like values: metrics, flags)."""
    if not active() or world_size() == 1:
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=source)
    return holder[0]
