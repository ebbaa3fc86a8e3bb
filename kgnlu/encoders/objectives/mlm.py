"""Masked language modelling (BERT, ALBERT): predict the original token at each chosen position.

Reads ``batch["labels"]`` (B, S): the original id where the masker chose a token, -100 elsewhere.
The head computes logits only at those M positions, so loss and accuracy count exactly them.

``copy=True`` (fused encoders with graph slots): at a slot's masked tokens the prediction mixes in
a copy of the slot candidates' label wordpieces, weighted by KAR's candidate scores
(:mod:`kgnlu.encoders.objectives.copy_mixture`, KGLM's alias copying; the fusion layer builds
the candidates' pieces, :mod:`kgnlu.fusion.slot_copy`); batches without
``entity_candidate_pieces`` get plain MLM.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.objectives.base import OBJECTIVES, Objective, accuracy, build_head, safe_loss
from kgnlu.encoders.outputs import EncoderOutput


@OBJECTIVES.register("mlm")
class MaskedLM(Objective):
    requires = ("labels",)

    def __init__(self, encoder: Encoder, copy: bool = False):
        super().__init__()
        self.head = build_head("mlm", encoder)
        self.copy = None
        if copy:
            from kgnlu.encoders.objectives.copy_mixture import SlotCopy

            self.copy = SlotCopy(encoder.config.hidden_size)

    def log_probs(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput) -> tuple[torch.Tensor, torch.Tensor]:
        """(M, V) log-probabilities at the M labelled tokens (row-major) and their labels (M,)."""
        result = self.head(output, batch["labels"])
        candidate_logits = getattr(output, "candidate_logits", None)
        if self.copy is None or candidate_logits is None or "entity_candidate_pieces" not in batch:
            return torch.log_softmax(result.logits.float(), dim=-1), result.labels
        return self.copy.log_probs(result.logits, output.last_hidden_state, batch["labels"], batch["entity_spans"],
                                   candidate_logits, batch["entity_candidate_pieces"],
                                   batch["entity_candidate_mask"].bool()), result.labels

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None) -> dict[str, torch.Tensor]:
        if self.copy is not None:
            log_probs, labels = self.log_probs(batch, output)  # (M, V), (M,)
            loss = torch.nn.functional.nll_loss(log_probs, labels) if labels.numel() else None
            return {"loss": safe_loss(loss, log_probs), "accuracy": accuracy(log_probs, labels)}
        result = self.head(output, batch["labels"])  # logits (M, V), labels (M,)
        return {"loss": safe_loss(result.loss, result.logits), "accuracy": accuracy(result.logits, result.labels)}
