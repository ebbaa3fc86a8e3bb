"""The linking evaluation: gold construction, splits, metrics, report, CLI."""

from __future__ import annotations

import json

import pytest
import spacy

from kgnlu.cli import main
from kgnlu.eval import linking as L
from kgnlu.kg.linker import EntityLinker
from kgnlu.kg.linker.mentions import Morphology
from tests.conftest import require_wordnet
from tests.kg.linker_graph import build_fixture_graph


@pytest.fixture(scope="module")
def kg(tmp_path_factory):
    return build_fixture_graph(tmp_path_factory.mktemp("ev") / "fixture")


def test_split_is_a_fixed_hash():
    assert L.split_of("wn:02084071-n") == L.split_of("wn:02084071-n")
    splits = [L.split_of(f"wn:{i:08d}-n") for i in range(2000)]
    assert 0.07 < splits.count("test") / len(splits) < 0.13


def test_lemma_found_with_morphology():
    nlp = spacy.blank("en")
    m = Morphology({"v": {"ran": ["run"]}, "n": {"geese": ["goose"]}})
    text = "The geese ran across the river banks."
    start, end = L._find_lemma(nlp.tokenizer(text), ["run"], "v", m)
    assert text[start:end] == "ran"
    start, end = L._find_lemma(nlp.tokenizer(text), ["bank"], "n", m)
    assert text[start:end] == "banks"
    assert L._find_lemma(nlp.tokenizer(text), ["bank"], "v", Morphology({})) is not None  # "banks" as a verb form
    assert L._find_lemma(nlp.tokenizer(text), ["dog"], "n", m) is None


def test_geonames_sentences_and_scores(kg):
    sentences = L.geonames_sentences(kg)
    assert {s.name for s in sentences} == {"paris"}  # the only name two regions share
    assert len(sentences) == 2
    for s in sentences:
        for start, end, ent in s.gold:
            assert s.text[start:end] == kg.entity_label(kg.index_of(ent))
    linker = EntityLinker.from_graph(kg, "fast")
    res = L.evaluate_geonames(linker, sentences)
    assert res["linking"]["f1"] == 1.0 and res["mention_detection"]["f1"] == 1.0
    prior = EntityLinker.from_graph(kg, "fast", weights=L.PRIOR_ONLY)
    assert L.evaluate_geonames(prior, sentences)["ambiguous_city_accuracy"] == 0.5


def test_prf():
    assert L._prf(2, 4, 2) == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3)}
    assert L._prf(0, 0, 3)["f1"] == 0.0


def test_wordnet_metrics_against_baselines(kg):
    linker = EntityLinker.from_graph(kg, "fast")
    examples = [L.SenseExample("They sat on the bank of the river.", 16, 20, "wn:00000002-n", "test"),
                L.SenseExample("She put money in the bank as deposits.", 21, 25, "wn:00000003-n", "test")]
    res = L.evaluate_wordnet(linker, examples)
    assert res["open"]["accuracy"] == 1.0
    assert res["open"]["mfs_accuracy"] == 0.5  # the prior picks the river bank both times
    assert res["open"]["random_accuracy"] == pytest.approx(1 / 3)
    assert res["pos_given"]["random_accuracy"] == pytest.approx(1 / 2)
    md = L.markdown_report({"graph": "g", "split": "test", "heldout_percent": 10, "tasks": {
        "wordnet": {"examples": 2, "synsets": 2, "fast": res}}})
    assert "| fast | open | 1.000 | 0.500 |" in md


def test_cli_eval_link_geonames(kg, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["eval", "link", str(kg.path), "--task", "geonames", "--mode", "fast",
                 "--split", "dev", "--out", str(out)]) == 0
    report = json.loads((out / "linking.json").read_text())
    assert "geonames" in report["tasks"] and "fast" in report["tasks"]["geonames"]
    assert (out / "linking.md").read_text().startswith("# Entity linking evaluation")


@pytest.mark.data
def test_real_wordnet_examples_have_gold_spans():
    directory = require_wordnet()
    from kgnlu.kg.sources.wordnet_format import read_exceptions

    examples = L.wordnet_examples(directory, spacy.blank("en"), Morphology(read_exceptions(directory)))
    assert len(examples) > 40_000
    for ex in examples[:2000]:
        assert 0 <= ex.start < ex.end <= len(ex.text)
    assert {ex.split for ex in examples} == {"dev", "test"}
