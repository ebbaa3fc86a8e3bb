"""Masked language modelling (BERT, ALBERT): predict the original token at each chosen position.

Reads ``batch["labels"]`` (B, S): the original id where the masker chose a token, -100 elsewhere.
The head computes logits only at those M positions, so loss and accuracy count exactly them.
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

    def __init__(self, encoder: Encoder):
        super().__init__()
        self.head = build_head("mlm", encoder)

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None) -> dict[str, torch.Tensor]:
        result = self.head(output, batch["labels"])  # logits (M, V), labels (M,)
        return {"loss": safe_loss(result.loss, result.logits), "accuracy": accuracy(result.logits, result.labels)}
