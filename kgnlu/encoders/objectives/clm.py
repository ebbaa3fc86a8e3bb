"""Causal language modelling (GPT-2): every position predicts the next token.

Reads ``batch["labels"]`` (B, S) — the input ids, -100 at padding; the head shifts them, so
position t is scored against label t+1. Also reports perplexity, exp(loss).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.objectives.base import OBJECTIVES, Objective, accuracy, build_head, safe_loss
from kgnlu.encoders.outputs import EncoderOutput


@OBJECTIVES.register("clm")
class CausalLM(Objective):
    requires = ("labels",)

    def __init__(self, encoder: Encoder):
        super().__init__()
        self.head = build_head("clm", encoder)  # refuses a bidirectional encoder

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None) -> dict[str, torch.Tensor]:
        result = self.head(output, batch["labels"])  # logits (M, V) at scored positions, labels (M,)
        loss = safe_loss(result.loss, result.logits)
        return {"loss": loss, "accuracy": accuracy(result.logits, result.labels),
                "perplexity": loss.detach().float().clamp(max=50.0).exp()}
