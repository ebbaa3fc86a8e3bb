"""What the fused encoder returns: the encoder's output record plus the entity side."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kgnlu.encoders.outputs import EncoderOutput


@dataclass
class KGEncoderOutput(EncoderOutput):
    """:class:`~kgnlu.encoders.EncoderOutput` (``last_hidden_state`` (B, S, H) over the words only,
    ``pooler_output``, ``hidden_states``, ``attentions``) plus

    ``entity_states``: (B, M, De) the entity representations of the last injection that makes them
    (ERNIE: the entity stream, width De; KAR: knowledge-enhanced spans, De; entity tokens: their
    final states, H); None without entities.
    ``candidate_logits``: (B, M, C) the last KAR layer's entity-linking scores ψ (masked candidates
    at the dtype's minimum); None without a KAR layer or entities.
    """

    entity_states: torch.Tensor | None = None
    candidate_logits: torch.Tensor | None = None
