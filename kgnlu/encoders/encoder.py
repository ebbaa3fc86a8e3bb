"""Encoder: the one transformer for every seed shape (BERT, ALBERT, ELECTRA, GPT-2).

    encoder = Encoder(EncoderConfig.albert(num_layers=4))
    out = encoder(input_ids=ids, attention_mask=mask)      # ids, mask: (B, S)
    out.last_hidden_state                                   # (B, S, H)

Weights load from and save to Hugging Face checkpoints (:meth:`from_pretrained`,
:meth:`save_pretrained`); shapes HF cannot express save in kgnlu's own layout.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from kgnlu.encoders.attention import build_attention_mask
from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.embeddings import Embeddings
from kgnlu.encoders.init import initialize
from kgnlu.encoders.layer import LayerStack
from kgnlu.encoders.outputs import EncoderOutput
from kgnlu.encoders.padding import Packing
from kgnlu.errors import ConfigError


class Pooler(nn.Module):
    """(B, S, H) → (B, H): tanh(dense(first token)), BERT's sentence representation for NSP/SOP."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(hidden[:, 0]))


class Encoder(nn.Module):
    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        self.embeddings = Embeddings(config)
        self.layers = LayerStack(config)
        # Pre-LN stacks end un-normalised, so GPT-2 adds one LayerNorm after the last layer.
        self.final_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps) if config.norm_placement == "pre" else None
        self.pooler = Pooler(config) if config.pooler else None
        initialize(self, config)

    # ------------------------------------------------------------------ forward
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, position_ids: torch.Tensor | None = None,
                output_hidden_states: bool = False, output_attentions: bool = False,
                padding_free: bool | None = None) -> EncoderOutput:
        """input_ids, attention_mask (1 = real token), token_type_ids, position_ids: (B, S).

        ``padding_free`` (default: the config's) runs per-token ops on the real tokens only when
        the batch has padding; outputs at pad positions are then zero.
        """
        x, packing, mask = self.embed(input_ids, attention_mask, token_type_ids, position_ids, padding_free)
        embedded = x  # (B, S, H) or packed (T, H)
        x, hidden, probs = self.layers(x, packing, mask, output_hidden_states, output_attentions)
        return self.finish(x, packing, embedded, hidden, probs, output_hidden_states, output_attentions)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
              token_type_ids: torch.Tensor | None = None, position_ids: torch.Tensor | None = None,
              padding_free: bool | None = None) -> tuple[torch.Tensor, Packing, torch.Tensor | None]:
        """The part of :meth:`forward` before the layers: (B, S) inputs → x (B, S, H), or packed
        (T, H) on the padding-free path, its :class:`Packing`, and the attention mask for the layers.

        ``embed`` → ``layers.run_layer`` for each layer → :meth:`finish` is exactly :meth:`forward`;
        the fused encoder (kgnlu.fusion) uses the pieces to act between layers.
        """
        batch, seq_len = input_ids.shape
        if seq_len > self.config.max_positions:
            raise ConfigError(f"sequence length {seq_len} exceeds max_positions {self.config.max_positions}; "
                              "truncate the input or build the encoder with more positions")
        use_packing = self.config.padding_free if padding_free is None else padding_free
        if attention_mask is not None and bool(attention_mask.all()):
            attention_mask = None  # nothing to mask: keeps SDPA on its fastest kernel
        if attention_mask is None:
            packing = Packing.dense(batch, seq_len, None)
        elif use_packing:
            packing = Packing.from_mask(attention_mask)
        else:
            packing = Packing.dense(batch, seq_len, attention_mask.bool())

        if packing.packed:
            if position_ids is None:
                position_ids = torch.arange(seq_len, device=input_ids.device).expand(batch, seq_len)
            x = self.embeddings(packing.pack(input_ids),  # (T,) → (T, H)
                                None if token_type_ids is None else packing.pack(token_type_ids),
                                packing.pack(position_ids))
        else:
            x = self.embeddings(input_ids, token_type_ids, position_ids)  # (B, S, H)
        return x, packing, build_attention_mask(packing, self.config.causal, input_ids.device)

    def finish(self, x: torch.Tensor, packing: Packing, embedded: torch.Tensor, hidden: list[torch.Tensor],
               probs: list[torch.Tensor], output_hidden_states: bool = False,
               output_attentions: bool = False) -> EncoderOutput:
        """The part of :meth:`forward` after the layers: final norm (pre-LN shapes), unpacking to
        (B, S, H), the pooler, and the requested hidden states (embeddings then each layer) and attentions."""
        if self.final_norm is not None:
            x = self.final_norm(x)
        last = packing.unpack(x)  # (B, S, H)
        hidden_states = None
        if output_hidden_states:
            hidden_states = tuple(packing.unpack(h) for h in [embedded, *hidden])
            if self.final_norm is not None:  # HF's convention: the last entry is after the final norm
                hidden_states = hidden_states[:-1] + (last,)
        return EncoderOutput(
            last_hidden_state=last,
            pooler_output=self.pooler(last) if self.pooler is not None else None,
            hidden_states=hidden_states,
            attentions=tuple(probs) if output_attentions else None,
        )

    # ------------------------------------------------------------------ helpers
    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word

    def num_parameters(self) -> int:
        """Distinct parameters (shared blocks counted once)."""
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------ checkpoints
    @classmethod
    def from_pretrained(cls, path: str | Path, **overrides) -> Encoder:
        """Load a kgnlu or local Hugging Face checkpoint (BERT, ALBERT, ELECTRA, GPT-2; safetensors only).

        ``overrides`` replace speed-only config fields (``attention_backend``, ``padding_free``)
        or dropouts.
        """
        from kgnlu.encoders.checkpoint import load_encoder

        return load_encoder(path, overrides)

    def save_pretrained(self, path: str | Path, hf_format: bool | None = None) -> Path:
        """Write the encoder to ``path`` atomically.

        ``hf_format``: None (default) writes Hugging Face's layout when this shape has one (so
        ``transformers.AutoModel`` opens it) and kgnlu's own layout otherwise; True insists on HF
        (raising :class:`~kgnlu.errors.ExportError` with the reason if the shape has no HF form);
        False always writes kgnlu's layout.
        """
        from kgnlu.encoders.checkpoint import save_encoder

        return save_encoder(self, path, hf_format)
