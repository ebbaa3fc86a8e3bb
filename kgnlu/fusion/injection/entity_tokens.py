"""LUKE-style entity tokens (Yamada et al. 2020, "LUKE: Deep Contextualized Entity Representations
with Entity-aware Self-attention", EMNLP 2020, arXiv:2010.01057, §3.1).

Each linked entity becomes one extra token appended after the words: its embedding is the entity
table's row projected to the encoder's embedding width E, plus the *mean of the position
embeddings of its mention's wordpieces* (LUKE's entity position embedding), plus a learned
entity-type embedding, normalised as the word embeddings are (post-LN shapes) and projected
E → H with the encoder's own projection when it has one. From the next layer on, words and
entities attend to each other. The encoder strips the entity tokens from ``last_hidden_state``
and returns them as ``entity_states`` (B, M, H).

The paper's model, as options (docs/techniques.md): inject at k = 0 (``inject={0:
"entity_tokens"}``: LUKE's entities are input tokens); ``entity_aware_attention=True`` (LUKE
§3.2: a query matrix per (query type, key type) pair, :mod:`.entity_aware_attention`; off, the
joint sequence runs through plain self-attention); ``position_table="entity"`` (LUKE's own entity
position embeddings, drawn fresh, instead of reading the word position table).

With no linked entity nothing is appended, so the output is the plain encoder's. On a causal
encoder (GPT-2) an entity token sits at its mention's last wordpiece in time: words see it only
after the mention ends, and it sees only words up to that point (see
:func:`joint_attention_mask`), so no token reads the future.
"""

from __future__ import annotations

import torch
from torch import nn

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.init import initialize
from kgnlu.errors import FusionError
from kgnlu.fusion.injection.base import (
    INJECTIONS,
    FusionState,
    Injection,
    entity_times,
    span_membership,
)
from kgnlu.fusion.injection.entity_aware_attention import EntityAwareQueries

POSITION_TABLES = ("word", "entity")


@INJECTIONS.register("entity_tokens")
class EntityTokens(Injection):
    """LUKE's entity tokens (Yamada et al. 2020, arXiv:2010.01057): entities appended as input tokens
    positioned at their mentions (module docstring)."""

    appends_tokens = True

    def __init__(self, config: EncoderConfig, entity_size: int, encoder: Encoder,
                 entity_aware_attention: bool = False, position_table: str = "word"):
        """``entity_aware_attention``: LUKE's per-type query matrices in every later layer;
        ``position_table``: "word" (read the encoder's word position table) or "entity" (LUKE's own)."""
        super().__init__(config, entity_size)
        if position_table not in POSITION_TABLES:
            raise FusionError(f"entity_tokens position_table must be one of {POSITION_TABLES}, not {position_table!r}")
        width = config.embedding_size
        # LUKE's entity position embeddings (P, E): a table of their own, randomly initialised
        self.position = nn.Embedding(config.max_positions, width) if position_table == "entity" else None
        self.project = nn.Linear(entity_size, width, bias=False)  # LUKE decomposes its entity table the same way
        self.entity_type = nn.Parameter(torch.zeros(width))
        self.norm = nn.LayerNorm(width, eps=config.layer_norm_eps) if config.norm_placement == "post" else None
        self.dropout = nn.Dropout(config.hidden_dropout)
        # the encoder's position table and E→H projection are read, not owned (a list keeps them
        # out of this module's parameters and state dict)
        self._embeddings = [encoder.embeddings]
        initialize(self, config)
        nn.init.normal_(self.entity_type, std=config.initializer_range)
        # built after initialize(): its queries start as copies of each layer's word query
        self.entity_aware = EntityAwareQueries(encoder.layers, config.hidden_size) if entity_aware_attention else None

    def embed(self, state: FusionState, seq_len: int) -> torch.Tensor:
        """(B, M) entities → (B, M, H) input vectors for the appended tokens."""
        entities = state.entities
        embeddings = self._embeddings[0]
        if self.position is not None:
            table = self.position.weight  # (P, E)
        else:
            table = embeddings.position.weight if embeddings.position is not None else embeddings.sinusoid  # (P, E)
        inside = span_membership(seq_len, entities).to(table.dtype)  # (B, M, S)
        positions = inside @ table[:seq_len] / inside.sum(-1, keepdim=True).clamp(min=1)  # (B, M, E)
        x = self.project(state.lookup(entities.entity_ids)) + positions + self.entity_type
        if self.norm is not None:
            x = self.norm(x)
        x = self.dropout(x)
        if embeddings.projection is not None:
            x = embeddings.projection(x)  # (B, M, H)
        return x

    def forward(self, hidden: torch.Tensor, key_mask: torch.Tensor, state: FusionState) -> torch.Tensor:
        """hidden (B, S, H) → (B, S + M, H): the words, then one token per entity slot (masked slots
        are padding: :func:`joint_attention_mask` hides them)."""
        state.appended = state.entities.num_entities
        return torch.cat([hidden, self.embed(state, hidden.shape[1])], dim=1)


def joint_attention_mask(word_mask: torch.Tensor, entity_mask: torch.Tensor, spans: torch.Tensor,
                         causal: bool) -> torch.Tensor:
    """Attention mask over words (B, S) + entity tokens (B, M) → (B, 1, S+M|1, S+M) bool, True = allowed.

    Bidirectional: every real word or linked entity is a key. Causal: query q may read key k only
    when time(k) ≤ time(q), a word's time being its position and an entity's its mention's last
    wordpiece. Each position may always read itself, so padding rows never softmax over nothing.
    """
    keys = torch.cat([word_mask.bool(), entity_mask.bool()], dim=1)  # (B, S+M)
    if not causal:
        return keys[:, None, None, :]
    seq_len = word_mask.shape[1]
    words = torch.arange(seq_len, device=spans.device).expand(word_mask.shape[0], -1)
    times = torch.cat([words, entity_times(spans)], dim=1)  # (B, S+M)
    allowed = keys[:, None, :] & (times[:, None, :] <= times[:, :, None])  # (B, S+M, S+M)
    allowed = allowed | torch.eye(times.shape[1], dtype=torch.bool, device=times.device)
    return allowed[:, None]
