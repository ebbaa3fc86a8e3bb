"""Output records: small dataclasses instead of tuples selected by flags."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class EncoderOutput:
    """What :class:`~kgnlu.encoders.Encoder` returns.

    ``last_hidden_state``: (B, S, H). On the padding-free path, pad positions hold zeros.
    ``pooler_output``: (B, H), tanh(dense(first token)); None when the config has no pooler.
    ``hidden_states``: on request, L+1 tensors (B, S, H): the embeddings (after the E→H projection),
    then each layer's output — what DistilBERT/TinyBERT hidden-state distillation reads.
    ``attentions``: on request, L tensors (B, heads, S, S) of attention probabilities (computed on
    the eager path, since fused SDPA does not return them) — what TinyBERT attention distillation reads.
    """

    last_hidden_state: torch.Tensor
    pooler_output: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclass
class HeadOutput:
    """What a pretraining head returns: its logits and, when labels were given, its loss.

    ``logits`` shape depends on the head (documented on each); ``labels`` are the targets aligned
    with ``logits`` (e.g. the masked-position labels of MLM), so metrics need no re-indexing.
    """

    logits: torch.Tensor
    loss: torch.Tensor | None = None
    labels: torch.Tensor | None = None
