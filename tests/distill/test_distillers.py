"""A few distillation steps through the shared Trainer lower every loss term (tiny models, one fixed batch)."""

import torch

from kgnlu.distill import (
    DistilBertDistiller,
    PredictionDistiller,
    StudentSpec,
    TinyBertDistiller,
    build_student,
)
from kgnlu.encoders import Encoder
from kgnlu.encoders.classifier import SupersenseClassifier
from kgnlu.encoders.objectives.model import PretrainingModel
from kgnlu.training.trainer import Trainer, TrainerConfig
from tests.encoders.conftest import ragged_batch, tiny


def mlm_batch(seed: int = 0) -> dict:
    """MLM-style batch: every 3rd real token masked (id 1 stands for [MASK]), labels = originals."""
    ids, mask = ragged_batch(lengths=(12, 9, 12, 7), seed=seed)
    labels = torch.full_like(ids, -100)
    chosen = (torch.arange(ids.shape[1]) % 3 == 1)[None, :] & mask.bool()
    labels[chosen] = ids[chosen]
    return {"input_ids": ids.masked_fill(chosen, 1), "labels": labels, "attention_mask": mask}


def first_and_last(model, batch, tmp_path, steps: int = 25, lr: float = 3e-3) -> tuple[dict, dict]:
    model.eval()
    with torch.no_grad():
        before = {k: float(v) for k, v in model(**batch).items()}
    config = TrainerConfig(out_dir=str(tmp_path), max_steps=steps, lr=lr, warmup_steps=0, schedule="constant",
                           log_every=steps, checkpoint_every=0, tensorboard=False, plot=False, seed=0)
    Trainer(model, config, [batch]).fit()
    model.eval()
    with torch.no_grad():
        after = {k: float(v) for k, v in model(**batch).items()}
    return before, after


def teacher_and_head(tmp_path, seed: int = 0):
    """A tiny teacher and MLM head, first fitted to the test batch (so their soft targets carry
    information, as a real teacher's do); init σ = 0.2 gives peaked, non-uniform attention maps."""
    torch.manual_seed(seed)
    teacher = Encoder(tiny("bert", num_layers=4, hidden_dropout=0.0, attention_dropout=0.0, initializer_range=0.2))
    pretraining = PretrainingModel(teacher, {"mlm": 1.0})
    config = TrainerConfig(out_dir=str(tmp_path / "teacher"), max_steps=30, lr=3e-3, warmup_steps=0,
                           schedule="constant", log_every=30, checkpoint_every=0, tensorboard=False, plot=False)
    Trainer(pretraining, config, [mlm_batch()]).fit()
    return teacher.eval(), pretraining.objectives["mlm"].head.eval()


def test_distilbert_lowers_every_term(tmp_path):
    teacher, head = teacher_and_head(tmp_path)
    student, _ = build_student(teacher, StudentSpec(num_layers=2))
    model = DistilBertDistiller(teacher, head, student, {"soft_ce": 5.0, "mlm": 2.0, "cosine": 1.0}, temperature=2.0)
    teacher_before = [p.clone() for p in teacher.parameters()]
    before, after = first_and_last(model, mlm_batch(), tmp_path / "distil")
    for term in ("soft_ce_loss", "mlm_loss", "cosine_loss", "loss"):
        assert after[term] < before[term], (term, before[term], after[term])
    assert all(torch.equal(a, b) for a, b in zip(teacher_before, teacher.parameters(), strict=True))


def test_distilbert_across_widths_uses_a_projection(tmp_path):
    teacher, head = teacher_and_head(tmp_path)
    student, _ = build_student(teacher, StudentSpec(num_layers=2, hidden_size=16, num_heads=4))
    model = DistilBertDistiller(teacher, head, student, {"soft_ce": 1.0, "mlm": 1.0, "cosine": 1.0})
    assert model.projection is not None and model.projection.linear.weight.shape == (32, 16)
    before, after = first_and_last(model, mlm_batch(), tmp_path / "distil")
    for term in ("soft_ce_loss", "mlm_loss", "cosine_loss"):
        assert after[term] < before[term], term


def test_tinybert_general_lowers_every_term(tmp_path):
    teacher, _ = teacher_and_head(tmp_path)
    student, _ = build_student(teacher, StudentSpec(num_layers=2, hidden_size=16, num_heads=4))
    model = TinyBertDistiller(teacher, student, {"embedding": 1.0, "hidden": 1.0, "attention": 1.0})
    assert model.layer_map == [0, 2, 4]
    before, after = first_and_last(model, mlm_batch(), tmp_path / "distil")
    for term in ("embedding_loss", "hidden_loss", "attention_loss", "loss"):
        assert after[term] < before[term], (term, before[term], after[term])


def test_tinybert_reads_the_unmasked_text(tmp_path):
    teacher, _ = teacher_and_head(tmp_path)
    student, _ = build_student(teacher, StudentSpec(num_layers=4, init_layers=[0, 1, 2, 3]))
    model = TinyBertDistiller(teacher, student, {"embedding": 1.0, "hidden": 1.0, "attention": 1.0}).eval()
    with torch.no_grad():
        out = model(**mlm_batch())
    # an exact copy with identity projections matches the teacher on every term
    assert out["embedding_loss"] < 1e-10 and out["hidden_loss"] < 1e-10 and out["attention_loss"] < 1e-10


def test_prediction_layer_distillation_lowers_the_soft_loss(tmp_path):
    teacher, _ = teacher_and_head(tmp_path)
    torch.manual_seed(1)
    teacher_classifier = SupersenseClassifier(teacher, 5)
    student, _ = build_student(teacher, StudentSpec(num_layers=1))
    model = PredictionDistiller(teacher_classifier, SupersenseClassifier(student, 5), temperature=1.0)
    batch = mlm_batch()
    batch = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
             "labels": torch.tensor([0, 1, 2, 3])}
    before, after = first_and_last(model, batch, tmp_path / "distil")
    assert after["prediction_loss"] < before["prediction_loss"]
    assert after["agreement"] >= before["agreement"]
