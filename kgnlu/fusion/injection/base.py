"""What every injection layer shares: the ``INJECTIONS`` registry, the base class, the state that
flows between injections, and the small tensor helpers (anchors, masked attention, residual update).

An injection is built as ``INJECTIONS.get(kind)(config, entity_size, encoder, **options)`` and
called between two encoder layers as ``injection(hidden (B, S, H), key_mask (B, S) bool, state)``.
It returns the new hidden states — same shape, except ``appends_tokens`` kinds (entity tokens),
which return (B, S + M, H) — and may set ``state.entity_states`` / ``state.candidate_logits`` /
``state.entity_stream``.

Causal encoders (GPT-2): every injection keeps causality with one rule. Each token has a *time* —
a word its position t, an entity its mention's last wordpiece ``end - 1`` (it is known only once
the mention is complete) — and information flows only from earlier or equal times to later ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from kgnlu.encoders.config import EncoderConfig
from kgnlu.fusion.alignment import EntityInputs
from kgnlu.registry import Registry

#: injection kind → class; ``INJECTIONS.get("kar")(config, entity_size, encoder)``
INJECTIONS: Registry[type[Injection]] = Registry("injection layer")


@dataclass
class FusionState:
    """What the injections of one forward pass share.

    ``entities``: the aligned inputs; ``table``: the entity embedding table (E, De);
    ``causal``: the encoder's attention direction; ``entity_stream``: ERNIE's entity stream (B, M, De),
    carried from one aggregator to the next; ``entity_states`` / ``candidate_logits``: what the last
    injection that produces them produced (returned on :class:`KGEncoderOutput`);
    ``appended``: how many entity tokens were appended to the sequence (0 or M).
    """

    entities: EntityInputs
    table: nn.Embedding
    causal: bool
    entity_stream: torch.Tensor | None = None
    entity_states: torch.Tensor | None = None
    candidate_logits: torch.Tensor | None = None
    appended: int = 0

    def lookup(self, ids: torch.Tensor) -> torch.Tensor:
        """Entity rows (...,) → embeddings (..., De)."""
        return self.table(ids)


class Injection(nn.Module):
    """Base class. Subclasses name the paper they follow in their docstring."""

    #: True when the layer appends entity tokens to the sequence (the encoder then re-masks attention)
    appends_tokens = False

    def __init__(self, config: EncoderConfig, entity_size: int):
        super().__init__()
        self.hidden_size, self.entity_size = config.hidden_size, entity_size
        self.pre_norm = config.norm_placement == "pre"

    def forward(self, hidden: torch.Tensor, key_mask: torch.Tensor, state: FusionState) -> torch.Tensor:
        raise NotImplementedError


# ---------------------------------------------------------------------- helpers
def default_heads(width: int, preferred: int = 4) -> int:
    """The largest head count ≤ ``preferred`` that divides ``width`` (KGE widths such as 50 or 100)."""
    return next(h for h in range(preferred, 0, -1) if width % h == 0)


def entity_times(spans: torch.Tensor) -> torch.Tensor:
    """(B, M, 2) spans → (B, M) the time of each entity: its mention's last wordpiece."""
    return spans[..., 1] - 1


def anchors(spans: torch.Tensor, causal: bool) -> torch.Tensor:
    """(B, M, 2) → (B, M) the token an entity joins: the first wordpiece (ERNIE), or on a causal
    encoder the last one (the first would carry the rest of the mention back in time)."""
    return entity_times(spans) if causal else spans[..., 0]


def entity_pair_mask(entity_mask: torch.Tensor, spans: torch.Tensor, causal: bool) -> torch.Tensor:
    """(B, M) → (B, M, M) bool: entity j may attend to entity k (both linked; causal: k no later than j)."""
    allowed = entity_mask[:, :, None] & entity_mask[:, None, :]
    if causal:
        times = entity_times(spans)
        allowed = allowed & (times[:, None, :] <= times[:, :, None])
    return allowed


