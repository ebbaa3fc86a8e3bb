"""QA fixtures: the tiny geography/WordNet-like graph, its QA data, a tiny encoder, a trained KGQA."""

from __future__ import annotations

import json

import pytest
import torch

from tests.qa.qa_graph import build_qa_graph, make_qa_data


@pytest.fixture(scope="session")
def qa_graph(tmp_path_factory):
    return build_qa_graph(tmp_path_factory.mktemp("qa") / "graph")


@pytest.fixture(scope="session")
def wn_geo_graph(tmp_path_factory):
    """The WordNet + GeoNames-shaped make-qa fixture (tests/qa/wn_geo_graph.py)."""
    from tests.qa.wn_geo_graph import build_wn_geo_graph

    return build_wn_geo_graph(tmp_path_factory.mktemp("wn_geo") / "graph")


@pytest.fixture(scope="session")
def tiny_wordnet_lookup(tmp_path_factory):
    from tests.kg.wordnet_dict import tiny_wordnet

    return tiny_wordnet(tmp_path_factory.mktemp("wordnet"))


@pytest.fixture(params=["rules", "wordnet"])
def lexicon(request, monkeypatch, tiny_wordnet_lookup):
    """Parts of speech from suffix rules (no WordNet installed) or from a tiny WordNet the tests
    write (tests/kg/wordnet_dict.py): QA wording is checked both ways, whatever this machine has."""
    import kgnlu.qa.phrasing as phrasing

    wn = None if request.param == "rules" else tiny_wordnet_lookup
    monkeypatch.setattr(phrasing, "_wordnet", lambda: wn)
    return wn


@pytest.fixture
def tiny_lexicon(monkeypatch, tiny_wordnet_lookup):
    """The tiny WordNet as QA's WordNet (professor → educator → person, city → location, ...)."""
    import kgnlu.qa.phrasing as phrasing

    monkeypatch.setattr(phrasing, "_wordnet", lambda: tiny_wordnet_lookup)
    return tiny_wordnet_lookup


@pytest.fixture(scope="session")
def qa_data(tmp_path_factory):
    return make_qa_data(tmp_path_factory.mktemp("qa") / "data")


@pytest.fixture(scope="session")
def tiny_text_model(qa_data, qa_graph):
    """A 1-layer BERT (H=32) with a WordPiece trained on the fixture's questions."""
    from kgnlu.data.tokenizer import train_wordpiece
    from kgnlu.encoders import Encoder, EncoderConfig

    texts = [json.loads(line)["question"] for split in ("train", "dev", "test", "paraphrase_dev")
             for line in (qa_data / f"{split}.jsonl").read_text().splitlines()]
    texts += [qa_graph.relation_label(r) for r in range(qa_graph.num_relations)] * 2
    tokenizer = train_wordpiece(texts, vocab_size=400, min_frequency=1)
    torch.manual_seed(0)
    encoder = Encoder(EncoderConfig.bert(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=1,
                                         num_heads=2, ffn_size=64, max_positions=128))
    return encoder.eval(), tokenizer


@pytest.fixture(scope="session")
def qa_linker(qa_graph):
    from kgnlu.kg.linker import EntityLinker

    return EntityLinker.from_graph(qa_graph, mode="fast", save=False)


# lexical_variants=0: the tiny encoder's 400-piece vocabulary comes from the fixture's questions, so
# WordNet rewordings would be mostly unknown pieces (tests/qa/test_lexical.py trains with them); the
# zero-shot path expert is off for the same reason: its cosines need a real sentence encoder
# (test_qa_cli.py::test_train_command_writes_a_model_that_answers trains with it); the cross-encoder
# reranker is off: it fine-tunes the packaged MiniLM (minutes on CPU), tests/qa/test_reranker.py trains
# one over the tiny encoder instead
TINY_QA = dict(ensemble=2, epochs=30, batch_size=32, topic_examples=300, gnn_examples=300, threads=1, hidden=128,
               lexical_variants=0, path_text_scale=0.0, augment_repeat=0, reranker=False)


@pytest.fixture(scope="session")
def trained(qa_graph, qa_data, qa_linker, tiny_text_model, tmp_path_factory):
    """(KGQA trained on the fixture, its training report, the saved model folder)."""
    from kgnlu.qa import KGQA, QAConfig

    encoder, tokenizer = tiny_text_model
    qa = KGQA(qa_graph, qa_linker, encoder=encoder, tokenizer=tokenizer, config=QAConfig(**TINY_QA))
    out = tmp_path_factory.mktemp("qa") / "model"
    report = qa.fit(qa_data, out=out, log=lambda s: None)
    return qa, report, out
