"""Relation phrases from the graph's own words (kgnlu.qa.phrasing): relation words from the label or
IRI local name, the five grammatical styles and which way each direction reads, question frames,
participles, plurals, verb bases. Checked with suffix rules and with a tiny WordNet (``lexicon``)."""

from __future__ import annotations

import pytest

from kgnlu.qa import phrasing
from kgnlu.qa.curated_phrases import PHRASES, QUESTIONS
from kgnlu.qa.phrasing import (
    STYLES,
    fill,
    participle,
    pluralise,
    relation_words,
    split_words,
    step_phrases,
    style_of,
    style_phrases,
    verb_base,
)
from tests.qa.people_graph import EX


class FakeGraph:
    """Relations by (external id, stored label): what relation_words reads."""

    def __init__(self, *relations):
        self.relations = relations

    def relation_id(self, r):
        return self.relations[r][0]

    def relation_label(self, r):
        return self.relations[r][1]


# (relation words, style, a triple (head, tail) it states, forward phrase from head, inverse from tail):
# the module table's examples; "the" + type word "thing"
STYLE_CASES = [
    ("capital", "noun", ("France", "Paris"), "the capital of France", "the thing whose capital is Paris"),
    ("has maintainer", "has-noun", ("curl", "Ann"), "the maintainer of curl", "the thing whose maintainer is Ann"),
    ("part of", "noun-of", ("wheel", "car"), "the thing wheel is a part of", "the parts of car"),
    ("member of", "noun-of", ("Britain", "UN"), "the thing Britain is a member of", "the members of UN"),
    ("depends on", "verb", ("curl", "zlib"), "the thing curl depends on", "the thing that depends on zlib"),
    ("works for", "verb", ("Ada", "Acme"), "the thing Ada works for", "the thing that works for Acme"),
    ("located in", "state", ("Lyon", "France"), "the thing Lyon is located in", "the thing that is located in France"),
    ("born in", "state", ("Ada", "London"), "the thing Ada is born in", "the thing that is born in London"),
    ("made of", "state", ("table", "oak"), "the thing table is made of", "the thing that is made of oak"),
]


@pytest.mark.parametrize(("words", "style", "triple", "forward", "inverse"), STYLE_CASES)
def test_each_style_reads_both_directions_the_right_way_round(lexicon, words, style, triple, forward, inverse):
    found, core = style_of(words)
    assert found == style
    (head, tail) = triple
    assert fill(style_phrases(found, core, True)[0][0], head, "") == forward
    assert fill(style_phrases(found, core, False)[0][0], tail, "") == inverse


@pytest.mark.parametrize("style", STYLES)
def test_every_phrase_and_question_holds_the_topic_once(lexicon, style):
    core = {"noun": "capital", "has-noun": "maintainer", "noun-of": "part", "verb": "depends on",
            "state": "located in"}[style]
    for forward in (True, False):
        nps, questions = style_phrases(style, core, forward)
        assert nps and questions and len(set(nps)) == len(nps) and len(set(questions)) == len(questions)
        for text in (*nps, *questions):
            assert text.count("{x}") == 1, text
        assert all(not p.endswith(("?", ".")) for p in nps)
        assert all(q.endswith(("?", ".")) for q in questions)
    assert set(style_phrases(style, core, True)[0]) != set(style_phrases(style, core, False)[0])


def test_question_frames_put_the_topic_where_the_grammar_needs_it(lexicon):
    _, forward = style_phrases("verb", "depends on", True)
    _, inverse = style_phrases("verb", "depends on", False)
    assert "What does {x} depend on?" in forward and "What depends on {x}?" in inverse
    assert "What depends on {x}?" not in forward
    _, past = style_phrases("verb", "founded", True)
    assert "What did {x} found?" in past
    _, has = style_phrases("has-noun", "maintainer", False)
    assert "What has {x} as its maintainer?" in has


