"""KnowBERT's entity-linking loss (Peters et al. 2019, "Knowledge Enhanced Contextual Word
Representations", EMNLP 2019, arXiv:1909.04164, §3.4): cross-entropy of the KAR layer's
candidate scores ψ (``KGEncoderOutput.candidate_logits``, (B, M, C)) against the gold entity —
the linked entity, before any ``dea`` corruption (``entity_original_ids`` when present).

A mention counts when it is linked in the encoder's input (``entity_mask``; ``dea``-masked ones
are not seen by KAR) and its gold entity is among its candidates. Returns ``loss``, ``accuracy``
(argmax ψ = gold) and ``prior_accuracy`` (argmax of the linker's own candidate scores = gold),
the baseline the learned scores should beat. Batches with graph slots (:mod:`kgnlu.fusion.slots`,
``entity_slot_mask``) add ``slot_accuracy`` and ``slot_chance`` (mean 1 / candidates) over the
slots whose hidden entity is among their candidates. Needs a KGEncoder with a ``kar`` injection.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from kgnlu.encoders.objectives.base import IGNORE, OBJECTIVES, Objective, accuracy, safe_loss
from kgnlu.encoders.outputs import EncoderOutput
from kgnlu.errors import FusionError
from kgnlu.fusion.objectives.dea import fused_encoder


def gold_candidate(candidate_ids: torch.Tensor, candidate_mask: torch.Tensor, gold: torch.Tensor,
                   usable: torch.Tensor) -> torch.Tensor:
    """(B, M, C) candidates, (B, M) gold ids and usable mask → (B, M) index of the gold candidate,
    -100 where the mention is unusable or its gold entity is not a candidate."""
    match = (candidate_ids == gold[..., None]) & candidate_mask.bool()  # (B, M, C)
    labels = match.float().argmax(-1)  # first match
    return labels.masked_fill(~(match.any(-1) & usable), IGNORE)


@OBJECTIVES.register("el")
class EntityLinking(Objective):
    """KnowBERT's entity-linking loss (Peters et al. 2019, arXiv:1909.04164) on KAR's candidate scores."""

    requires = ("entity_ids", "entity_mask", "entity_candidate_ids", "entity_candidate_scores",
                "entity_candidate_mask")

    def __init__(self, encoder):
        super().__init__()
        if "kar" not in getattr(fused_encoder(encoder, "el"), "inject", {}).values():
            raise FusionError("objective 'el' trains KnowBERT's candidate scores, which only a 'kar' injection "
                              "computes; add one, e.g. inject={L - 1: 'kar'}")

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None) -> dict[str, torch.Tensor]:
        gold = batch.get("entity_original_ids", batch["entity_ids"]).long()  # (B, M)
        usable = batch["entity_mask"].bool() & batch.get("entity_original_mask", batch["entity_mask"]).bool()
        labels = gold_candidate(batch["entity_candidate_ids"], batch["entity_candidate_mask"], gold, usable)
        logits = getattr(output, "candidate_logits", None)  # (B, M, C); None when nothing was linked
        keep = labels != IGNORE  # (B, M)
        slotted = "entity_slot_mask" in batch  # the same keys on every step (and rank) of a run
        if logits is None or not bool(keep.any()):
            zero = output.last_hidden_state.sum() * 0.0
            out = {"loss": zero, "accuracy": zero.detach(), "prior_accuracy": zero.detach()}
            return {**out, "slot_accuracy": zero.detach(), "slot_chance": zero.detach()} if slotted else out
        rows, targets = logits[keep], labels[keep]  # (K, C), (K,)
        loss = safe_loss(F.cross_entropy(rows.float(), targets), rows)
        prior = batch["entity_candidate_scores"].float().masked_fill(~batch["entity_candidate_mask"].bool(), -1.0)
        out = {"loss": loss, "accuracy": accuracy(rows, targets), "prior_accuracy": accuracy(prior[keep], targets)}
        if slotted:
            slots = keep & batch["entity_slot_mask"].bool()  # (B, M)
            counts = batch["entity_candidate_mask"][slots].sum(-1).clamp(min=1).float()  # (K_slots,)
            out["slot_accuracy"] = accuracy(logits[slots], labels[slots])  # 0 when no slot counts
            out["slot_chance"] = (1.0 / counts).mean().detach() if counts.numel() else loss.detach() * 0.0
        return out
