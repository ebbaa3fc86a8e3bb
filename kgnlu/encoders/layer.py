"""Residual blocks and the layer stack, with ALBERT's cross-layer sharing.

A layer is an attention block then a feed-forward block. Each block owns its LayerNorm and places
it after the residual sum (post-LN, BERT) or on the block input (pre-LN, GPT-2). Sharing (ALBERT
§3.1) decides how many distinct blocks exist: layer i uses attention block ``i`` (or 0 when the
attention is shared) and FFN block ``i`` (or 0 when the FFN is shared). Blocks live once in
the module tree, so a state dict holds each shared tensor once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kgnlu.encoders.attention import SelfAttention
from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.matmul import Linear
from kgnlu.encoders.padding import Packing

ACTIVATION_FUNCTIONS = {
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
}


class AttentionBlock(nn.Module):
    """x (B, S, H) or packed (T, H) → same shape: the attention sublayer with residual and norm."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.attention = SelfAttention(config)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.pre_norm = config.norm_placement == "pre"

    def forward(self, x: torch.Tensor, packing: Packing, mask: torch.Tensor | None,
                return_probs: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.pre_norm:
            update, probs = self.attention(self.norm(x), packing, mask, return_probs)
            return x + self.dropout(update), probs
        update, probs = self.attention(x, packing, mask, return_probs)
        return self.norm(x + self.dropout(update)), probs


class FeedForwardBlock(nn.Module):
    """x (…, H) → (…, H): dense H→F, activation, dense F→H, with residual and norm."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.up = Linear(config.hidden_size, config.ffn_size)
        self.down = Linear(config.ffn_size, config.hidden_size)
        self.activation = ACTIVATION_FUNCTIONS[config.activation]
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.pre_norm = config.norm_placement == "pre"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            return x + self.dropout(self.down(self.activation(self.up(self.norm(x)))))
        return self.norm(x + self.dropout(self.down(self.activation(self.up(x)))))


class LayerStack(nn.Module):
    """num_layers layers over num_attention_blocks attention and num_ffn_blocks FFN parameter sets."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.num_layers = config.num_layers
        self.attention_blocks = nn.ModuleList(AttentionBlock(config) for _ in range(config.num_attention_blocks))
        self.ffn_blocks = nn.ModuleList(FeedForwardBlock(config) for _ in range(config.num_ffn_blocks))

    def blocks_of_layer(self, index: int) -> tuple[AttentionBlock, FeedForwardBlock]:
        attention = self.attention_blocks[index if len(self.attention_blocks) > 1 else 0]
        ffn = self.ffn_blocks[index if len(self.ffn_blocks) > 1 else 0]
        return attention, ffn

    def run_layer(self, index: int, x: torch.Tensor, packing: Packing, mask: torch.Tensor | None,
                  keep_probs: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Layer ``index`` alone: x (B, S, H) or packed (T, H) → same layout, and its attention
        probabilities (B, heads, S, S) on request. Lets a caller (the fused encoder) act between layers."""
        attention, ffn = self.blocks_of_layer(index)
        x, layer_probs = attention(x, packing, mask, keep_probs)
        return ffn(x), layer_probs

    def forward(self, x: torch.Tensor, packing: Packing, mask: torch.Tensor | None,
                keep_hidden: bool = False, keep_probs: bool = False
                ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """x: (B, S, H) or packed (T, H). Returns the output and, on request, every layer's output
        (same layout as x) and attention probabilities (B, heads, S, S)."""
        hidden, probs = [], []
        for index in range(self.num_layers):
            x, layer_probs = self.run_layer(index, x, packing, mask, keep_probs)
            if keep_hidden:
                hidden.append(x)
            if keep_probs:
                probs.append(layer_probs)
        return x, hidden, probs
