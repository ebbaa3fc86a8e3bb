"""The gated copy mixture behind MLM's ``copy=True`` (KGLM, Logan et al. 2019, arXiv:1906.07241, §3).

At a masked token t that is the i-th wordpiece of slot m (spanning exactly L wordpieces), with
candidate scores ψ (B, M, C) and each candidate's label wordpieces (B, M, C, L):

    a_mk   = softmax_k(ψ_mk) over the candidates whose label has L wordpieces
    p_copy = Σ_k a_mk · onehot(piece_i(label_k))                         (V,)
    g_t    = sigmoid(w · h_t + b)                                        learned gate
    p(w)   = (1 - g_t) · softmax(MLM logits_t)(w) + g_t · p_copy(w)

It is plain tensors in, tensors out, so it lives with the MLM objective that owns it; the graph
side — turning slot candidates into label wordpieces, and the candidates' scores themselves — is
the fusion layer's (:mod:`kgnlu.fusion.slot_copy`, which re-exports :class:`SlotCopy`).
"""

from __future__ import annotations

import torch
from torch import nn

from kgnlu.encoders.objectives.base import IGNORE

PAD_PIECE = -1  # padding of a candidate's label wordpieces


class SlotCopy(nn.Module):
    """The gate and the copy mixture above; see the module docstring."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.gate = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)  # g = 0.5 at the start: both sources get gradient

    def log_probs(self, logits: torch.Tensor, hidden: torch.Tensor, labels: torch.Tensor, spans: torch.Tensor,
                  candidate_logits: torch.Tensor, pieces: torch.Tensor, candidate_mask: torch.Tensor) -> torch.Tensor:
        """logits (N, V) at the N labelled tokens of ``labels`` (B, S) (row-major), hidden (B, S, H),
        spans (B, M, 2), candidate_logits (B, M, C), pieces (B, M, C, L), candidate_mask (B, M, C)
        → (N, V) log-probabilities of the mixture."""
        log_mlm = torch.log_softmax(logits.float(), dim=-1)  # (N, V)
        b_idx, t_idx = (labels != IGNORE).nonzero(as_tuple=True)  # (N,), (N,) row-major like the head
        n, vocab = log_mlm.shape
        if n == 0 or pieces.shape[1] == 0:
            return log_mlm
        start, end = spans[b_idx, :, 0], spans[b_idx, :, 1]  # (N, M)
        has_pieces = (pieces != PAD_PIECE).any(-1).any(-1)  # (B, M): slots with candidate labels
        inside = (start <= t_idx[:, None]) & (t_idx[:, None] < end) & has_pieces[b_idx]  # (N, M)
        token_slot = torch.where(inside.any(-1), inside.float().argmax(-1), torch.full_like(t_idx, -1))  # (N,)
        use = token_slot >= 0
        if not bool(use.any()):
            return log_mlm
        rows, b, m = use.nonzero().flatten(), b_idx[use], token_slot[use]  # (K,) each
        offset = t_idx[use] - spans[b, m, 0]  # (K,) position inside the slot
        length = spans[b, m, 1] - spans[b, m, 0]  # (K,)
        slot_pieces = pieces[b, m]  # (K, C, L)
        label_length = (slot_pieces != PAD_PIECE).sum(-1)  # (K, C)
        fits = candidate_mask[b, m] & (label_length == length[:, None])  # (K, C): labels as long as the slot
        psi = candidate_logits[b, m].float().masked_fill(~fits, float("-inf"))  # (K, C)
        any_fit = fits.any(-1)  # (K,)
        weights = torch.softmax(psi.masked_fill(~any_fit[:, None], 0.0), dim=-1) * fits  # (K, C)
        piece = slot_pieces.gather(2, offset.clamp(min=0, max=slot_pieces.shape[-1] - 1)[:, None, None]
                                   .expand(-1, slot_pieces.shape[1], 1)).squeeze(-1)  # (K, C)
        copy = torch.zeros(len(rows), vocab, dtype=log_mlm.dtype, device=log_mlm.device)
        copy.scatter_add_(1, piece.clamp(min=0), weights * (piece >= 0))  # (K, V)
        # (K,); kept below 1 so the MLM's share never vanishes (a gold name outside the copy stays finite)
        gate = torch.sigmoid(self.gate(hidden[b, t_idx[use]]).float()).squeeze(-1).clamp(max=1.0 - 1e-4) * any_fit
        mixed = torch.logaddexp(torch.log1p(-gate)[:, None] + log_mlm[rows],
                                torch.log(gate[:, None] * copy + 1e-30))  # (K, V)
        out = log_mlm.clone()
        out[rows] = mixed
        return out
