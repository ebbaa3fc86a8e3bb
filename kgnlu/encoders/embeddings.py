"""Token, position and segment embeddings, with ALBERT's factorisation (V×E then E×H)."""

from __future__ import annotations

import math

import torch
from torch import nn

from kgnlu.encoders.config import EncoderConfig


def sinusoidal_table(max_positions: int, width: int) -> torch.Tensor:
    """(P, E) fixed sin/cos positions (Vaswani et al. 2017 §3.5)."""
    position = torch.arange(max_positions, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10_000.0) / width))
    table = torch.zeros(max_positions, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table


class Embeddings(nn.Module):
    """input ids (B, S) [+ token types, positions] → (B, S, H).

    word + position + token type at width E; LayerNorm for post-LN shapes (BERT puts one on the
    embeddings; GPT-2's pre-LN blocks normalise their own inputs); dropout; then E→H when projected.
    """

    def __init__(self, config: EncoderConfig):
        super().__init__()
        width = config.embedding_size
        self.word = nn.Embedding(config.vocab_size, width, padding_idx=config.pad_token_id)
        if config.position_scheme == "learned":
            self.position = nn.Embedding(config.max_positions, width)
        else:
            self.position = None
            self.register_buffer("sinusoid", sinusoidal_table(config.max_positions, width), persistent=False)
        self.token_type = nn.Embedding(config.type_vocab_size, width) if config.type_vocab_size else None
        self.norm = nn.LayerNorm(width, eps=config.layer_norm_eps) if config.norm_placement == "post" else None
        self.dropout = nn.Dropout(config.hidden_dropout)
        self.projection = nn.Linear(width, config.hidden_size) if config.embedding_projection else None

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None) -> torch.Tensor:
        """input_ids (B, S), or packed (T,) with position_ids (T,) given → (B, S, H) or (T, H)."""
        x = self.word(input_ids)  # (B, S, E)
        if position_ids is None:
            seq_len = input_ids.shape[1]
            positions = (self.position.weight[:seq_len] if self.position is not None
                         else self.sinusoid[:seq_len])  # (S, E), broadcast over B
        else:
            positions = self.position(position_ids) if self.position is not None else self.sinusoid[position_ids]
        if self.token_type is not None:  # HF's order (word + type, then position), for bit-closeness
            if token_type_ids is None:
                x = x + self.token_type.weight[0]  # all segment A
            else:
                x = x + self.token_type(token_type_ids)
        x = x + positions
        if self.norm is not None:
            x = self.norm(x)
        x = self.dropout(x)
        if self.projection is not None:
            x = self.projection(x)  # (B, S, H)
        return x
