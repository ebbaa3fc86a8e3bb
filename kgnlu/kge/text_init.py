"""Text-initialised entities (KEPLER-style): an entity's vector comes from an encoder over its text.

KEPLER (Wang et al. 2021) encodes each entity's description with the language model and uses the
result as the entity embedding, so an entity never seen in training still gets one. Here the
encoder (default: the packaged all-MiniLM-L6-v2) runs once over every entity text, frozen, giving
features F [E, H] (mean-pooled last layer); the KGE model's entity vectors are

    e = F W + b  (+ a per-entity residual, zero at start, for entities seen in training)

with W [H, D] and b learned by the KGE objective. An unseen entity's vector is
``rep.embed_features(encode_texts([its text]))``: the learned projection of its encoded text.
Fine-tuning the encoder itself inside the KE loss is the fusion part's job (kgnlu/fusion).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from kgnlu.progress import track


@torch.no_grad()
def encode_texts(texts: Sequence[str], encoder=None, tokenizer=None, batch_size: int = 64,
                 max_length: int = 64, device: str | torch.device = "cpu") -> torch.Tensor:
    """Mean-pooled last-layer encoder states of ``texts`` → features [len(texts), H]."""
    if encoder is None:
        from kgnlu.encoders.pretrained import load_minilm

        encoder = load_minilm()
    if tokenizer is None:
        from kgnlu.data.tokenizer import load_minilm_tokenizer

        tokenizer = load_minilm_tokenizer()
    encoder = encoder.to(device).eval()
    out = []
    batches = range(0, len(texts), batch_size)
    for lo in track(batches, total=len(batches), desc="encode entity texts", unit="batch"):
        chunk = [t or "" for t in texts[lo:lo + batch_size]]
        tokens = tokenizer.encode_batch(chunk, max_length=max_length).to(device)
        hidden = encoder(tokens.input_ids, tokens.attention_mask, tokens.token_type_ids).last_hidden_state  # [B, S, H]
        mask = tokens.attention_mask.unsqueeze(-1).to(hidden.dtype)  # [B, S, 1]
        out.append(((hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)).float().cpu())  # [B, H]
    return torch.cat(out) if out else torch.zeros(0, encoder.config.hidden_size)


class TextEntityRepresentation(nn.Module):
    """Entity vectors from fixed text features: ids [...] → [..., D]; ``.all()`` → [E, D]."""

    def __init__(self, features: torch.Tensor, dim: int, residual: bool = True):
        super().__init__()
        self.register_buffer("features", features.float().contiguous())  # [E, H], frozen
        self.projection = nn.Linear(features.shape[1], dim)
        nn.init.xavier_uniform_(self.projection.weight)
        nn.init.zeros_(self.projection.bias)
        # per-entity correction, zero-initialised: starts exactly at the text projection
        self.residual = nn.Parameter(torch.zeros(features.shape[0], dim)) if residual else None

    @property
    def num(self) -> int:
        return self.features.shape[0]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out = self.projection(self.features[ids])
        return out + self.residual[ids] if self.residual is not None else out

    def all(self) -> torch.Tensor:
        out = self.projection(self.features)
        return out + self.residual if self.residual is not None else out

    @torch.no_grad()
    def embed_features(self, features: torch.Tensor) -> torch.Tensor:
        """Vectors for entities outside the table (no residual): features [Q, H] → [Q, D]."""
        return self.projection(features.to(self.projection.weight.device).float())


def text_entities(kg, dim: int, residual: bool = True, encoder=None, tokenizer=None,
                  device: str | torch.device = "cpu") -> TextEntityRepresentation:
    """A text-initialised entity table for every entity of ``kg`` (label + ": " + text)."""
    texts = [f"{label}: {text}" if text else label
             for label, text in zip(kg.entity_labels(), kg.entity_texts(), strict=True)]
    return TextEntityRepresentation(encode_texts(texts, encoder, tokenizer, device=device), dim, residual)
