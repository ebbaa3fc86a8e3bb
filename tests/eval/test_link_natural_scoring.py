"""Scoring the hand-written linking sets (kgnlu.eval.link_natural_scoring): accuracy on gold spans,
NIL precision/recall, the prior baseline, reports without test predictions, the set graph cache and
``kgnlu eval link --set``. A tiny set and Turtle graph written here; the shipped sets' test split is
never scored by a test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgnlu.cli import main
from kgnlu.eval import link_natural_scoring as S
from kgnlu.eval import natural_link as N
from kgnlu.eval.natural_link import GoldMention, LinkSentence
from kgnlu.kg.linker.link import Link

EX = "http://example.org/tiny#"
TURTLE = """@prefix ex: <http://example.org/tiny#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Person rdfs:label "person" .
ex:Orchestra rdfs:label "orchestra" .
ex:karajan a ex:Person ; rdfs:label "Herbert von Karajan" ; ex:leads ex:bpo .
ex:solti a ex:Person ; rdfs:label "Georg Solti" ; ex:leads ex:cso .
ex:bpo a ex:Orchestra ; rdfs:label "Berlin Philharmonic Orchestra" ; ex:basedIn ex:berlin .
ex:cso a ex:Orchestra ; rdfs:label "Chicago Symphony Orchestra" .
ex:berlin rdfs:label "Berlin" .
"""
SENTENCES = [
    ("t-1", "Karajan led the Berlin Philharmonic Orchestra for decades.",
     [("Karajan", EX + "karajan"), ("Berlin Philharmonic Orchestra", EX + "bpo")]),
    ("t-2", "Solti and Kirill Petrenko never met in Berlin.",
     [("Solti", EX + "solti"), ("Kirill Petrenko", None), ("Berlin", EX + "berlin")]),
    ("t-3", "Lang Lang played with the Chicago Symphony.",
     [("Lang Lang", None), ("Chicago Symphony", EX + "cso")]),
]


def sentence(sid: str, text: str, mentions, split: str = "dev") -> LinkSentence:
    gold = tuple(GoldMention(text.index(s), text.index(s) + len(s), s, g) for s, g in mentions)
    return LinkSentence(sid, text, gold, split)


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory) -> Path:
    """A set folder like kgnlu/eval/natural/: tiny.jsonl (both splits) and graphs/tiny.ttl."""
    folder = tmp_path_factory.mktemp("natural")
    (folder / "graphs").mkdir()
    (folder / "graphs" / "tiny.ttl").write_text(TURTLE, encoding="utf-8")
    lines = []
    for split in ("dev", "test"):
        for sid, text, mentions in SENTENCES:
            s = sentence(f"{sid}-{split}", text, mentions, split)
            lines.append(json.dumps({"id": s.id, "text": s.text, "split": split, "mentions": [
                {"start": m.start, "end": m.end, "surface": m.surface, "gold": m.gold} for m in s.mentions]}))
    (folder / "tiny.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def with_tiny(tiny_set, tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(N, "SETS_DIR", tiny_set)
    monkeypatch.setitem(N.SETS, "tiny", ("tiny.jsonl", "graphs/tiny.ttl"))
    monkeypatch.setenv("KGNLU_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_scores_family_names_nil_and_the_prior_baseline(with_tiny):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker, Weights

    kg = KnowledgeGraph.load(S.graph_for("tiny"))
    dev = [s for s in N.read_set("tiny") if s.split == "dev"]
    fast = S.score_sentences(EntityLinker.from_graph(kg, "fast"), "tiny", dev, keep_errors=True)
    assert (fast["sentences"], fast["mentions"], fast["entity_mentions"], fast["nil_mentions"]) == (3, 7, 5, 2)
    assert fast["accuracy"] == 1.0  # family names and a short orchestra name from the graph's short names
    assert fast["nil_recall"] == 1.0 and fast["nil_precision"] == 1.0 and fast["overall_accuracy"] == 1.0
    assert fast["errors"] == [] and fast["sentences_per_s"] > 0
    prior = S.score_sentences(EntityLinker.from_graph(kg, "fast", weights=Weights(**S.PRIOR_WEIGHTS)), "tiny", dev)
    assert prior["accuracy"] == 1.0 and "errors" not in prior  # nothing ambiguous here


def test_wrong_missing_and_nil_links_count_as_they_should():
    class FakeLinker:
        kg = None

        def __init__(self, links):
            self.links = links

        def link_batch(self, texts):
            return iter(self.links)

        def canonical_id(self, ext_id):
            return ext_id

    class FakeKG:
        def index_of(self, ext):
            return -1

    s = sentence("x-1", "Solti met Kirill Petrenko and Rattle.",
                 [("Solti", EX + "solti"), ("Kirill Petrenko", None), ("Rattle", EX + "rattle")])
    links = [[Link(0, 5, "Solti", EX + "karajan", 0.9, ()),  # wrong entity
              Link(10, 16, "Kirill", EX + "kirill", 0.5, ())]]  # a link over part of a NIL mention
    linker = FakeLinker(links)
    linker.kg = FakeKG()
    res = S.score_sentences(linker, "orchestras", [s], keep_errors=True)
    assert res["accuracy"] == 0.0 and res["unlinked_entity_mentions"] == 1
    assert res["nil_recall"] == 0.0 and res["nil_precision"] == 0.0  # the one unlinked mention (Rattle) is not NIL
    assert [(e["surface"], e["predicted"]) for e in res["errors"]] == [
        ("Solti", EX + "karajan"), ("Kirill Petrenko", EX + "kirill"), ("Rattle", None)]


def test_covering_link_and_scope():
    links = [Link(0, 5, "Paris", "wn:08932568-n", 0.9, ()), Link(0, 13, "Paris, Texas", "geonames:4717560", 0.8, ())]
    assert S._covering(links, 0, 5, S.in_scope("orchestras")).entity == "wn:08932568-n"  # first of equal overlaps
    assert S._covering(links, 0, 13, S.in_scope("wordnet")).entity == "geonames:4717560"  # the larger overlap
    assert S._covering(links[:1], 0, 5, S.in_scope("geonames")) is None  # a WordNet link covers no GeoNames span
    assert S._covering(links, 20, 25, S.in_scope("wordnet")) is None


def test_set_graph_is_built_once_and_rebuilt_when_the_rules_change(with_tiny, monkeypatch):
    from kgnlu.kg import short_names

    path = S.graph_for("tiny")
    assert path == with_tiny / "graphs" / "tiny"
    stamp = (path / "manifest.json").stat().st_mtime_ns
    assert S.graph_for("tiny") == path and (path / "manifest.json").stat().st_mtime_ns == stamp
    monkeypatch.setattr(short_names, "RULES_VERSION", "short-names/test")
    S.graph_for("tiny")
    manifest = json.loads((path / "manifest.json").read_text())
    assert "short-names/test" in {s["checksum"] for s in manifest["sources"]}


def test_default_graph_sets_need_the_default_graph(tmp_path):
    from kgnlu.errors import DataMissingError

    with pytest.raises(DataMissingError, match="default graph is not built"):
        S.graph_for("geonames", default_graph=tmp_path / "nowhere")


def test_cli_writes_reports_and_keeps_test_predictions_out(with_tiny, tmp_path, capsys):
    out = tmp_path / "reports"
    assert main(["eval", "link", "--set", "tiny", "--natural-split", "dev", "--mode", "fast", "--out", str(out)]) == 0
    dev = json.loads((out / "natural-dev.json").read_text())
    assert set(dev["sets"]["tiny"]["modes"]) == {"fast", "prior"}
    assert dev["sets"]["tiny"]["modes"]["fast"]["accuracy"] == 1.0
    assert "errors" in dev["sets"]["tiny"]["modes"]["fast"]
    md = (out / "natural-dev.md").read_text()
    assert md.startswith("# Entity linking on the hand-written sets (dev split)") and "| tiny | fast | 3 | 7 |" in md
    assert main(["eval", "link", "--set", "tiny", "--natural-split", "test", "--mode", "fast", "--out", str(out),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    test_report = (out / "natural-test.json").read_text()
    assert json.loads(test_report) == printed
    for text in (test_report, (out / "natural-test.md").read_text()):
        assert "errors" not in text and "Karajan" not in text and "Petrenko" not in text


def test_cli_refuses_unknown_sets_splits_and_nothing_to_do(with_tiny, tmp_path):
    assert main(["eval", "link", "--set", "nope", "--out", str(tmp_path)]) != 0
    assert main(["eval", "link", "--set", "tiny", "--natural-split", "train", "--out", str(tmp_path)]) != 0
    assert main(["eval", "link", "--out", str(tmp_path)]) != 0


def test_markdown_lists_parts_of_speech_and_dev_errors():
    row = {"sentences": 2, "mentions": 2, "entity_mentions": 2, "accuracy": 0.5, "given_span_accuracy": 1.0,
           "sentences_per_s": 10.0, "by_pos": {"n": {"mentions": 1, "accuracy": 1.0}, "v": {"mentions": 1, "accuracy": 0.0}},
           "errors": [{"id": "wn-1", "surface": "drove", "gold": "wn:01930874-v", "gold_label": "drive",
                       "predicted": "wn:08375526-n", "predicted_label": "drove", "predicted_span": "drove"}]}
    md = S.markdown_natural({"split": "dev", "sets": {"wordnet": {"modes": {"fast": row}}}})
    assert "| wordnet | fast | 2 | 2 | 0.500 | 1.000 | – | – | – | 10.0 |" in md
    assert "n: 1.000 (1), v: 0.000 (1)" in md
    assert "| wn-1 | drove | drive (`wn:01930874-v`) | drove (`wn:08375526-n`, over 'drove') |" in md
