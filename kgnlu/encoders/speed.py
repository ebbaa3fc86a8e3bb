"""Speed switches shared by training and benchmarks: fused AdamW, torch.compile, bf16 autocast.

Each falls back to the plain path where the hardware or build lacks the fast one, and says so
through its return value rather than failing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import torch
from torch import nn


def adamw(parameters: Iterable[nn.Parameter], lr: float, weight_decay: float = 0.01,
          betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-6) -> tuple[torch.optim.AdamW, bool]:
    """AdamW with the fused kernel when this build supports it for the parameters' device.

    Returns (optimizer, fused). Fused AdamW updates all tensors in a few kernels instead of a
    handful per tensor; CUDA has it, and CPU too on torch >= 2.4.
    """
    parameters = list(parameters)
    try:
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, fused=True), True
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay), False


def maybe_compile(module: nn.Module, enabled: bool) -> nn.Module:
    """``torch.compile`` the module when asked (dynamic=None: recompiles once if shapes vary)."""
    return torch.compile(module) if enabled else module


def autocast(device: torch.device | str, enabled: bool = True) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (matmuls and SDPA in bf16, reductions and norms in fp32); a no-op on CPU,
    where bf16 is slower than fp32 without AMX units."""
    device = torch.device(device)
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
