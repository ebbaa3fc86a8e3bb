"""ERNIE's knowledgeable aggregator (Zhang et al. 2019, "ERNIE: Enhanced Language Representation
with Informative Entities", ACL 2019, arXiv:1905.07129, §3.3).

Two streams: tokens (B, S, H) from the encoder layer below, entities (B, M, De) — the entity
table's rows on the first aggregator, the previous aggregator's entity output after that. The
entity stream runs its own multi-head self-attention (residual + LayerNorm). At each entity's
anchor token (its mention's first wordpiece; the last one on a causal encoder) both streams meet
in one shared hidden layer (ERNIE eq. 7)

    h_j = act(W̃_t w_j + W̃_e ẽ_k + b̃)

and are split back (eq. 7): tokens w_j ← LN_t(w_j + W_t h_j), entities e_k ← LN_e(ẽ_k + W_e h_j),
each with its own LayerNorm. ERNIE also passes tokens *without* an entity through the fusion
layer (as an extra FFN); here they pass unchanged — the encoder's layers are their FFN — which
is the design property that makes a text with no linked entity come out exactly as the plain
encoder's. On a pre-LN encoder (GPT-2) the token side reads LN(w) and adds W_t h_j to the residual.
"""

from __future__ import annotations

import torch
from torch import nn

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.init import initialize
from kgnlu.encoders.layer import ACTIVATION_FUNCTIONS
from kgnlu.fusion.injection.base import (
    INJECTIONS,
    FusionState,
    Injection,
    MaskedAttention,
    anchors,
    entity_pair_mask,
    gather_rows,
    residual_update,
    scatter_rows,
)


@INJECTIONS.register("ernie")
class ErnieAggregator(Injection):
    """ERNIE's aggregator (Zhang et al. 2019, arXiv:1905.07129): token and entity streams fused
    through a shared hidden layer, split back with separate LayerNorms (module docstring)."""

    def __init__(self, config: EncoderConfig, entity_size: int, encoder: Encoder, heads: int | None = None,
                 intermediate_size: int | None = None, dropout: float | None = None):
        """``heads``: the entity self-attention's (default: the largest of 4, 2, 1 dividing De);
        ``intermediate_size``: the shared hidden layer's width (default the encoder's FFN width: in
        ERNIE this layer takes the FFN's place); ``dropout``: default the encoder's hidden dropout."""
        super().__init__(config, entity_size)
        width = intermediate_size or config.ffn_size
        p = config.hidden_dropout if dropout is None else dropout
        eps = config.layer_norm_eps
        self.entity_attention = MaskedAttention(entity_size, heads=heads, dropout=config.attention_dropout)
        self.entity_attention_norm = nn.LayerNorm(entity_size, eps=eps)
        self.token_input_norm = nn.LayerNorm(config.hidden_size, eps=eps) if self.pre_norm else None
        self.token_in = nn.Linear(config.hidden_size, width)  # W̃_t
        self.entity_in = nn.Linear(entity_size, width, bias=False)  # W̃_e (b̃ lives in token_in)
        self.activation = ACTIVATION_FUNCTIONS[config.activation]
        self.token_out = nn.Linear(width, config.hidden_size)  # W_t
        self.entity_out = nn.Linear(width, entity_size)  # W_e
        self.token_norm = None if self.pre_norm else nn.LayerNorm(config.hidden_size, eps=eps)
        self.entity_norm = nn.LayerNorm(entity_size, eps=eps)
        self.dropout = nn.Dropout(p)
        initialize(self, config)

    def forward(self, hidden: torch.Tensor, key_mask: torch.Tensor, state: FusionState) -> torch.Tensor:
        """hidden (B, S, H), key_mask (B, S) → (B, S, H); updates ``state.entity_stream`` (B, M, De)."""
        entities = state.entities
        linked = entities.entity_mask  # (B, M)
        stream = state.entity_stream if state.entity_stream is not None else state.lookup(entities.entity_ids)
        allowed = entity_pair_mask(linked, entities.spans, state.causal)  # (B, M, M)
        attended = self.entity_attention_norm(stream + self.dropout(self.entity_attention(stream, stream, allowed)))

        anchor = anchors(entities.spans, state.causal)  # (B, M)
        words = gather_rows(hidden, anchor)  # (B, M, H)
        if self.token_input_norm is not None:
            words = self.token_input_norm(words)
        fused = self.activation(self.token_in(words) + self.entity_in(attended))  # (B, M, I)  eq. 7

        delta, hit = scatter_rows(self.dropout(self.token_out(fused)), anchor, linked, hidden.shape[1])  # (B, S, H)
        new_entities = self.entity_norm(attended + self.dropout(self.entity_out(fused)))  # (B, M, De)
        new_entities = new_entities * linked[..., None].to(new_entities.dtype)
        state.entity_stream = state.entity_states = new_entities
        return residual_update(hidden, delta, self.token_norm, hit & key_mask)
