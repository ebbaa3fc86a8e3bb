"""Each distillation loss against a case worked out by hand (or with numpy from the formula)."""

import math

import numpy as np
import pytest
import torch

from kgnlu.distill.losses import attention_mse, cosine_loss, hidden_mse, soft_cross_entropy


def test_soft_cross_entropy_by_hand_at_t1():
    # teacher uniform (1/2, 1/2); student softmax([0, ln 3]) = (1/4, 3/4)
    # CE = -(1/2 ln 1/4 + 1/2 ln 3/4) = 1/2 ln(16/3)
    student = torch.tensor([[0.0, math.log(3.0)]])
    teacher = torch.tensor([[0.0, 0.0]])
    assert soft_cross_entropy(student, teacher, 1.0).item() == pytest.approx(0.5 * math.log(16 / 3), abs=1e-6)


def test_soft_cross_entropy_temperature_and_t_squared():
    # at T=2 the student's distribution is softmax([0, ln3 / 2]) = (1/(1+√3), √3/(1+√3));
    # CE = ln(1+√3) - ln(3)/4, and DistilBERT multiplies by T² = 4
    student = torch.tensor([[0.0, math.log(3.0)]])
    teacher = torch.tensor([[0.0, 0.0]])
    ce = math.log(1 + math.sqrt(3)) - math.log(3) / 4
    assert soft_cross_entropy(student, teacher, 2.0).item() == pytest.approx(4 * ce, abs=1e-6)
    assert soft_cross_entropy(student, teacher, 2.0, scale=False).item() == pytest.approx(ce, abs=1e-6)


def test_soft_cross_entropy_is_kl_plus_teacher_entropy():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    p = np.exp(t) / np.exp(t).sum(1, keepdims=True)
    q = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    kl = (p * (np.log(p) - np.log(q))).sum(1).mean()
    entropy = -(p * np.log(p)).sum(1).mean()
    got = soft_cross_entropy(torch.tensor(s), torch.tensor(t), 1.0).item()
    assert got == pytest.approx(kl + entropy, abs=1e-5)


def test_soft_cross_entropy_no_rows_is_an_attached_zero():
    student = torch.zeros(0, 4, requires_grad=True)
    loss = soft_cross_entropy(student, torch.zeros(0, 4), 2.0)
    assert loss.item() == 0.0 and loss.requires_grad


def test_cosine_loss_by_hand_skips_padding():
    # token 0: orthogonal → 1 - 0 = 1; token 1: parallel → 0; token 2 is padding (would give 2)
    s = torch.tensor([[[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]]])
    t = torch.tensor([[[0.0, 1.0], [2.0, 2.0], [-1.0, 0.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert cosine_loss(s, t, mask).item() == pytest.approx(0.5, abs=1e-6)
    assert cosine_loss(s, t).item() == pytest.approx(1.0, abs=1e-6)  # (1 + 0 + 2) / 3


def test_hidden_mse_by_hand_skips_padding():
    # token 0: ((1-0)² + (2-0)²)/2 = 2.5; token 1: ((3-1)² + (3-1)²)/2 = 4; token 2 padded
    s = torch.tensor([[[1.0, 2.0], [3.0, 3.0], [9.0, 9.0]]])
    t = torch.tensor([[[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]])
    assert hidden_mse(s, t, torch.tensor([[1, 1, 0]])).item() == pytest.approx(3.25, abs=1e-6)


def test_attention_mse_by_hand_counts_real_pairs_and_heads():
    # 1 sequence, 2 heads, 2 tokens, second one padded: only the (0, 0) pair of each head counts
    s = torch.tensor([[[[0.5, 0.5], [0.1, 0.9]], [[1.0, 0.0], [0.3, 0.7]]]])
    t = torch.tensor([[[[0.7, 0.3], [0.9, 0.1]], [[0.6, 0.4], [0.5, 0.5]]]])
    expected = ((0.5 - 0.7) ** 2 + (1.0 - 0.6) ** 2) / 2  # = 0.1
    assert attention_mse(s, t, torch.tensor([[1, 0]])).item() == pytest.approx(expected, abs=1e-6)
    # no padding: every pair of both heads, 8 squared differences
    diffs = [0.2, 0.2, 0.8, 0.8, 0.4, 0.4, 0.2, 0.2]
    assert attention_mse(s, t).item() == pytest.approx(sum(d * d for d in diffs) / 8, abs=1e-6)


def test_losses_do_not_backpropagate_into_the_teacher():
    s = torch.randn(2, 3, 4, requires_grad=True)
    t = torch.randn(2, 3, 4, requires_grad=True)
    (hidden_mse(s, t) + cosine_loss(s, t)).backward()
    assert s.grad is not None and t.grad is None