@pytest.mark.parametrize(("words", "expected"), [
    ("has maintainer", ("has-noun", "maintainer")),
    ("is part of", ("noun-of", "part")),  # a leading copula is grammar
    ("pre-depends on", ("verb", "pre-depends on")),  # read as "depends"
    ("has office in", ("verb", "has office in")),  # "the thing x has an office in"
    ("founded", ("verb", "founded")),
    ("invented", ("verb", "invented")),
    ("teaches", ("verb", "teaches")),
    ("author", ("noun", "author")),
    ("", ("noun", "")),
])
def test_style_of(lexicon, words, expected):
    assert style_of(words) == expected


def test_wordnet_tells_nouns_from_verbs_where_suffix_rules_cannot(tiny_lexicon):
    assert style_of("works") == ("noun", "works")  # a noun lemma (a factory), not "x works y"
    assert style_of("office in") == ("verb", "has office in")  # a noun before a preposition: has an office in
    assert phrasing.is_verb_form("depends") and not phrasing.is_verb_form("capital")


def test_participles_verb_bases_and_plurals(lexicon):
    assert [participle(v) for v in ("provide", "carry", "depend")] == ["provided", "carried", "depended"]
    assert [verb_base(v) for v in ("depends", "teaches", "has", "carries", "uses", "goes", "walk")] == \
        ["depend", "teach", "have", "carry", "use", "go", "walk"]
    assert [pluralise(n) for n in ("city", "box", "key", "person", "motor vehicle", "church", "")] == \
        ["cities", "boxes", "keys", "people", "motor vehicles", "churches", ""]


def test_irregular_participles_come_from_wordnet(tiny_lexicon):
    assert participle("write") == "written" and participle("teach") == "taught"


def test_split_words_and_fill():
    assert [split_words(n) for n in ("dependsOn", "has_part", "US-state", "born_in")] == \
        ["depends on", "has part", "US state", "born in"]
    assert fill("Which {ts} are {t}s of {x}?", "curl", "package") == "Which packages are packages of curl?"
    assert fill("the {t} {x} is in", "Lyon", "") == "the thing Lyon is in"
    assert fill("the {t} of {x}", "{t} {x}", "city") == "the city of {t} {x}"  # a label with braces stays text


def test_relation_words_prefer_a_label_to_the_local_name():
    kg = FakeGraph((EX + "dependsOn", EX + "dependsOn"),  # no label: relation_label falls back to the id
                   (EX + "bornIn", "born in"),  # the label equals the local name in words
                   (EX + "employer", "worked for"),  # a real label
                   (EX + "p1", "hasPart"),  # a label written as an identifier
                   ("wnrel:sense/antonym", "antonym (word sense)"))
    assert relation_words(kg, 0) == ("depends on", "local name")
    assert relation_words(kg, 1) == ("born in", "local name")
    assert relation_words(kg, 2) == ("worked for", "label")
    assert relation_words(kg, 3) == ("has part", "label")
    assert relation_words(kg, 4)[0] == "antonym"


def test_step_phrases_are_curated_for_kgnlu_vocabularies_and_read_from_the_graph_otherwise(lexicon, qa_graph,
                                                                                           people_graph):
    capital = qa_graph.relation_index("gnrel:capital")
    for forward in (True, False):
        step = step_phrases(qa_graph, capital, forward)
        assert (step.style, step.source) == ("curated", "curated")
        assert step.noun_phrases == PHRASES["gnrel:capital", forward]
        assert step.questions == QUESTIONS["gnrel:capital", forward]
    born = step_phrases(people_graph, people_graph.relation_index(EX + "bornIn"), True)
    assert (born.words, born.style, born.source) == ("born in", "state", "local name")
    works = step_phrases(people_graph, people_graph.relation_index(EX + "worksFor"), False)
    assert (works.words, works.style) == ("works for", "verb")  # its label is its local name in words
    assert "What works for {x}?" in works.questions
    typed = step_phrases(people_graph, people_graph.relation_index("rdf:type"), True)
    assert typed.source == "curated" and "the type of {x}" in typed.noun_phrases
