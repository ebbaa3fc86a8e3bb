"""ERNIE's denoising entity auto-encoder, dEA (Zhang et al. 2019, "ERNIE: Enhanced Language
Representation with Informative Entities", ACL 2019, arXiv:1905.07129, §3.4).

Before the encoder runs (:meth:`prepare_batch`), of the aligned entities ``replace_fraction``
(5%) are replaced by another entity (uniform over the E - 1 entities that differ from the original:
ERNIE replaces the aligned entity with another, so a replacement never leaves it unchanged) and ``mask_fraction`` (15%) are masked — their
token–entity alignment removed (``entity_mask`` False, id 0) — and the rest are left as they are.
Then every originally aligned entity is predicted from the token it joined (its mention's first
wordpiece; the last on a causal encoder): the token state goes through a dense-activation-LN
transform to the entity width De and is scored by dot product against candidate entity embeddings —

- ``candidates="batch"``: the distinct entities of the batch (ERNIE's choice: a softmax over the
  sequence's entities, here over the whole batch's);
- ``candidates="table"``: the whole table by sampled softmax — the batch's entities plus
  ``num_negatives`` uniform samples (uniform proposal: the logQ correction is a constant and drops
  out; samples that hit a gold entity are masked); the exact full softmax when ``num_negatives`` ≥ E.

Reads ``entity_ids``, ``entity_mask``, ``entity_spans`` and writes the uncorrupted copies
``entity_original_ids`` / ``entity_original_mask`` (``el`` reads them for its gold entity).
Returns ``loss``, ``accuracy`` (argmax = the entity), ``masked_accuracy`` (on the masked ones).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from kgnlu.encoders.heads import HEADS
from kgnlu.encoders.objectives.base import OBJECTIVES, Objective, safe_loss
from kgnlu.encoders.outputs import EncoderOutput
from kgnlu.errors import ConfigError, FusionError
from kgnlu.fusion.injection.base import anchors, gather_rows

CANDIDATE_SETS = ("batch", "table")


def fused_encoder(encoder, objective: str):
    """``encoder`` if it is a :class:`~kgnlu.fusion.KGEncoder` (has an entity table), else a FusionError."""
    if getattr(encoder, "entity_embeddings", None) is None:
        raise FusionError(f"objective {objective!r} needs a KGEncoder (an encoder with an entity table); wrap the "
                          "encoder: KGEncoder(encoder, entity_embeddings, inject={...})")
    return encoder


def other_entities(ids: torch.Tensor, num_entities: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, M) ids → (B, M) ids drawn uniformly from the other E - 1 entities: a draw k from [0, E - 1)
    is shifted past the original (k >= id → k + 1), which skips exactly that one id."""
    draw = torch.randint(0, num_entities - 1, ids.shape, device=ids.device, generator=generator)
    return draw + (draw >= ids).long()


@OBJECTIVES.register("dea")
class DenoisingEntityAutoencoder(Objective):
    """ERNIE's dEA (Zhang et al. 2019, arXiv:1905.07129): corrupt 5% / mask 15% of the aligned entities,
    predict each from its token (module docstring)."""

    requires = ("entity_ids", "entity_mask", "entity_spans")

    def __init__(self, encoder, replace_fraction: float = 0.05, mask_fraction: float = 0.15,
                 candidates: str = "batch", num_negatives: int = 1024):
        super().__init__()
        table = fused_encoder(encoder, "dea").entity_embeddings
        if candidates not in CANDIDATE_SETS:
            raise ConfigError(f"dea candidates must be one of {CANDIDATE_SETS}, got {candidates!r}")
        if not (0 <= replace_fraction and 0 <= mask_fraction and replace_fraction + mask_fraction <= 1):
            raise ConfigError(f"dea fractions must be >= 0 and sum to <= 1 (got {replace_fraction}, {mask_fraction})")
        if num_negatives < 1:
            raise ConfigError(f"dea num_negatives must be >= 1, got {num_negatives}")
        if replace_fraction > 0 and table.num_embeddings < 2:
            raise ConfigError("dea replace_fraction > 0 needs at least 2 entities (a replacement is another entity)")
        self.replace_fraction, self.mask_fraction = float(replace_fraction), float(mask_fraction)
        self.candidates, self.num_negatives = candidates, int(num_negatives)
        self._encoder = [encoder]  # owned by the caller; a list keeps it out of this module's state
        # the shared entity head: dense H → De, activation, LayerNorm (scored against the table)
        self.head = HEADS.get("entity")(encoder.config, encoder, entity_size=table.embedding_dim)

    @property
    def table(self) -> torch.nn.Embedding:
        return self._encoder[0].entity_embeddings

    def prepare_batch(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Corrupt the entity inputs (5% random, 15% masked); keep the originals as targets."""
        ids, linked = batch["entity_ids"].long(), batch["entity_mask"].bool()  # (B, M)
        draw = torch.rand(ids.shape, device=ids.device)
        replaced = linked & (draw < self.replace_fraction)
        masked = linked & (draw >= self.replace_fraction) & (draw < self.replace_fraction + self.mask_fraction)
        random_ids = other_entities(ids, self.table.num_embeddings)
        corrupted = torch.where(replaced, random_ids, ids).masked_fill(masked, 0)
        originals = {"entity_original_ids": ids, "entity_original_mask": linked}
        originals.update({k: batch[k] for k in originals if k in batch})  # another objective corrupted first
        return {**batch, **originals, "entity_ids": corrupted, "entity_mask": linked & ~masked,
                "entity_dea_masked": masked}

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None) -> dict[str, torch.Tensor]:
        ids = batch.get("entity_original_ids", batch["entity_ids"]).long()  # (B, M)
        linked = batch.get("entity_original_mask", batch["entity_mask"]).bool()
        anchor = anchors(batch["entity_spans"].long(), self._encoder[0].config.causal)  # (B, M)
        rows = gather_rows(output.last_hidden_state, anchor)[linked]  # (K, H)
        targets = ids[linked]  # (K,)
        predicted = self.head.transform(rows)  # (K, De)
        gold, labels = torch.unique(targets, return_inverse=True)  # (N,), (K,)
        size = self.table.num_embeddings
        if self.candidates == "table" and self.num_negatives >= size:
            candidate_ids, labels, hits = torch.arange(size, device=ids.device), targets, None
        elif self.candidates == "table":
            sampled = torch.randint(0, size, (self.num_negatives,), device=ids.device)
            candidate_ids = torch.cat([gold, sampled])  # (N + n,)
            hits = torch.cat([torch.zeros_like(gold, dtype=torch.bool), torch.isin(sampled, gold)])
        else:
            candidate_ids, hits = gold, None
        logits = predicted @ self.table(candidate_ids).t()  # (K, N [+ n])
        if hits is not None:
            logits = logits.masked_fill(hits, torch.finfo(logits.dtype).min)
        loss = safe_loss(F.cross_entropy(logits.float(), labels) if rows.shape[0] else None, rows)
        correct = logits.detach().argmax(-1) == labels  # (K,)
        masked = batch.get("entity_dea_masked")
        masked = masked[linked] if masked is not None else torch.zeros_like(correct)
        return {"loss": loss, "accuracy": (correct.sum() / max(correct.numel(), 1)).float().detach(),
                "masked_accuracy": ((correct & masked).sum() / masked.sum().clamp(min=1)).float().detach()}
