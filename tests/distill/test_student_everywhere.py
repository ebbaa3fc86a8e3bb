"""A saved student loads wherever an encoder is accepted: the linker's neural mode (by path) and fusion."""

import torch

from kgnlu.data.tokenizer import train_wordpiece
from kgnlu.distill import StudentSpec, build_student, save_student
from kgnlu.encoders import Encoder
from kgnlu.fusion import KGEncoder
from kgnlu.kg.linker import EntityLinker
from tests.encoders.conftest import tiny
from tests.kg.linker_graph import ENTITIES, build_fixture_graph

TEXTS = [text for _, _, _, text, _ in ENTITIES] + ["He sat on the bank of the river.", "Paris is in France."]


def test_linker_neural_mode_takes_a_student_folder(tmp_path):
    kg = build_fixture_graph(tmp_path / "graph")
    tokenizer = train_wordpiece(TEXTS * 5, vocab_size=200, min_frequency=1)
    torch.manual_seed(0)
    teacher = Encoder(tiny("bert", vocab_size=tokenizer.vocab_size, num_layers=4, pad_token_id=tokenizer.pad_id,
                           max_positions=128))  # the linker encodes up to 128 wordpieces
    student, _ = build_student(teacher, StudentSpec(num_layers=2))
    folder = save_student(student, tokenizer, tmp_path / "student", {"method": "test"})
    linker = EntityLinker.from_graph(kg, "neural", encoder=str(folder))
    assert linker.encoder.dim == 32 and linker.encoder.encoder.config.num_layers == 2
    links = linker.link("He sat on the bank of the river.")
    assert any(link.surface == "bank" for link in links)
    # the student's entity embeddings were not written over MiniLM's cache beside the graph
    assert not (kg.path / "linker" / "embeddings.safetensors").exists()

    # the same folder through the CLI; --encoder without neural mode is refused with the fix
    from kgnlu.cli import main

    assert main(["link", str(kg.path), "He sat on the bank of the river.", "--mode", "neural",
                 "--encoder", str(folder), "--json"]) == 0
    assert main(["link", str(kg.path), "a bank", "--encoder", str(folder)]) == 2


def test_fusion_wraps_a_student(tmp_path):
    torch.manual_seed(0)
    teacher = Encoder(tiny("bert", num_layers=4))
    student, _ = build_student(teacher, StudentSpec(num_layers=2))
    fused = KGEncoder(student, torch.randn(5, 8), {1: "kar"})
    ids = torch.randint(1, 97, (2, 6))
    with torch.no_grad():
        plain = student.eval()(ids).last_hidden_state
        wrapped = fused.eval()(ids).last_hidden_state  # no entities: the student's own forward
    assert torch.allclose(plain, wrapped)
