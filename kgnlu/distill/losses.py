"""Distillation losses, one pure function each (shapes at the boundaries; masks count real tokens).

DistilBERT (Sanh et al. 2019): :func:`soft_cross_entropy` at temperature T on MLM distributions,
the ordinary MLM loss (the student head's own cross entropy), :func:`cosine_loss` of hidden states.
TinyBERT (Jiao et al. 2020): :func:`hidden_mse` for the embedding layer and each mapped hidden
layer (after a learned projection W_h, identity-initialised at equal width), an attention loss per
mapped layer (below), and :func:`soft_cross_entropy` on the prediction layer in the task stage.

Attention (``attention_loss`` in the config): ``scores`` — TinyBERT's own loss (eq. 7–8; the
released ``general_distill.py``/``task_distill.py``): MSE between the student's and the teacher's
*pre-softmax* score matrices QKᵀ/√d, head by head (:func:`attention_score_mse`; scores from
:mod:`kgnlu.distill.scores`). ``probs`` — MSE on the softmax probabilities (:func:`attention_mse`),
kgnlu's earlier variant (MiniLM-style attention transfer compares distributions too); bounded,
but not TinyBERT's loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_cross_entropy(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0,
                       scale: bool = True) -> torch.Tensor:
    """(N, C), (N, C) → scalar: mean over rows of −Σ_c softmax(t/T)_c · log softmax(s/T)_c, times T².

    Hinton et al.'s T² keeps the soft-target gradients at the same size as T changes (DistilBERT
    uses it; pass ``scale=False`` for TinyBERT's unscaled prediction loss). This differs from
    KL(p_t ‖ p_s) only by the teacher's entropy, which does not depend on the student: the
    gradients are the same. No rows → an attached zero.
    """
    if student_logits.shape[0] == 0:
        return student_logits.sum() * 0.0
    targets = F.softmax(teacher_logits.detach().float() / temperature, dim=-1)
    log_probs = F.log_softmax(student_logits.float() / temperature, dim=-1)
    loss = -(targets * log_probs).sum(-1).mean()
    return loss * temperature ** 2 if scale else loss


def _token_mask(mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """(B, S) 1/0 or bool → (B, S) float; all ones when None."""
    if mask is None:
        return torch.ones(like.shape[:2], dtype=torch.float32, device=like.device)
    return mask.to(device=like.device, dtype=torch.float32)


def cosine_loss(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, S, H), (B, S, H), mask (B, S) → mean over real tokens of 1 − cos(s, t).

    DistilBERT's ``CosineEmbeddingLoss`` with target 1 on the last hidden states of real tokens.
    """
    weights = _token_mask(mask, student_hidden)
    cos = F.cosine_similarity(student_hidden.float(), teacher_hidden.detach().float(), dim=-1, eps=1e-8)  # (B, S)
    return ((1.0 - cos) * weights).sum() / weights.sum().clamp(min=1.0)


def hidden_mse(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor,
               mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, S, H), (B, S, H), mask (B, S) → mean squared error over real tokens and the H features.

    TinyBERT's embedding and hidden-state losses; the student side is already projected to the
    teacher's width (TinyBERT's W_e / W_h) by the caller.
    """
    weights = _token_mask(mask, student_hidden)
    squared = (student_hidden.float() - teacher_hidden.detach().float()).pow(2).mean(-1)  # (B, S)
    return (squared * weights).sum() / weights.sum().clamp(min=1.0)


def attention_mse(student_probs: torch.Tensor, teacher_probs: torch.Tensor,
                  mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, h, S, S), (B, h, S, S), mask (B, S) → mean squared error over heads and real (query, key) pairs.

    Pairs with a padded query or key are left out of both the sum and the count (their
    probabilities are 0 for keys, and meaningless for queries).
    """
    batch, heads, seq, _ = student_probs.shape
    token = _token_mask(mask, student_probs.new_zeros(batch, seq))
    pairs = token[:, None, :, None] * token[:, None, None, :]  # (B, 1, S, S)
    squared = (student_probs.float() - teacher_probs.detach().float()).pow(2) * pairs
    return squared.sum() / (pairs.sum() * heads).clamp(min=1.0)


def attention_score_mse(student_scores: torch.Tensor, teacher_scores: torch.Tensor,
                        mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, h, S, S), (B, h, S, S) pre-softmax scores, mask (B, S) → mean squared error over heads
    and real (query, key) pairs.

    TinyBERT's released code replaces masked scores by 0 in both maps (``torch.where(x <= -1e2, 0,
    x)``, its mask being an added −10000) so that they add nothing; we select by the attention mask
    instead of by value (a genuine score below −100 is kept), with ``torch.where`` so that −inf or
    ``finfo.min`` fill values never meet arithmetic (0 · −inf = nan). TinyBERT's MSELoss then
    divides by every entry, pads included; we divide by the real pairs × heads, as
    :func:`attention_mse` does — the same gradient direction, a batch-dependent scale of
    (real pairs)/(S²) apart.
    """
    batch, heads, seq, _ = student_scores.shape
    token = _token_mask(mask, student_scores.new_zeros(batch, seq)).bool()
    pairs = (token[:, None, :, None] & token[:, None, None, :])  # (B, 1, S, S)
    zero = student_scores.new_zeros(())
    s = torch.where(pairs, student_scores.float(), zero.float())
    t = torch.where(pairs, teacher_scores.detach().float(), zero.float())
    return (s - t).pow(2).sum() / (pairs.sum() * heads).clamp(min=1.0)