def word_entity_mask(seq_len: int, entity_mask: torch.Tensor, spans: torch.Tensor, causal: bool) -> torch.Tensor:
    """(B, M) → (B, S, M) bool: word t may attend to entity m (linked; causal: mention ended by t)."""
    allowed = entity_mask[:, None, :].expand(-1, seq_len, -1)
    if causal:
        positions = torch.arange(seq_len, device=spans.device)
        allowed = allowed & (entity_times(spans)[:, None, :] <= positions[None, :, None])
    return allowed


def span_membership(seq_len: int, entities: EntityInputs) -> torch.Tensor:
    """(B, M, S) bool: token t lies in linked mention m's wordpiece span."""
    positions = torch.arange(seq_len, device=entities.spans.device)
    start, end = entities.spans[..., :1], entities.spans[..., 1:]  # (B, M, 1) each
    return (positions >= start) & (positions < end) & entities.entity_mask[..., None]


def gather_rows(hidden: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """hidden (B, S, D), index (B, M) → (B, M, D)."""
    return hidden.gather(1, index.clamp(min=0)[..., None].expand(-1, -1, hidden.shape[-1]))


def scatter_rows(values: torch.Tensor, index: torch.Tensor, keep: torch.Tensor, seq_len: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """values (B, M, D) added at token positions index (B, M) where keep (B, M) → (B, S, D) and
    the (B, S) bool mask of positions that received something."""
    batch, _, width = values.shape
    out = values.new_zeros(batch, seq_len, width)
    index = index.clamp(min=0, max=seq_len - 1)
    out = out.scatter_add(1, index[..., None].expand(-1, -1, width), values * keep[..., None].to(values.dtype))
    hits = torch.zeros(batch, seq_len, dtype=torch.long, device=values.device).scatter_add(1, index, keep.long())
    return out, hits > 0


def residual_update(hidden: torch.Tensor, delta: torch.Tensor, norm: nn.LayerNorm | None,
                    where: torch.Tensor) -> torch.Tensor:
    """The encoder's own residual convention, applied only at ``where`` (B, S) bool; every other
    token is returned bit-identical (the "no entity → no effect" property).

    post-LN (BERT, ``norm`` given): LN(h + Δ); pre-LN (GPT-2, ``norm`` None): h + Δ (the next
    block normalises its input).
    """
    updated = hidden + delta if norm is None else norm(hidden + delta)
    return torch.where(where[..., None], updated, hidden)


class MaskedAttention(nn.Module):
    """Multi-head attention of queries (B, Q, D) over keys/values (B, K, Dk) under a (B, Q, K) bool
    mask → (B, Q, D). A query with no allowed key gets zeros (not NaN), so absent entities add nothing."""

    def __init__(self, width: int, key_width: int | None = None, heads: int | None = None, dropout: float = 0.0):
        super().__init__()
        key_width = key_width or width
        self.heads = heads or default_heads(width)
        self.head_size = width // self.heads
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(key_width, width)
        self.value = nn.Linear(key_width, width)
        self.out = nn.Linear(width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        b, q, _ = queries.shape
        k = keys.shape[1]
        split = lambda x, n: x.view(b, n, self.heads, self.head_size).transpose(1, 2)  # noqa: E731  (B, h, n, d)
        qh, kh, vh = split(self.query(queries), q), split(self.key(keys), k), split(self.value(keys), k)
        scores = qh @ kh.transpose(-1, -2) / math.sqrt(self.head_size)  # (B, h, Q, K)
        mask = allowed[:, None]  # (B, 1, Q, K)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        probs = torch.where(mask, scores.softmax(-1), torch.zeros((), dtype=scores.dtype, device=scores.device))
        context = (self.dropout(probs) @ vh).transpose(1, 2).reshape(b, q, -1)  # (B, Q, D)
        return self.out(context) * allowed.any(-1, keepdim=True).to(context.dtype)
