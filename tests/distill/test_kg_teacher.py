"""Distilling a KG-fused teacher (kgnlu.fusion.KGEncoder): the student keeps or drops its injections."""

import pytest
import torch

from kgnlu.distill import StudentSpec, TinyBertDistiller, load_student, save_student
from kgnlu.distill.kg_student import build_kg_student, injection_positions
from kgnlu.encoders import Encoder
from kgnlu.errors import DistillationError
from kgnlu.fusion import KGEncoder
from kgnlu.training.trainer import Trainer, TrainerConfig
from tests.encoders.conftest import tiny
from tests.fusion.conftest import ENTITY_SIZE, NUM_ENTITIES, entity_batch, token_batch


@pytest.fixture
def kg_teacher():
    torch.manual_seed(0)
    encoder = Encoder(tiny("bert", num_layers=4, hidden_dropout=0.0, attention_dropout=0.0, initializer_range=0.2))
    return KGEncoder(encoder, torch.randn(NUM_ENTITIES, ENTITY_SIZE), {2: "kar", 4: "ernie"}).eval()


def batch() -> dict:
    ids, mask = token_batch()
    return {"input_ids": ids, "attention_mask": mask, **entity_batch().to_batch()}


def test_injection_positions_follow_the_copied_layers():
    # teacher layers 0 and 3 copied: student layer 1 stands for depth 1, layer 2 for depth 4
    assert injection_positions({2: "kar", 4: "ernie"}, 2, 4, [0, 3]) == {1: "kar", 2: "ernie"}
    # no copies: the uniform map g = [2, 4]
    assert injection_positions({2: "kar", 4: "ernie"}, 2, 4, None) == {1: "kar", 2: "ernie"}
    assert injection_positions({0: "entity_tokens"}, 2, 4, [0, 3]) == {0: "entity_tokens"}
    with pytest.raises(DistillationError):
        injection_positions({1: "kar", 2: "ernie"}, 2, 4, [0, 3])  # both land on position 1


def test_kept_injections_are_copied(kg_teacher):
    student, copied, moved = build_kg_student(kg_teacher, StudentSpec(num_layers=2))
    assert isinstance(student, KGEncoder) and copied == [0, 3] and moved == {1: "kar", 2: "ernie"}
    for position, k in ((1, 2), (2, 4)):
        ours, theirs = student.injections[str(position)].state_dict(), kg_teacher.injections[str(k)].state_dict()
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[name], theirs[name]) for name in ours)
    assert torch.equal(student.entity_embeddings.weight, kg_teacher.entity_embeddings.weight)


def test_dropped_injections_give_a_plain_encoder(kg_teacher):
    student, _, moved = build_kg_student(kg_teacher, StudentSpec(num_layers=2, keep_injections=False))
    assert isinstance(student, Encoder) and moved == {}


@pytest.mark.parametrize("keep", [True, False])
def test_distilling_a_fused_teacher_lowers_every_term(kg_teacher, keep, tmp_path):
    student, _, _ = build_kg_student(kg_teacher, StudentSpec(num_layers=2, keep_injections=keep))
    model = TinyBertDistiller(kg_teacher, student, {"embedding": 1.0, "hidden": 1.0, "attention": 1.0})
    data = batch()
    with torch.no_grad():
        before = {k: float(v) for k, v in model.eval()(**data).items()}
    config = TrainerConfig(out_dir=str(tmp_path), max_steps=25, lr=3e-3, warmup_steps=0, schedule="constant",
                           log_every=25, checkpoint_every=0, tensorboard=False, plot=False)
    Trainer(model, config, [data]).fit()
    with torch.no_grad():
        after = {k: float(v) for k, v in model.eval()(**data).items()}
    for term in ("hidden_loss", "attention_loss", "loss"):
        assert after[term] < before[term], (term, before[term], after[term])


def test_fused_student_round_trip(kg_teacher, tmp_path):
    from kgnlu.data.tokenizer import train_wordpiece

    tokenizer = train_wordpiece(["paris is a city in france"] * 30, vocab_size=97, min_frequency=1)
    student, _, _ = build_kg_student(kg_teacher, StudentSpec(num_layers=2))
    folder = save_student(student, tokenizer, tmp_path / "kg-student", {"method": "test"})
    loaded, _ = load_student(folder)
    assert isinstance(loaded, KGEncoder) and loaded.inject == {1: "kar", 2: "ernie"}
    data = batch()
    entities = entity_batch()
    with torch.no_grad():
        a = student.eval()(data["input_ids"], data["attention_mask"], entities=entities).last_hidden_state
        b = loaded.eval()(data["input_ids"], data["attention_mask"], entities=entities).last_hidden_state
    assert torch.allclose(a, b, atol=1e-6)


def test_run_on_a_linked_corpus_with_a_saved_fused_teacher(tmp_path):
    """`run_distillation` end to end: a KGEncoder folder as the teacher, batches from fusion's linked
    corpus (entity_* tensors), the student keeps the injection and is saved as a KGEncoder."""
    from kgnlu.config import from_dict
    from kgnlu.data.probe_data import ProbeDataConfig
    from kgnlu.data.tokenizer import train_wordpiece
    from kgnlu.distill import DistillConfig
    from kgnlu.distill.run import run_distillation
    from kgnlu.fusion.corpus import (
        LinkedCorpusConfig,
        build_linked_corpus,
        corpus_file,
        read_linked,
    )
    from tests.kg.linker_graph import build_fixture_graph

    graph = build_fixture_graph(tmp_path / "graph")
    build_linked_corpus(graph, tmp_path / "linked", LinkedCorpusConfig(
        wordnet_dir=None, probe=ProbeDataConfig(heldout_fraction=0.5)))
    texts = [record["text"] for record in read_linked(corpus_file(tmp_path / "linked"))]
    tokenizer = train_wordpiece(texts * 3, vocab_size=200, min_frequency=1)
    tokenizer.save(tmp_path / "tokenizer")
    torch.manual_seed(0)
    encoder = Encoder(tiny("bert", vocab_size=tokenizer.vocab_size, num_layers=4, max_positions=64,
                           pad_token_id=tokenizer.pad_id))
    KGEncoder(encoder, torch.randn(graph.num_entities, ENTITY_SIZE), {2: "kar"}).save_pretrained(tmp_path / "teacher")
    raw = {"name": "kg", "out_dir": str(tmp_path / "run"), "method": "tinybert", "teacher": str(tmp_path / "teacher"),
           "tokenizer": str(tmp_path / "tokenizer"),
           "student": {"num_layers": 2, "init": "teacher_layers"},  # tinybert's default is random (the paper)
           "data": {"batch_size": 2},
           "linked": {"corpus": str(tmp_path / "linked"), "graph": str(graph.path),
                      "data": {"max_length": 32, "max_entities": 4, "shuffle_buffer": 4}},
           "trainer": {"max_steps": 2, "lr": 1e-3, "log_every": 1, "tensorboard": False, "plot": False}}
    summary = run_distillation(from_dict(DistillConfig, raw))
    assert summary["injections"] == {"1": "kar"} and summary["init_layers"] == [0, 3]  # depth 1 ≤ 2 < 4
    student, _ = load_student(summary["student"])
    assert isinstance(student, KGEncoder) and student.inject == {1: "kar"}
