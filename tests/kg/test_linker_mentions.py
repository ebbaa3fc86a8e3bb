"""Mention detection: longest match, case folding, variants, stop words, NER spans, overlaps."""

from __future__ import annotations

import pytest
import spacy

from kgnlu.kg.linker.mentions import Mention, Morphology, resolve_overlaps
from tests.kg.linker_graph import build_fixture_graph


@pytest.fixture(scope="module")
def linker(tmp_path_factory):
    from kgnlu.kg.linker import EntityLinker

    kg = build_fixture_graph(tmp_path_factory.mktemp("lk") / "fixture")
    return EntityLinker.from_graph(kg, mode="fast")


def spans(linker, text):
    doc = linker.nlp.tokenizer(text)
    return [(text[m.start:m.end], m.fuzzy) for m in linker.detector.detect(doc, fuzzy=False)]


def test_longest_match_wins(linker):
    assert spans(linker, "I love New York City in winter.") == [("New York City", False)]
    assert [s for s, _ in spans(linker, "New York is big.")] == ["New York"]


def test_case_folding_and_whitespace(linker):
    assert [s for s, _ in spans(linker, "we saw NEW   YORK city")] == ["NEW   YORK city"]


def test_plural_variant_and_stop_words(linker):
    found = [s for s, _ in spans(linker, "The dogs sat by the banks with us.")]
    assert found == ["dogs", "banks"]  # "us" (a stop word) is not the United States
    assert [s for s, _ in spans(linker, "Made in the US.")] == ["US"]


def test_bracketed_qualifier_is_not_part_of_a_name(linker):
    assert [s for s, _ in spans(linker, "Paris (Texas) is small.")] == ["Paris", "Texas"]


def test_morphology_exceptions_and_rules():
    m = Morphology({"n": {"geese": ["goose"], "attorneys_general": ["attorney_general"]}, "v": {"ran": ["run"]}})
    assert ("goose", "n") in {(v.key, v.pos) for v in m.variants("geese")}
    assert ("run", "v") in {(v.key, v.pos) for v in m.variants("ran")}
    keys = {(v.key, v.pos) for v in m.variants("banks")}
    assert {("bank", "n"), ("bank", "v")} <= keys
    assert ("good", "a") not in keys
    assert list(m.inflected_phrases()) == ["attorneys general"]
    assert ("attorney general", "n") in {(v.key, v.pos) for v in m.variants("attorneys general")}
    assert m.to_json() == Morphology.from_json(m.to_json()).to_json()


def test_ner_spans_are_linked_and_win_overlaps(linker):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "GPE", "pattern": "Paris Texas"}])
    doc = nlp("She lives in Paris Texas now.")
    mentions = linker.detector.detect(doc, use_ner=True, fuzzy=False)
    assert [(doc.text[m.start:m.end], m.from_ner) for m in mentions] == [("Paris Texas", True)]


def test_resolve_overlaps_prefers_longer_then_earlier():
    def m(a, b, ner=False):
        return Mention(a, b, a, b, [], False, False, from_ner=ner)

    kept = resolve_overlaps([m(0, 2), m(1, 4), m(4, 5), m(3, 5, ner=True)])
    assert [(x.start, x.end) for x in kept] == [(1, 4), (4, 5)]


def test_misspelt_capitalised_word_is_a_fuzzy_mention(linker):
    doc = linker.nlp.tokenizer("I flew to Londn today.")
    found = [(doc.text[m.start:m.end], m.fuzzy) for m in linker.detector.detect(doc)]
    assert ("Londn", True) in found
