"""LAMB (You et al., 2020, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes").

Adam's direction, rescaled per parameter tensor by a trust ratio ||w|| / ||update||, so every layer
moves by about the same *relative* amount whatever its gradient scale — what lets BERT train at
batch 32k. Per tensor w with gradient g, at step t (1-based):

    m = β1·m + (1-β1)·g            v = β2·v + (1-β2)·g²
    m̂ = m / (1-β1^t)               v̂ = v / (1-β2^t)          (bias correction, as in the paper's v5)
    u = m̂ / (√v̂ + ε) + λ·w         (decoupled weight decay inside the update)
    r = ||w|| / ||u||   if both norms are > 0, else 1;   r clipped to max_trust_ratio
    w = w - lr · r · u
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from kgnlu.errors import ConfigError


class Lamb(torch.optim.Optimizer):
    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-6, weight_decay: float = 0.01, max_trust_ratio: float = 10.0):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ConfigError(f"LAMB needs lr, eps, weight_decay >= 0 (got {lr}, {eps}, {weight_decay})")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ConfigError(f"LAMB betas must be in [0, 1), got {betas}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        max_trust_ratio=max_trust_ratio)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise ConfigError("LAMB does not support sparse gradients; use dense embeddings")
                state = self.state[p]
                if not state:
                    # step as a float tensor, like torch's Adam, so it round-trips through safetensors
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = state["step"].item()
                grad = p.grad.float()
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                m_hat = exp_avg / (1 - beta1 ** t)
                v_hat = exp_avg_sq / (1 - beta2 ** t)
                update = m_hat / (v_hat.sqrt() + group["eps"])
                if group["weight_decay"]:
                    update.add_(p.float(), alpha=group["weight_decay"])
                w_norm, u_norm = p.float().norm(), update.norm()
                trust = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch.ones_like(w_norm))
                trust = trust.clamp(max=group["max_trust_ratio"])
                p.add_((update * trust).to(p.dtype), alpha=-group["lr"])
        return loss
