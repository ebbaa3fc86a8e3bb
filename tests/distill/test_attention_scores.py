"""TinyBERT's attention loss on pre-softmax scores (eq. 7–8), by hand, and the scores the encoder yields."""

import math

import pytest
import torch

from kgnlu.distill import StudentSpec, TinyBertDistiller, build_student
from kgnlu.distill.losses import attention_score_mse
from kgnlu.distill.scores import run_with_scores
from kgnlu.encoders import Encoder
from kgnlu.encoders.attention import SelfAttention
from kgnlu.errors import DistillationError
from tests.distill.test_distillers import first_and_last, mlm_batch, teacher_and_head
from tests.encoders.conftest import ragged_batch, tiny

NEG = torch.finfo(torch.float32).min


def test_score_mse_by_hand_two_heads_three_tokens_masked_key():
    # 1 sequence, 2 heads, 3 tokens; token 2 is padding: its key column and its query row drop out,
    # leaving 2 × 2 real (query, key) pairs per head = 8 entries
    student = torch.tensor([[[[0.0, 0.0, float("-inf")], [0.0, 0.0, float("-inf")], [5.0, 5.0, 5.0]],
                             [[1.0, 1.0, NEG], [1.0, 1.0, NEG], [-7.0, 2.0, 9.0]]]])
    teacher = torch.tensor([[[[1.0, 2.0, -1e4], [3.0, 4.0, -1e4], [0.0, 0.0, 0.0]],
                             [[1.0, 1.0, 1e9], [1.0, 3.0, 1e9], [0.0, 0.0, 0.0]]]])
    # head 0: differences 1, 2, 3, 4 → 1 + 4 + 9 + 16 = 30; head 1: 0, 0, 0, 2 → 4; (30 + 4) / 8
    loss = attention_score_mse(student, teacher, torch.tensor([[1, 1, 0]]))
    assert loss.item() == pytest.approx(34 / 8, abs=1e-6)
    assert torch.isfinite(loss)


def test_score_mse_gradient_is_finite_with_minus_inf_masks():
    student = torch.tensor([[[[0.5, float("-inf")], [0.5, float("-inf")]]]], requires_grad=True)
    teacher = torch.tensor([[[[1.5, -1e4], [0.0, -1e4]]]])
    loss = attention_score_mse(student, teacher, torch.tensor([[1, 0]]))  # only (0, 0): (0.5 - 1.5)² = 1
    loss.backward()
    assert loss.item() == pytest.approx(1.0)
    assert torch.isfinite(student.grad).all()
    assert student.grad[0, 0, 0, 0].item() == pytest.approx(2 * (0.5 - 1.5))  # d/ds (s − t)² / 1
    assert student.grad[0, 0, 0, 1].item() == 0.0 and student.grad[0, 0, 1].abs().sum() == 0


def test_recorded_scores_are_qk_over_sqrt_d_and_softmax_to_the_probabilities():
    torch.manual_seed(0)
    encoder = Encoder(tiny("bert", num_layers=2)).eval()
    ids, mask = ragged_batch(lengths=(6, 4))
    inputs = []
    hooks = [m.register_forward_pre_hook(lambda module, args: inputs.append(args[:2]))
             for m in encoder.modules() if isinstance(m, SelfAttention)]
    with torch.no_grad():
        out, scores = run_with_scores(encoder, ids, {"attention_mask": mask})
    for h in hooks:
        h.remove()
    assert len(scores) == 2 and scores[0].shape == (2, 4, 6, 6)
    attention = encoder.layers.attention_blocks[0].attention
    heads, d = attention.num_heads, attention.head_size
    x, packing = inputs[0]  # (B, S, H) or packed (T, H) and how to unpack it
    q, k, _ = packing.unpack(attention.qkv(x)).view(2, 6, 3, heads, d).permute(2, 0, 3, 1, 4)  # 3 × (B, h, S, d)
    assert torch.allclose(scores[0], q @ k.transpose(-1, -2) / math.sqrt(d), atol=1e-5)
    for layer, raw in enumerate(scores):
        masked = raw.masked_fill(~mask.bool()[:, None, None, :], float("-inf"))
        assert torch.allclose(masked.softmax(-1), out.attentions[layer], atol=1e-6)
    assert all(m.scores is None and not m.record_scores for m in encoder.modules() if isinstance(m, SelfAttention))


def test_shared_attention_blocks_yield_one_score_map_per_layer():
    encoder = Encoder(tiny("albert", num_layers=3)).eval()  # one attention block for all layers
    ids, mask = ragged_batch(lengths=(5, 3))
    with torch.no_grad():
        _, scores = run_with_scores(encoder, ids, {"attention_mask": mask})
    assert len(scores) == 3 and not torch.allclose(scores[0], scores[1])


def test_tinybert_on_scores_lowers_every_term_and_differs_from_probs(tmp_path):
    teacher, _ = teacher_and_head(tmp_path)
    losses = {"embedding": 1.0, "hidden": 1.0, "attention": 1.0}
    student, _ = build_student(teacher, StudentSpec(num_layers=2, init="random"))
    model = TinyBertDistiller(teacher, student, losses, attention_loss="scores")
    batch = mlm_batch()
    with torch.no_grad():
        probs = TinyBertDistiller(teacher, student, losses, attention_loss="probs").eval()(**batch)["attention_loss"]
    before, after = first_and_last(model, batch, tmp_path / "scores")
    for term in ("embedding_loss", "hidden_loss", "attention_loss", "loss"):
        assert after[term] < before[term], (term, before[term], after[term])
    assert before["attention_loss"] != pytest.approx(float(probs), rel=1e-3)
    with pytest.raises(DistillationError, match="attention_loss"):
        TinyBertDistiller(teacher, student, losses, attention_loss="logits")
