"""Next-sentence prediction (BERT): from the pooled first token, did segment B follow segment A?

Reads ``batch["nsp_label"]`` (B,): 0 = B follows A, 1 = B is a random segment.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.objectives.base import OBJECTIVES, Objective, accuracy, build_head, safe_loss
from kgnlu.encoders.outputs import EncoderOutput


class SentencePairObjective(Objective):
    """A binary property of the segment pair, predicted by a two-way head over the pooled state."""

    head_name = ""
    label_key = ""

    def __init__(self, encoder: Encoder):
        super().__init__()
        self.requires = (self.label_key,)
        self.head = build_head(self.head_name, encoder)

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None) -> dict[str, torch.Tensor]:
        labels = batch[self.label_key]
        result = self.head(output, labels)  # logits (B, 2)
        return {"loss": safe_loss(result.loss, result.logits), "accuracy": accuracy(result.logits, labels)}


@OBJECTIVES.register("nsp")
class NextSentencePrediction(SentencePairObjective):
    head_name, label_key = "nsp", "nsp_label"
