"""KnowBERT's Knowledge Attention and Recontextualization (Peters et al. 2019, "Knowledge Enhanced
Contextual Word Representations", EMNLP 2019, arXiv:1909.04164, §3.1–3.3).

    H_proj = W1 H                                   (B, S, De)   project to the entity size
    s_m    = Σ_{t∈span m} softmax(w·H_proj)_t H_proj_t  (B, M, De)   self-attentive span pooling
    s_m   ← LN(s_m + MHA(s, s))                       mention-span self-attention
    ψ_mk   = MLP([p_mk, s_m · e_mk])                  (B, M, C)    entity linker, p = link score
    ẽ_m    = Σ_k softmax(ψ_m)_k e_mk                  candidate embeddings weighted by link scores
    s'_m   = s_m + ẽ_m                                knowledge-enhanced span
    H'     = MHA(H_proj, s', s')                      word-to-entity-span attention
    H     ← LN(H + W2 H')                             W2 initialised as pinv(W1)

ψ is returned as ``candidate_logits`` (the ``el`` objective's input). A token with no linked
mention to attend to (every token of a text with no entity; on a causal encoder, every token
before the first mention ends) is returned unchanged. Pre-LN encoders project LN(H) and add W2 H'
to the residual stream.
"""

from __future__ import annotations

import torch
from torch import nn

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.init import initialize
from kgnlu.fusion.injection.base import (
    INJECTIONS,
    FusionState,
    Injection,
    MaskedAttention,
    entity_pair_mask,
    residual_update,
    span_membership,
    word_entity_mask,
)


@INJECTIONS.register("kar")
class KnowledgeAttentionRecontextualization(Injection):
    """KnowBERT's KAR (Peters et al. 2019, arXiv:1909.04164): span pooling, candidate attention
    weighted by link scores, word-to-entity-span recontextualisation (module docstring)."""

    def __init__(self, config: EncoderConfig, entity_size: int, encoder: Encoder, heads: int | None = None,
                 linker_hidden: int = 100, dropout: float | None = None):
        """``heads``: of both attentions (default: largest of 4, 2, 1 dividing De); ``linker_hidden``:
        the ψ MLP's hidden width (KnowBERT uses 100); ``dropout``: default the encoder's hidden dropout."""
        super().__init__(config, entity_size)
        eps = config.layer_norm_eps
        self.input_norm = nn.LayerNorm(config.hidden_size, eps=eps) if self.pre_norm else None
        self.project = nn.Linear(config.hidden_size, entity_size)  # W1
        self.span_score = nn.Linear(entity_size, 1)  # w of the self-attentive span pooling
        self.span_attention = MaskedAttention(entity_size, heads=heads, dropout=config.attention_dropout)
        self.span_norm = nn.LayerNorm(entity_size, eps=eps)
        self.linker = nn.Sequential(nn.Linear(2, linker_hidden), nn.ReLU(), nn.Linear(linker_hidden, 1))
        self.word_attention = MaskedAttention(entity_size, heads=heads, dropout=config.attention_dropout)
        self.back = nn.Linear(entity_size, config.hidden_size)  # W2
        self.norm = None if self.pre_norm else nn.LayerNorm(config.hidden_size, eps=eps)
        self.dropout = nn.Dropout(config.hidden_dropout if dropout is None else dropout)
        initialize(self, config)
        with torch.no_grad():  # KnowBERT §3.3: W2 = pinv(W1), so W2 W1 H ≈ H at the start
            self.back.weight.copy_(torch.linalg.pinv(self.project.weight))  # (H, De)
            self.back.bias.zero_()

    def forward(self, hidden: torch.Tensor, key_mask: torch.Tensor, state: FusionState) -> torch.Tensor:
        """hidden (B, S, H), key_mask (B, S) → (B, S, H); sets ``state.candidate_logits`` (B, M, C) and
        ``state.entity_states`` (B, M, De), the knowledge-enhanced spans s'."""
        entities = state.entities
        linked, seq_len = entities.entity_mask, hidden.shape[1]
        projected = self.project(self.input_norm(hidden) if self.input_norm is not None else hidden)  # (B, S, De)

        inside = span_membership(seq_len, entities)  # (B, M, S)
        scores = self.span_score(projected).squeeze(-1)[:, None, :].expand_as(inside)  # (B, M, S)
        weights = scores.masked_fill(~inside, torch.finfo(scores.dtype).min).softmax(-1) * inside
        spans = weights @ projected  # (B, M, De)
        allowed = entity_pair_mask(linked, entities.spans, state.causal)  # (B, M, M)
        spans = self.span_norm(spans + self.dropout(self.span_attention(spans, spans, allowed)))

        candidates = state.lookup(entities.candidate_ids)  # (B, M, C, De)
        usable = entities.candidate_mask & linked[..., None]  # (B, M, C)
        similarity = (spans[:, :, None, :] * candidates).sum(-1)  # (B, M, C)
        features = torch.stack([entities.candidate_scores.to(similarity.dtype), similarity], dim=-1)  # (B, M, C, 2)
        logits = self.linker(features).squeeze(-1).masked_fill(~usable, torch.finfo(similarity.dtype).min)
        link_weights = logits.softmax(-1) * usable  # (B, M, C); zero rows for unlinked slots
        enhanced = spans + (link_weights[..., None] * candidates).sum(-2)  # (B, M, De)
        enhanced = enhanced * linked[..., None].to(enhanced.dtype)

        reach = word_entity_mask(seq_len, linked, entities.spans, state.causal)  # (B, S, M)
        context = self.word_attention(projected, enhanced, reach)  # (B, S, De)
        delta = self.dropout(self.back(context))  # (B, S, H)
        state.candidate_logits, state.entity_states = logits, enhanced
        return residual_update(hidden, delta, self.norm, reach.any(-1) & key_mask)
