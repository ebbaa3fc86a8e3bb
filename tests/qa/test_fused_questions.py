"""A KGEncoder as the QA question encoder: each text's linked entities reach it (aligned as fusion
pretraining aligns them), a plain Encoder's path is unchanged, and a QA model trained with a fused
encoder saves, loads (API and ``kgnlu qa train --encoder``) and answers the same."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from kgnlu.errors import QAError
from kgnlu.qa.question import QuestionEncoder
from tests.fusion.conftest import perturb_norms
from tests.qa.qa_graph import ext

LINKED = "Which country is Lyon in?"  # "Lyon" links to the fixture graph's city
UNLINKED = "zzz qqq what is it?"  # nothing the linker can link
TEXTS = [LINKED, "What is the capital of Kenya?", UNLINKED, "Which continent is Fiji on?", ""]
ENTITY_SIZE = 12


def fused_encoder(qa_graph, vocab_size: int, seed: int = 0, table_seed: int = 1):
    """A 2-layer BERT (H=32) with KAR after layer 1 over a random (E, 12) table, one row per graph entity."""
    from kgnlu.encoders import Encoder, EncoderConfig
    from kgnlu.fusion import KGEncoder

    torch.manual_seed(seed)
    encoder = Encoder(EncoderConfig.bert(vocab_size=vocab_size, hidden_size=32, num_layers=2, num_heads=2,
                                         ffn_size=64, max_positions=128))
    table = torch.randn(qa_graph.num_entities, ENTITY_SIZE, generator=torch.Generator().manual_seed(table_seed))
    fused = KGEncoder(encoder, table, {1: "kar"}, freeze_entities=True)
    perturb_norms(fused)  # trained-like LayerNorms, so a wrongly touched token would show
    return fused.eval()


@pytest.fixture(scope="module")
def fused(qa_graph, tiny_text_model):
    _, tokenizer = tiny_text_model
    return fused_encoder(qa_graph, tokenizer.vocab_size), tokenizer


def test_the_linker_sees_what_these_tests_assume(qa_linker):
    linked, unlinked = list(qa_linker.link_batch([LINKED, UNLINKED]))
    assert [link.surface for link in linked] == ["Lyon"] and unlinked == []


def test_linked_entities_reach_the_encoder_aligned_on_their_wordpieces(fused, qa_linker, qa_graph):
    encoder, tokenizer = fused
    seen = []
    hook = encoder.register_forward_pre_hook(lambda _m, _args, kwargs: seen.append(kwargs["entities"]),
                                             with_kwargs=True)
    try:
        QuestionEncoder(encoder, tokenizer, linker=qa_linker).encode([LINKED])
    finally:
        hook.remove()
    (entities,) = seen
    assert entities.entity_mask.tolist() == [[True]]
    assert int(entities.entity_ids[0, 0]) == qa_graph.index_of(ext("Lyon"))  # rows = the graph's internal ids
    start, end = entities.spans[0, 0].tolist()
    ids = tokenizer.encode_batch([LINKED], max_length=128).input_ids[0]
    assert tokenizer.backend.decode(ids[start:end].tolist()) == "lyon"
    assert 0.0 < float(entities.weights[0, 0]) <= 1.0
    assert bool(entities.candidate_mask[0, 0, 0]) and int(entities.candidate_ids[0, 0, 0]) >= 0


def test_the_vectors_change_with_the_entity_table_only_where_a_mention_is_linked(fused, qa_linker, qa_graph):
    encoder, tokenizer = fused
    before = QuestionEncoder(encoder, tokenizer, linker=qa_linker).encode([LINKED, UNLINKED])
    other = fused_encoder(qa_graph, tokenizer.vocab_size, table_seed=2)  # same weights, another table
    after = QuestionEncoder(other, tokenizer, linker=qa_linker).encode([LINKED, UNLINKED])
    assert float(np.abs(before[0] - after[0]).max()) > 1e-3
    np.testing.assert_allclose(before[1], after[1], atol=1e-6)


def test_a_text_without_a_linkable_mention_is_embedded_as_without_entities(fused, qa_linker):
    encoder, tokenizer = fused
    with_linker = QuestionEncoder(encoder, tokenizer, linker=qa_linker)
    without = QuestionEncoder(encoder, tokenizer)  # no linker: a KGEncoder is its plain encoder
    assert with_linker.fused and not without.fused
    # in a batch beside linked texts (the unlinked row still runs through the injection) and alone
    batch = with_linker.encode(TEXTS)
    np.testing.assert_allclose(batch[2], without.encode([UNLINKED])[0], atol=1e-5)
    np.testing.assert_allclose(with_linker.encode([UNLINKED])[0], without.encode([UNLINKED])[0], atol=1e-5)
    assert float(np.abs(batch[0] - without.encode([LINKED])[0]).max()) > 1e-3


def test_fused_vectors_are_unit_rows_independent_of_the_batch(fused, qa_linker):
    encoder, tokenizer = fused
    questions = QuestionEncoder(encoder, tokenizer, linker=qa_linker, batch_size=2)
    vectors = questions.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(questions.encode([text])[0], vectors[i], atol=1e-5)
    assert questions.encode([]).shape == (0, 32)


def test_a_plain_encoder_keeps_todays_path(tiny_text_model, qa_linker):
    from kgnlu.kg.linker.dense_index import TextEncoder

    encoder, tokenizer = tiny_text_model
    questions = QuestionEncoder(encoder, tokenizer, linker=qa_linker)
    assert not questions.fused
    np.testing.assert_array_equal(questions.encode(TEXTS), TextEncoder(encoder, tokenizer).encode(TEXTS))


def test_an_entity_table_of_another_graph_is_refused(qa_graph, qa_linker, tiny_text_model):
    from kgnlu.encoders import Encoder, EncoderConfig
    from kgnlu.fusion import KGEncoder

    _, tokenizer = tiny_text_model
    encoder = Encoder(EncoderConfig.bert(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=1,
                                         num_heads=2, ffn_size=64, max_positions=128))
    wrong = KGEncoder(encoder, torch.randn(qa_graph.num_entities + 3, ENTITY_SIZE), {1: "kar"})
    with pytest.raises(QAError, match="entity table has"):
        QuestionEncoder(wrong, tokenizer, linker=qa_linker)


SMALL_QA = dict(ensemble=1, epochs=3, batch_size=32, topic_examples=50, gnn_examples=20, threads=1, hidden=64,
                lexical_variants=0, path_text_scale=0.0, augment_repeat=0, reranker=False)
ASKED = ["Which country is Lyon in?", "What is the capital of Kenya?", "Which continent is Fiji on?",
         "Which countries border France?"]


def _ranked(qa):
    return [[(a.entity, round(a.score, 5)) for a in answers] for answers in qa.answer_batch(ASKED, k=3)]


def test_a_qa_model_with_a_fused_encoder_round_trips(qa_graph, qa_data, qa_linker, fused, tmp_path):
    from kgnlu.fusion import KGEncoder
    from kgnlu.qa import KGQA, QAConfig

    encoder, tokenizer = fused
    qa = KGQA(qa_graph, qa_linker, encoder=encoder, tokenizer=tokenizer, config=QAConfig(**SMALL_QA))
    assert qa.questions.fused
    qa.fit(qa_data, out=tmp_path / "model", log=lambda s: None)
    assert json.loads((tmp_path / "model" / "qa.json").read_text())["encoder"]["class"] == "KGEncoder"
    loaded = KGQA.load(tmp_path / "model", graph=qa_graph, linker=qa_linker)
    assert isinstance(loaded.encoder, KGEncoder) and loaded.questions.fused
    before = _ranked(qa)
    assert any(before)
    assert _ranked(loaded) == before


def test_qa_train_command_reads_a_kg_encoder_folder(qa_graph, qa_data, fused, tmp_path, capsys):
    from kgnlu.cli import main

    encoder, tokenizer = fused
    encoder.save_pretrained(tmp_path / "enc")
    tokenizer.save(tmp_path / "tok")
    out = tmp_path / "model"
    args = ["qa", "train", str(qa_graph.path), "--data", str(qa_data), "--out", str(out), "--encoder",
            str(tmp_path / "enc"), "--tokenizer", str(tmp_path / "tok"), "--json",
            *[f"qa.{k}={v}" for k, v in SMALL_QA.items()], "qa.epochs=1"]
    assert main(args) == 0
    capsys.readouterr()
    assert json.loads((out / "qa.json").read_text())["encoder"]["class"] == "KGEncoder"
    assert (out / "encoder" / "kg_encoder.json").is_file()
