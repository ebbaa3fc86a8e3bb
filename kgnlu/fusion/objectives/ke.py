"""KEPLER's knowledge-embedding objective (Wang et al. 2021, "KEPLER: A Unified Model for Knowledge
Embedding and Pre-trained Language Representation", TACL 2021, arXiv:1911.06136, §2.2).

Entity embeddings are *computed by the encoder from entity text* (descriptions, glosses): the
state of the first token (``[CLS]``/``<s>``; on a causal encoder the last real token, the only
one that has read the whole text). A TransE score with learned relation vectors r (H wide),
d(h, r, t) = ‖h + r − t‖_p, is trained with KEPLER's negative-sampling loss (its eq. 2)

    L = −log σ(γ − d(h, r, t)) − 1/n Σ_i log σ(d(h'_i, r, t'_i) − γ)

where each negative replaces the tail (or, per triple, the head) by another entity's text.

Batch keys (K triples, n negatives each, token lengths L*; all long, masks 1 at real tokens):

- ``ke_head_ids``, ``ke_head_mask``: (K, Lh) head entity texts, tokenized like the MLM text;
- ``ke_relation``: (K,) relation ids in [0, num_relations);
- ``ke_tail_ids``, ``ke_tail_mask``: (K, Lt) tail entity texts;
- ``ke_negative_ids``, ``ke_negative_mask``: (K, n, Ln) texts of the corrupting entities;
- ``ke_negative_head`` (optional): (K,) 1 where the negatives replace the head, 0 for the tail.

All texts run through the encoder in one forward (padded to the longest). Returns ``loss``,
``accuracy`` (share of triples scored closer than every one of their negatives), ``positive_distance``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from kgnlu.encoders.objectives.base import OBJECTIVES, Objective
from kgnlu.encoders.outputs import EncoderOutput
from kgnlu.errors import ConfigError


def pad_to(ids: torch.Tensor, length: int) -> torch.Tensor:
    """(N, L) → (N, length) right-padded with zeros (0 is the mask value; pad ids are masked anyway)."""
    return F.pad(ids, (0, length - ids.shape[1]))


@OBJECTIVES.register("ke")
class KnowledgeEmbedding(Objective):
    """KEPLER's KE loss (Wang et al. 2021, arXiv:1911.06136): TransE over entity embeddings the
    encoder computes from entity text (batch keys in the module docstring)."""

    uses_output = False
    requires = ("ke_head_ids", "ke_head_mask", "ke_relation", "ke_tail_ids", "ke_tail_mask",
                "ke_negative_ids", "ke_negative_mask")

    def __init__(self, encoder, num_relations: int | None = None, margin: float = 4.0, norm: int = 1):
        """``num_relations``: size of the relation table (required); ``margin`` γ: KEPLER's 4 for
        TransE; ``norm`` p: 1 as KEPLER's TransE (2 also works)."""
        super().__init__()
        if not isinstance(num_relations, int) or num_relations < 1:
            raise ConfigError("objective 'ke' needs num_relations (the graph's relation count), e.g. "
                              "objective_options: {ke: {num_relations: 12}}")
        if margin <= 0 or norm not in (1, 2):
            raise ConfigError(f"ke needs margin > 0 and norm 1 or 2 (got {margin}, {norm})")
        self.margin, self.norm = float(margin), int(norm)
        self._encoder = [encoder]  # owned by the caller; kept out of this module's state dict
        self.relations = nn.Embedding(num_relations, encoder.config.hidden_size)
        nn.init.normal_(self.relations.weight, std=encoder.config.initializer_range)

    def embed_texts(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(N, L) entity texts → (N, H) their embeddings (first token; last real token if causal)."""
        encoder = self._encoder[0]
        states = encoder(ids, mask).last_hidden_state  # (N, L, H)
        if not encoder.config.causal:
            return states[:, 0]
        last = (mask.long().sum(-1) - 1).clamp(min=0)  # (N,)
        return states[torch.arange(states.shape[0], device=ids.device), last]

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None = None
                ) -> dict[str, torch.Tensor]:
        heads, tails, negatives = batch["ke_head_ids"], batch["ke_tail_ids"], batch["ke_negative_ids"]
        k, n = negatives.shape[:2]
        length = max(heads.shape[1], tails.shape[1], negatives.shape[2])
        ids = torch.cat([pad_to(heads, length), pad_to(tails, length), pad_to(negatives.reshape(k * n, -1), length)])
        mask = torch.cat([pad_to(batch["ke_head_mask"], length), pad_to(batch["ke_tail_mask"], length),
                          pad_to(batch["ke_negative_mask"].reshape(k * n, -1), length)])
        vectors = self.embed_texts(ids.long(), mask.long())  # (2K + K·n, H)
        h, t, others = vectors[:k], vectors[k:2 * k], vectors[2 * k:].view(k, n, -1)  # (K, H), (K, H), (K, n, H)
        r = self.relations(batch["ke_relation"].long())  # (K, H)
        positive = (h + r - t).norm(p=self.norm, dim=-1)  # (K,)
        head_side = batch.get("ke_negative_head")
        head_side = (torch.zeros(k, dtype=torch.bool, device=h.device) if head_side is None
                     else head_side.bool())[:, None, None]  # (K, 1, 1)
        neg_h = torch.where(head_side, others, h[:, None])  # (K, n, H)
        neg_t = torch.where(head_side, t[:, None], others)
        negative = (neg_h + r[:, None] - neg_t).norm(p=self.norm, dim=-1)  # (K, n)
        loss = (-F.logsigmoid(self.margin - positive) - F.logsigmoid(negative - self.margin).mean(-1)).mean()
        return {"loss": loss, "accuracy": (positive[:, None] < negative).all(-1).float().mean().detach(),
                "positive_distance": positive.mean().detach()}
