"""LUKE's entity-aware self-attention (Yamada et al. 2020, arXiv:2010.01057, §3.2), run over the
joint word + entity sequence with an encoder layer's own weights.

Plain self-attention scores query i against key j as (Q x_i)ᵀ(K x_j). LUKE picks the query
matrix by the types of i and j::

    e_ij = (K x_j)ᵀ Q     x_i   word   → word
           (K x_j)ᵀ Q_w2e x_i   word   → entity
           (K x_j)ᵀ Q_e2w x_i   entity → word
           (K x_j)ᵀ Q_e2e x_i   entity → entity

Keys, values, the output projection, the residual, its LayerNorm and the feed-forward block stay
the layer's own. The three extra query projections exist once per attention block (so ALBERT's
shared attention shares them too) and start as copies of the block's Q, as LUKE initialises them:
at that point the layer computes exactly what plain joint attention computes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from kgnlu.encoders.layer import LayerStack
from kgnlu.encoders.padding import Packing


class EntityAwareQueries(nn.Module):
    """Per attention block, one Linear H → 3H holding [Q_w2e; Q_e2w; Q_e2e] (rows)."""

    def __init__(self, layers: LayerStack, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.queries = nn.ModuleList(nn.Linear(hidden_size, 3 * hidden_size) for _ in layers.attention_blocks)
        self.copy_word_queries(layers)

    @torch.no_grad()
    def copy_word_queries(self, layers: LayerStack) -> None:
        """Each extra query := the block's word query Q (rows 0:H of its fused QKV)."""
        h = self.hidden_size
        for extra, block in zip(self.queries, layers.attention_blocks, strict=True):
            qkv = block.attention.qkv
            extra.weight.copy_(qkv.weight[:h].repeat(3, 1))
            extra.bias.copy_(qkv.bias[:h].repeat(3))

    def run_layer(self, layers: LayerStack, index: int, x: torch.Tensor, packing: Packing,
                  mask: torch.Tensor | None, num_words: int, keep_probs: bool = False
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Layer ``index`` of ``layers`` over x (B, S+M, H) or packed (T, H), the first ``num_words``
        positions of each row being words and the rest entity tokens → same layout, and the
        attention probabilities (B, heads, S+M, S+M) on request."""
        block, ffn = layers.blocks_of_layer(index)
        extra = self.queries[index if len(self.queries) > 1 else 0]
        hidden = packing.unpack(x)  # (B, S+M, H)
        inputs = block.norm(hidden) if block.pre_norm else hidden
        update, probs = self._attend(block.attention, extra, inputs, mask, num_words, keep_probs)
        update = block.dropout(update)
        hidden = hidden + update if block.pre_norm else block.norm(hidden + update)
        return ffn(packing.pack(hidden)), probs

    def _attend(self, attention: nn.Module, extra: nn.Linear, x: torch.Tensor, mask: torch.Tensor | None,
                num_words: int, keep_probs: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch, total, _ = x.shape
        heads, size = attention.num_heads, attention.head_size

        def split(t: torch.Tensor, parts: int) -> torch.Tensor:  # (B, T, parts·H) → parts × (B, h, T, d)
            return t.view(batch, total, parts, heads, size).permute(2, 0, 3, 1, 4)

        q, k, v = split(attention.qkv(x), 3)
        w2e, e2w, e2e = split(extra(x), 3)
        s = num_words
        to_words = torch.cat([q[:, :, :s], e2w[:, :, s:]], dim=2)  # the query each row uses on word keys
        to_entities = torch.cat([w2e[:, :, :s], e2e[:, :, s:]], dim=2)  # ... and on entity keys
        scores = torch.cat([to_words @ k[:, :, :s].transpose(-1, -2),
                            to_entities @ k[:, :, s:].transpose(-1, -2)], dim=-1) / math.sqrt(size)  # (B, h, T, T)
        if mask is None and attention.causal:  # joint_attention_mask always gives one with entities
            mask = torch.ones(total, total, dtype=torch.bool, device=x.device).tril()
        if mask is not None:
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        probs = scores.softmax(-1)
        dropout_p = attention.dropout_p if attention.training else 0.0
        context = F.dropout(probs, dropout_p, attention.training) @ v  # (B, h, T, d)
        context = context.transpose(1, 2).reshape(batch, total, heads * size)
        return attention.out(context), (probs if keep_probs else None)
