"""Pre-softmax attention scores of every layer, for TinyBERT's attention loss (Jiao et al. 2020, eq. 7–8).

kgnlu's encoder returns attention *probabilities* on request (``output_attentions``); TinyBERT
compares the scores QKᵀ/√d before the softmax. :class:`~kgnlu.encoders.attention.SelfAttention`
keeps its eager-path scores in ``.scores`` while its ``record_scores`` flag is set; here we set the
flag for one forward pass and collect the scores with forward hooks, one per *call*, so layers
that share an attention block (ALBERT-style stacks) and KG-fused encoders (which call the layers
one by one) yield one tensor per layer, in execution order.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from kgnlu.distill.teacher import run_encoder
from kgnlu.encoders.attention import SelfAttention


def run_with_scores(encoder: nn.Module, input_ids: torch.Tensor, batch: Mapping[str, torch.Tensor],
                    hidden_states: bool = True):
    """``(output, scores)``: the encoder's output (hidden states on request, attentions forced on so
    that the eager path runs) and a tuple of L tensors (B, heads, S, S) of raw scores — padded keys
    *not* masked (the loss drops them by the attention mask)."""
    modules = [m for m in encoder.modules() if isinstance(m, SelfAttention)]
    collected: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda module, args, out: collected.append(module.scores)) for m in modules]
    for m in modules:
        m.record_scores = True
    try:
        out = run_encoder(encoder, input_ids, batch, hidden_states=hidden_states, attentions=True)
    finally:
        for m in modules:
            m.record_scores = False
            m.scores = None  # no graph kept alive between steps
        for hook in hooks:
            hook.remove()
    return out, tuple(collected)
