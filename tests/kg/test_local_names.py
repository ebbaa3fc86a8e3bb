"""Graphs without labels: IRI local names as words (kgnlu.kg.namespaces), unlabelled entities named
by the builder ("AdaLovelace" → "Ada Lovelace", linkable), relations read "born in" for ex:bornIn."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgnlu.kg.namespaces import local_name, name_words

TURTLE = """
@prefix ex: <http://example.org/people#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

ex:AdaLovelace ex:bornIn ex:London ; ex:worksWith ex:charles_babbage .
ex:London rdfs:label "London town" ; ex:has_part ex:Westminster .
ex:charles_babbage ex:bornIn ex:London .
ex:Westminster skos:altLabel "City of Westminster" .
ex:12345 ex:bornIn ex:London .
_:someone ex:bornIn ex:London .
ex:worksWith rdfs:label "collaborated with" .
"""


@pytest.mark.parametrize(("iri", "local"), [
    ("http://example.org/ns#dependsOn", "dependsOn"),
    ("http://example.org/people/AdaLovelace", "AdaLovelace"),
    ("http://example.org/things/", "things"),
    ("ex:bornIn", "bornIn"),
    ("wn:02084071-n", "02084071-n"),
    ("nations:south%20korea", "south korea"),
    ("plain", "plain"),
])
def test_local_name(iri, local):
    assert local_name(iri) == local


@pytest.mark.parametrize(("name", "words"), [
    ("AdaLovelace", "Ada Lovelace"),
    ("bornIn", "born In"),  # case kept: lowercasing is the reader's choice
    ("has_part", "has part"),
    ("US-state", "US state"),
    ("HTTPServer", "HTTP Server"),
    ("located_in__country", "located in country"),
    ("release2Date", "release2 Date"),
    ("", ""),
])
def test_name_words(name, words):
    assert name_words(name) == words


IDENTIFIER = st.text(alphabet="abcXYZ019_-. ", max_size=20)


@given(IDENTIFIER)
def test_name_words_keeps_every_character_but_separators(name):
    words = name_words(name)
    assert words == words.strip() and "  " not in words
    assert not set(words) & set("_-.")
    assert words.replace(" ", "") == re.sub(r"[_\-.\s]+", "", name)


@given(st.lists(st.text(alphabet="abcXY019_-.", min_size=1, max_size=8), min_size=1, max_size=4),
       st.sampled_from(["http://example.org/", "urn:x:", "ex:"]), st.sampled_from(["/", "#", ""]))
def test_local_name_is_the_last_segment(segments, base, trailing):
    iri = base + "/".join(segments) + trailing
    assert local_name(iri) == segments[-1]


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    folder = tmp_path_factory.mktemp("names")
    (folder / "people.ttl").write_text(TURTLE, encoding="utf-8")
    return KnowledgeGraph.load(build_graph([str(folder / "people.ttl")], folder / "graph", store=False))


def test_unlabelled_entities_are_named_by_their_local_name_and_linkable(people):
    kg = people
    ada = kg.index_of("http://example.org/people#AdaLovelace")
    babbage = kg.index_of("http://example.org/people#charles_babbage")
    assert kg.entity_label(ada) == "Ada Lovelace" and kg.entity_label(babbage) == "charles babbage"
    assert [e for e, _ in kg.aliases("Ada Lovelace")] == [ada]
    assert [e for e, _ in kg.aliases("ada lovelace")] == [ada]
    assert kg.lookup("Charles Babbage") == babbage


def test_labels_aliases_blank_nodes_and_numbers_are_left_alone(people):
    kg = people
    london = kg.index_of("http://example.org/people#London")
    assert kg.entity_label(london) == "London town"
    assert kg.aliases("London") == []  # a label is not joined by the local name
    westminster = kg.index_of("http://example.org/people#Westminster")
    assert [e for e, _ in kg.aliases("City of Westminster")] == [westminster]
    assert kg.entity_label(westminster) == "" and kg.aliases("Westminster") == []  # its own alias names it
    number = kg.index_of("http://example.org/people#12345")
    assert kg.entity_label(number) == "" and not kg.aliases("12345")  # no word in the id
    blank = [e for e in range(kg.num_entities) if kg.entity_id(e).startswith("_:")]
    assert blank and all(kg.entity_label(e) == "" for e in blank)


def test_relation_labels_fall_back_to_local_names_in_words(people):
    kg = people
    label = {kg.relation_id(r): kg.relation_label(r) for r in range(kg.num_relations)}
    assert label["http://example.org/people#bornIn"] == "born in"
    assert label["http://example.org/people#has_part"] == "has part"
    assert label["http://example.org/people#worksWith"] == "collaborated with"  # rdfs:label wins
