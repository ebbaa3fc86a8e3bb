"""Multi-head self-attention: one fused QKV projection, SDPA (or the eager reference), out proj."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.matmul import Linear
from kgnlu.encoders.padding import Packing


def build_attention_mask(packing: Packing, causal: bool, device: torch.device) -> torch.Tensor | None:
    """A boolean mask (B, 1, S|1, S), True where attention is allowed; None when nothing is masked.

    Only key padding and the causal triangle are masked. With no padding and causal attention we
    return None and let SDPA use ``is_causal`` (which keeps the flash kernel eligible on GPU).
    """
    if packing.key_mask is None:
        return None
    mask = packing.key_mask[:, None, None, :]  # (B, 1, 1, S)
    if causal:
        seq = packing.seq_len
        triangle = torch.ones(seq, seq, dtype=torch.bool, device=device).tril()  # (S, S)
        mask = mask & triangle  # (B, 1, S, S)
    return mask


class SelfAttention(nn.Module):
    """(B, S, H) or packed (T, H) → same shape; optionally also the probabilities (B, heads, S, S)."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.head_size = config.head_size
        self.causal = config.causal
        self.backend = config.attention_backend
        self.dropout_p = config.attention_dropout
        # One matmul for Q, K and V (rows: [Q; K; V], each H×H) instead of three.
        self.qkv = Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = Linear(config.hidden_size, config.hidden_size)

    def forward(self, x: torch.Tensor, packing: Packing, mask: torch.Tensor | None,
                return_probs: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        qkv = packing.unpack(self.qkv(x))  # (B, S, 3H)
        batch, seq, _ = qkv.shape
        q, k, v = qkv.view(batch, seq, 3, self.num_heads, self.head_size).permute(2, 0, 3, 1, 4)  # 3×(B, h, S, d)
        dropout_p = self.dropout_p if self.training else 0.0
        if return_probs or self.backend == "eager":
            context, probs = self._eager(q, k, v, mask, dropout_p)
        else:
            context = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=self.causal and mask is None)
            probs = None
        context = context.transpose(1, 2).reshape(batch, seq, -1)  # (B, S, H)
        return self.out(packing.pack(context)), (probs if return_probs else None)

    def _eager(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
               dropout_p: float) -> tuple[torch.Tensor, torch.Tensor]:
        """The textbook path: softmax(QKᵀ/√d + mask) V, returning the probabilities too."""
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size)  # (B, h, S, S)
        if getattr(self, "record_scores", False):  # TinyBERT distillation reads these (kgnlu.distill.scores)
            self.scores = scores  # (B, h, S, S) pre-softmax, before the mask; off (one getattr) otherwise
        if mask is None and self.causal:
            seq = q.shape[2]
            mask = torch.ones(seq, seq, dtype=torch.bool, device=q.device).tril()
        if mask is not None:
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        probs = scores.softmax(dim=-1)
        return F.dropout(probs, dropout_p, self.training) @ v, probs
