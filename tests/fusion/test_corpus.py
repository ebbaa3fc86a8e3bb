"""The linked corpus on the linker's tiny graph: sentences from facts, links, held-out facts kept out, cache."""

from __future__ import annotations

import json

import pytest

from kgnlu.data.corpora import open_corpus
from kgnlu.data.probe_data import ProbeDataConfig, probe_facts
from kgnlu.fusion.corpus import (
    CoMentionFilter,
    LinkedCorpusConfig,
    build_linked_corpus,
    geonames_descriptions,
    interleave,
    read_linked,
    read_probe_facts,
)
from tests.kg.linker_graph import build_fixture_graph


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return build_fixture_graph(tmp_path_factory.mktemp("fusion-corpus") / "graph")


def config(heldout: float) -> LinkedCorpusConfig:
    return LinkedCorpusConfig(wordnet_dir=None, probe=ProbeDataConfig(heldout_fraction=heldout))


def texts(folder) -> list[str]:
    return [r["text"] for r in read_linked(folder)]


def test_descriptions_state_graph_facts(graph):
    records = dict(geonames_descriptions(graph, config(0.0)))
    paris = " ".join(records["geo:paris_fr"])
    assert "Paris" in paris and "France" in paris and "2,138,551" in paris
    texas = " ".join(records["geo:texas"])
    assert "United States" in texas and "state" in texas
    assert "geo:london" not in records  # no facts and no population: nothing to say


def test_records_are_linked_with_exact_offsets(graph, tmp_path):
    meta = build_linked_corpus(graph, tmp_path / "linked", config(0.0))
    records = list(read_linked(tmp_path / "linked"))
    assert meta["records"] == len(records) > 0
    assert meta["links"] == sum(len(r["links"]) for r in records) > 0
    for record in records:
        for link in record["links"]:
            assert record["text"][link["start"]:link["end"]] == link["surface"]
            assert link["candidates"] and link["candidates"][0]["entity"]
        assert record["entities"] == [[x["start"], x["end"], x["entity"]] for x in record["links"]]
    paris = next(r for r in records if r["id"] == "geo:paris_fr")
    france = [x for x in paris["links"] if x["surface"] == "France"]
    assert france and france[0]["entity"] == "geo:france"


def test_heldout_facts_never_appear_in_the_text(graph, tmp_path):
    everything = texts_with(graph, tmp_path / "all", 0.0)
    assert any("Paris" in t and "France" in t for t in everything)
    build_linked_corpus(graph, tmp_path / "held", config(1.0))
    facts = read_probe_facts(tmp_path / "held")
    assert facts and all(f.split == "heldout" for f in facts)
    pairs = {(f.subject_label.lower(), f.answer_label.lower()) for f in facts}
    assert ("paris", "france") in pairs
    for text in texts(tmp_path / "held"):
        for sentence in text.split(". "):
            low = sentence.lower()
            assert not any(s in low and a in low for s, a in pairs), sentence
    assert json.loads((tmp_path / "held" / "meta.json").read_text())["sentences_dropped_for_heldout_facts"][
        "geonames"] > 0


def texts_with(graph, folder, heldout):
    build_linked_corpus(graph, folder, config(heldout))
    return texts(folder)


def test_cached_folder_is_reused_and_rebuilt_on_change(graph, tmp_path):
    folder = tmp_path / "linked"
    build_linked_corpus(graph, folder, config(0.0))
    stamp = (folder / "corpus.jsonl").stat().st_mtime_ns
    build_linked_corpus(graph, folder, config(0.0))
    assert (folder / "corpus.jsonl").stat().st_mtime_ns == stamp
    build_linked_corpus(graph, folder, config(1.0))
    assert (folder / "corpus.jsonl").stat().st_mtime_ns != stamp


def test_text_corpus_reads_the_entity_spans(graph, tmp_path):
    build_linked_corpus(graph, tmp_path / "linked", config(0.0))
    documents = list(open_corpus("text", paths=[str(tmp_path / "linked" / "corpus.jsonl")]))
    spans = [(doc.sentences[i][s.start:s.end], s.entity) for doc in documents
             for i, sentence_spans in enumerate(doc.entities) for s in sentence_spans]
    assert ("France", "geo:france") in spans


def test_co_mention_filter():
    keep = CoMentionFilter([("Paris", "France"), ("New York City", "United States")])
    assert not keep.allows("Paris is the capital of France.")
    assert not keep.allows("france, as seen from PARIS")
    assert keep.allows("Paris is a city in Texas.")
    assert keep.allows("Parisians love France.")  # a word boundary, not a prefix
    assert not keep.allows("New York City lies in the United States.")
    assert keep.allows("New York lies in the United States.")
    assert CoMentionFilter([]).allows("anything at all")


def test_interleave_keeps_proportion_and_order():
    merged = list(interleave(["a1", "a2"], ["b1", "b2", "b3", "b4"]))
    assert merged == ["b1", "a1", "b2", "b3", "a2", "b4"]
    assert list(interleave([], [1, 2])) == [1, 2]


def test_probe_facts_are_deterministic_and_split(graph):
    first = probe_facts(graph, ProbeDataConfig(heldout_fraction=0.5))
    assert first == probe_facts(graph, ProbeDataConfig(heldout_fraction=0.5))
    by_relation = {(f.relation, f.subject_label): f.answer_label for f in first}
    assert by_relation[("city_country", "Paris")] in ("France", "United States")
    assert by_relation[("us_state", "New York City")] == "New York"
    assert all(f.answer_label in f.answers for f in first)
