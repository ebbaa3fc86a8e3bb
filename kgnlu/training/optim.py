"""Optimizers and learning-rate schedules by name (``OPTIMIZERS``, ``SCHEDULES``).

Encoders train with ``adamw`` (or ``lamb`` at very large batches); embedding tables (KGE) with
``adam`` or ``adagrad`` (PyKEEN's and Lacroix et al.'s choices), or ``catchup_adam`` when their
lookups give sparse row gradients. Weight decay skips biases and normalisation weights (every tensor with fewer than 2 dims), as in
BERT: decaying a LayerNorm gain towards 0 only fights the normalisation.

A schedule is a pure function of the optimizer step — ``factor(step, warmup, total, min_ratio)`` —
multiplied into the base learning rate before each step, so resuming needs only the step count.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from kgnlu.errors import ConfigError
from kgnlu.registry import Registry
from kgnlu.training.catchup_adam import CatchUpAdam
from kgnlu.training.lamb import Lamb

OPTIMIZERS: Registry[Callable[..., torch.optim.Optimizer]] = Registry("optimizer")
SCHEDULES: Registry[Callable[[int, int, int, float], float]] = Registry("learning-rate schedule")


@OPTIMIZERS.register("adamw")
def adamw(groups: list[dict], lr: float, betas: tuple[float, float], eps: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)


@OPTIMIZERS.register("lamb")
def lamb(groups: list[dict], lr: float, betas: tuple[float, float], eps: float) -> torch.optim.Optimizer:
    return Lamb(groups, lr=lr, betas=betas, eps=eps)


@OPTIMIZERS.register("adam")
def adam(groups: list[dict], lr: float, betas: tuple[float, float], eps: float) -> torch.optim.Optimizer:
    """Adam with weight decay added to the gradient (L2), as PyKEEN trains embeddings (decay 0 there)."""
    return torch.optim.Adam(groups, lr=lr, betas=betas, eps=eps)


@OPTIMIZERS.register("adagrad")
def adagrad(groups: list[dict], lr: float, betas: tuple[float, float], eps: float) -> torch.optim.Optimizer:
    """Adagrad (no betas); takes sparse row gradients itself (ComplEx-N3's optimiser)."""
    return torch.optim.Adagrad(groups, lr=lr, eps=eps)


@OPTIMIZERS.register("catchup_adam")
def catchup_adam(groups: list[dict], lr: float, betas: tuple[float, float], eps: float) -> torch.optim.Optimizer:
    """Adam for sparse row gradients that follows dense Adam (:mod:`kgnlu.training.catchup_adam`)."""
    if any(group["weight_decay"] for group in groups):
        raise ConfigError("optimizer catchup_adam has no weight decay; set trainer.weight_decay to 0 "
                          "(regularise the loss instead)")
    return CatchUpAdam(groups, lr=lr, betas=betas, eps=eps)


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: matrices (decayed) and vectors/scalars (not decayed); frozen parameters left out."""
    decay, no_decay = [], []
    for _, param in sorted(model.named_parameters(), key=lambda item: item[0]):
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def build_optimizer(name: str, model: nn.Module, lr: float, weight_decay: float,
                    betas: tuple[float, float], eps: float) -> torch.optim.Optimizer:
    return OPTIMIZERS.get(name)(parameter_groups(model, weight_decay), lr, tuple(betas), eps)


def _warmup(step: int, warmup: int) -> float | None:
    """Linear warmup factor for 0-based ``step`` (the first step already uses 1/warmup), None after it."""
    return (step + 1) / warmup if step < warmup else None


def _progress(step: int, warmup: int, total: int) -> float:
    return min(1.0, (step - warmup) / max(1, total - warmup))


@SCHEDULES.register("constant")
def constant(step: int, warmup: int, total: int, min_ratio: float) -> float:
    w = _warmup(step, warmup)
    return 1.0 if w is None else w


@SCHEDULES.register("linear")
def linear(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """BERT's: warm up, then fall linearly to ``min_ratio`` at the last step."""
    w = _warmup(step, warmup)
    return w if w is not None else 1.0 - (1.0 - min_ratio) * _progress(step, warmup, total)


@SCHEDULES.register("cosine")
def cosine(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Warm up, then half a cosine down to ``min_ratio`` (GPT-2/3, Chinchilla)."""
    w = _warmup(step, warmup)
    if w is not None:
        return w
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * _progress(step, warmup, total)))
