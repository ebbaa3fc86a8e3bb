"""Copying an entity's name into a graph slot (KGLM, Logan et al. 2019, arXiv:1906.07241, §3).

KGLM renders a fact by choosing an entity from its local knowledge graph and copying one of its
aliases token by token. With graph slots (:mod:`kgnlu.fusion.slots`) KAR already scores a slot's
candidates (ψ, the ``el`` objective's logits); this module lets the MLM head copy from them. At a
masked token t that is the i-th wordpiece of slot m (spanning exactly L wordpieces):

    a_mk   = softmax_k(ψ_mk) over the candidates whose label has L wordpieces
    p_copy = Σ_k a_mk · onehot(piece_i(label_k))                         (V,)
    g_t    = sigmoid(w · h_t + b)                                        learned gate
    p(w)   = (1 - g_t) · softmax(MLM logits_t)(w) + g_t · p_copy(w)

Elsewhere (not in a slot, or no candidate of the right length) p is the MLM softmax alone. The
loss is the negative log of p at the masked tokens, so it trains the gate, the MLM head and —
through a_mk — KAR's choice among the candidates. ``entity_candidate_pieces`` (B, M, C, L) holds
each slot candidate's label wordpieces (-1 padding; all -1 for mentions that are not slots), built
by :func:`candidate_pieces` in the collator and in the cloze probe alike.

The mixture itself (:class:`SlotCopy`, re-exported here) is plain tensors and lives in
:mod:`kgnlu.encoders.objectives.copy_mixture`, beside the MLM objective whose ``copy`` flag builds
it, so the encoders layer never imports fusion.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import torch

# The mixture itself is plain tensors and lives with the MLM objective that owns its ``copy`` flag.
from kgnlu.encoders.objectives.copy_mixture import PAD_PIECE, SlotCopy

__all__ = ["PAD_PIECE", "LabelPieces", "SlotCopy", "candidate_pieces"]


class LabelPieces:
    """Entity row → the wordpieces of its label (at most ``max_pieces``; longer labels give ())."""

    def __init__(self, graph, tokenizer, max_pieces: int = 4, cache_size: int = 200_000):
        self.graph, self.tokenizer, self.max_pieces = graph, tokenizer, max_pieces
        self._pieces = lru_cache(maxsize=cache_size)(self._encode)

    def _encode(self, row: int) -> tuple[int, ...]:
        ids = self.tokenizer.encode(self.graph.entity_label(int(row)), add_special_tokens=False)
        return tuple(ids) if 0 < len(ids) <= self.max_pieces else ()

    def __call__(self, row: int) -> tuple[int, ...]:
        return self._pieces(int(row))


def candidate_pieces(candidate_ids: torch.Tensor, candidate_mask: torch.Tensor, slot_mask: torch.Tensor,
                     pieces: Callable[[int], tuple[int, ...]], max_pieces: int) -> torch.Tensor:
    """(B, M, C) candidates, (B, M) slots → (B, M, C, L) label wordpieces of each slot candidate."""
    out = torch.full((*candidate_ids.shape, max_pieces), PAD_PIECE, dtype=torch.long)
    for b, m in slot_mask.nonzero().tolist():
        for c in candidate_mask[b, m].nonzero().flatten().tolist():
            ids = pieces(int(candidate_ids[b, m, c]))[:max_pieces]
            if ids:
                out[b, m, c, :len(ids)] = torch.tensor(ids)
    return out
