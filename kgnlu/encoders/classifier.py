"""The supersense classifier: any encoder → mean over real tokens → dropout → linear over 45 labels.

Used by :mod:`kgnlu.eval.supersense` (fine-tuning every encoder with one recipe) and by
:mod:`kgnlu.distill.task` (teacher and student classifiers); the data, collator and scorer are in
:mod:`kgnlu.data.supersense`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from kgnlu.data.supersense import LABELS, SupersenseCollate, SupersenseExample


class SupersenseClassifier(nn.Module):
    """Encoder → mean over real tokens (B, H) → dropout → linear (B, 45); returns the Trainer's mapping."""

    def __init__(self, encoder: nn.Module, num_labels: int = len(LABELS), dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)
        nn.init.normal_(self.classifier.weight, std=0.02)
        nn.init.zeros_(self.classifier.bias)
        self.use_token_types = getattr(encoder.config, "type_vocab_size", 2) > 0

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        types = token_type_ids if self.use_token_types else None
        hidden = self.encoder(input_ids, attention_mask, types).last_hidden_state  # (B, S, H)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, S, 1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, H)
        return self.classifier(self.dropout(pooled))  # (B, C)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.logits(input_ids, attention_mask, token_type_ids)
        loss = F.cross_entropy(logits.float(), labels)
        return {"loss": loss, "accuracy": (logits.detach().argmax(-1) == labels).float().mean()}


@torch.no_grad()
def predict(model: SupersenseClassifier, tokenizer: Any, examples: Sequence[SupersenseExample], max_length: int,
            batch_size: int = 128) -> list[int]:
    model.eval()
    device = next(model.parameters()).device
    collate = SupersenseCollate(tokenizer, max_length)
    out: list[int] = []
    for start in range(0, len(examples), batch_size):
        batch = {k: v.to(device) for k, v in collate(examples[start:start + batch_size]).items()}
        out.extend(model.logits(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).argmax(-1).tolist())
    return out


