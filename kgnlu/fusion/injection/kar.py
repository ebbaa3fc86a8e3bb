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

Options that make the layer the paper's (KnowBERT's released ``SolderedKG``), all off by default
so older checkpoints load unchanged (docs/techniques.md):

- ``span_ffn``: the mention-span transformer is a whole transformer layer, self-attention *and*
  its feed-forward block, s ← LN(s + FFN(s)) after the attention (KnowBERT's span encoder).
- ``word_ffn``: the word-to-span recontextualisation is a whole layer too (KnowBERT's
  ``SpanAttentionLayer``): A = LN(H_proj + MHA(H_proj, s', s')), H' = LN(A + FFN(A)), then W2 H'.
- ``threshold`` δ: candidates with ψ < δ get no weight in ẽ_m; a mention with no candidate at or
  above δ gets the null entity's embedding instead (a learned vector, zero at the start; KnowBERT
  reads its table's @@NULL@@ row, which kgnlu's graph tables do not have).
- ``knowbert_norms``: the released code's LayerNorms on the pooled spans, on the candidate rows
  and on s' = LN(s + dropout(ẽ)), and ψ's similarity scaled by 1/√De.
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
                 linker_hidden: int = 100, dropout: float | None = None, span_ffn: bool = False,
                 word_ffn: bool = False, threshold: float | None = None, ffn_size: int | None = None,
                 knowbert_norms: bool = False):
        """``heads``: of both attentions (default: largest of 4, 2, 1 dividing De); ``linker_hidden``:
        the ψ MLP's hidden width (KnowBERT uses 100); ``dropout``: default the encoder's hidden dropout;
        ``span_ffn`` / ``word_ffn`` / ``threshold`` / ``knowbert_norms``: the paper's parts (module docstring);
        ``ffn_size``: width of those feed-forward blocks (default 4·De; KnowBERT's WordNet run: 1024 at De=200)."""
        super().__init__(config, entity_size)
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
            raise FusionError(f"kar threshold must be a number (the decode threshold δ on ψ) or null, "
                              f"not {threshold!r}")
        eps = config.layer_norm_eps
        dropout_p = config.hidden_dropout if dropout is None else dropout
        ffn_size = ffn_size or 4 * entity_size
        self.threshold = threshold
        self.span_ffn = EntityFeedForward(entity_size, ffn_size, eps, dropout_p) if span_ffn else None
        self.word_ffn = EntityFeedForward(entity_size, ffn_size, eps, dropout_p) if word_ffn else None
        self.word_norm = nn.LayerNorm(entity_size, eps=eps) if word_ffn else None
        self.null_entity = nn.Parameter(torch.zeros(entity_size)) if threshold is not None else None
        # KnowBERT's released code normalises the pooled spans, the candidate rows and s + ẽ, and
        # scales s·e by 1/√De (its kg_layer_norm, projected_span_layer_norm, weighted_entity_layer_norm)
        self.knowbert_norms = knowbert_norms
        self.pooled_norm = nn.LayerNorm(entity_size, eps=eps) if knowbert_norms else None
        self.candidate_norm = nn.LayerNorm(entity_size, eps=eps) if knowbert_norms else None
        self.enhanced_norm = nn.LayerNorm(entity_size, eps=eps) if knowbert_norms else None
        self.input_norm = nn.LayerNorm(config.hidden_size, eps=eps) if self.pre_norm else None
        self.project = nn.Linear(config.hidden_size, entity_size)  # W1
        self.span_score = nn.Linear(entity_size, 1)  # w of the self-attentive span pooling
        self.span_attention = MaskedAttention(entity_size, heads=heads, dropout=config.attention_dropout)
        self.span_norm = nn.LayerNorm(entity_size, eps=eps)
        self.linker = nn.Sequential(nn.Linear(2, linker_hidden), nn.ReLU(), nn.Linear(linker_hidden, 1))
        self.word_attention = MaskedAttention(entity_size, heads=heads, dropout=config.attention_dropout)
        self.back = nn.Linear(entity_size, config.hidden_size)  # W2
        self.norm = None if self.pre_norm else nn.LayerNorm(config.hidden_size, eps=eps)
        self.dropout = nn.Dropout(dropout_p)
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
        if self.pooled_norm is not None:
            spans = self.pooled_norm(spans)
        allowed = entity_pair_mask(linked, entities.spans, state.causal)  # (B, M, M)
        spans = self.span_norm(spans + self.dropout(self.span_attention(spans, spans, allowed)))
        if self.span_ffn is not None:
            spans = self.span_ffn(spans)

        candidates = state.lookup(entities.candidate_ids)  # (B, M, C, De)
        if self.candidate_norm is not None:
            candidates = self.candidate_norm(candidates)
        usable = entities.candidate_mask & linked[..., None]  # (B, M, C)
        similarity = (spans[:, :, None, :] * candidates).sum(-1)  # (B, M, C)
        if self.knowbert_norms:  # scaled as a transformer's attention scores
            similarity = similarity / candidates.shape[-1] ** 0.5
        features = torch.stack([entities.candidate_scores.to(similarity.dtype), similarity], dim=-1)  # (B, M, C, 2)
        logits = self.linker(features).squeeze(-1).masked_fill(~usable, torch.finfo(similarity.dtype).min)
        weighted = self._weighted_candidates(logits, usable, candidates, linked)  # (B, M, De)
        if self.enhanced_norm is not None:
            enhanced = self.enhanced_norm(spans + self.dropout(weighted))
        else:
            enhanced = spans + weighted
        enhanced = enhanced * linked[..., None].to(enhanced.dtype)

        reach = word_entity_mask(seq_len, linked, entities.spans, state.causal)  # (B, S, M)
        context = self.word_attention(projected, enhanced, reach)  # (B, S, De)
        if self.word_ffn is not None:  # the paper's whole layer: residual + LN, then its FFN
            context = self.word_ffn(self.word_norm(projected + self.dropout(context)))
        delta = self.dropout(self.back(context))  # (B, S, H)
        state.candidate_logits, state.entity_states = logits, enhanced
        return residual_update(hidden, delta, self.norm, reach.any(-1) & key_mask)

    def _weighted_candidates(self, logits: torch.Tensor, usable: torch.Tensor, candidates: torch.Tensor,
                             linked: torch.Tensor) -> torch.Tensor:
        """ẽ_m (B, M, De): candidates (B, M, C, De) weighted by softmax(ψ) over the usable ones
        (B, M, C). With δ, candidates below it drop out, and a linked mention left with none gets
        the null entity (KnowBERT's decode threshold)."""
        if self.threshold is not None:
            usable = usable & (logits >= self.threshold)
        weights = logits.masked_fill(~usable, torch.finfo(logits.dtype).min).softmax(-1) * usable  # zero rows: none usable
        weighted = (weights[..., None] * candidates).sum(-2)
        if self.null_entity is None:
            return weighted
        nothing = linked & ~usable.any(-1)  # (B, M)
        return torch.where(nothing[..., None], self.null_entity.to(weighted.dtype), weighted)


class EntityFeedForward(nn.Module):
    """x (…, De) → LN(x + dropout(W_o gelu(W_i x))): a transformer layer's feed-forward half at the
    entity width (KnowBERT's span encoder and span-attention layer each end with one)."""

    def __init__(self, width: int, ffn_size: int, eps: float, dropout: float):
        super().__init__()
        self.up = nn.Linear(width, ffn_size)
        self.down = nn.Linear(ffn_size, width)
        self.norm = nn.LayerNorm(width, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x + self.dropout(self.down(torch.nn.functional.gelu(self.up(x)))))
