"""The question's cues around its mentions, for any graph and model: the asked type ("which
*country*", "who"), appositions ("the *city* of London"), whether an entity fits a type word
(kinds, rdf:type classes + subclass closure, hypernym closure, sameAs twins), frame words, and
QuestionCues.annotate (predicate candidates dropped, frame flags, widened spans, salience)."""

from __future__ import annotations

import numpy as np
import pytest

from kgnlu.qa.frame_words import GENERIC, base_words, is_frame, relation_vocabulary
from kgnlu.qa.graph_profile import GraphProfile
from kgnlu.qa.question_cues import QuestionCues, salience
from kgnlu.qa.topics import TopicMention
from kgnlu.qa.type_cues import Apposition, apposition, expected_type, singular
from kgnlu.qa.type_match import MATCH, MISMATCH, UNKNOWN, TypeMatcher
from tests.qa.people_graph import EX


@pytest.mark.parametrize(("question", "asked"), [
    ("Which country is something in?", "country"),
    ("Which cities are in something?", "city"),  # singular
    ("What animal is something?", "animal"),
    ("What kind of animal is something?", "animal"),  # "kind of" names no type
    ("Who founded something?", "person"),
    ("whose book is something?", "person"),
    ("Which people were born in something?", "person"),
    ("Where was something born?", "location"),
    ("Name a city in something.", "city"),
    ("Name an animal that something eats.", "animal"),
    ("Give me all packages that something depends on.", "package"),
    ("List all cities in something.", "city"),
    ("Tell me the professors of something", "professor"),
    ("What is the capital of something?", None),  # asks the relation, names no type
    ("What is something a part of?", None),
    ("Name something.", None),
    ("Which is something?", None),
])
def test_expected_type(lexicon, question, asked):
    assert expected_type(question) == asked


def test_expected_type_prefers_a_two_word_kind_the_graph_knows():
    assert expected_type("Which US states border something?") == "us"
    assert expected_type("Which US states border something?", frozenset({"us state"})) == "us state"


@pytest.mark.parametrize(("question", "mention", "found"), [
    ("Where does the river Nile flow?", "Nile", Apposition("river", 11)),
    ("Which country is the city of Lyon in?", "Lyon", Apposition("city", 17)),
    ("Name the rivers Nile and Niger.", "Nile", Apposition("river", 5)),  # singular
    ("What is the capital city Lima?", "Lima", Apposition("capital city", 8)),
    ("What is the kind of Nile?", "Nile", None),  # "kind" names no type
    ("Who lives in Lyon?", "Lyon", None),
    ("Lyon is where?", "Lyon", None),
])
def test_apposition(lexicon, question, mention, found):
    start = question.index(mention)
    got = apposition(question, start, start + len(mention))
    assert got == found
    if found is not None:
        assert question[found.start:].lower().startswith("the ")


def test_singular(lexicon):
    assert [singular(w) for w in ("cities", "people", "boxes", "countries", "dogs", "churches", "bus", "analysis")] \
        == ["city", "person", "box", "country", "dog", "church", "bus", "analysis"]


def test_singular_reads_wordnet_morphology(tiny_lexicon):
    assert singular("geese") == "goose" and singular("glasses") == "glass"  # a plural that is a lemma too


# ---------------------------------------------------------------------- TypeMatcher
@pytest.fixture
def matcher(people_graph):
    return TypeMatcher(people_graph, GraphProfile(people_graph))


def fit(matcher, local: str, word: str) -> float:
    return matcher.entity_match(matcher.kg.index_of(EX + local), word)


def test_entity_types_from_kinds_classes_and_subclasses(lexicon, people_graph):
    m = TypeMatcher(people_graph, GraphProfile(people_graph))
    assert fit(m, "AdaLovelace", "scientist") == MATCH
    assert fit(m, "AdaLovelace", "person") == MATCH  # Scientist rdfs:subClassOf Person
    assert fit(m, "VictorHugo", "person") == MATCH and fit(m, "VictorHugo", "city") == MISMATCH
    assert fit(m, "London", "city") == MATCH and fit(m, "London", "person") == MISMATCH
    assert fit(m, "AnalyticalSociety", "business") == MATCH  # the class's label, not its local name
    assert fit(m, "Commonwealth", "person") == UNKNOWN  # untyped: the graph says nothing
    assert fit(m, "Britain", "country") == MATCH  # typed through its sameAs twin


def test_wordnet_widens_a_class_to_what_it_is_a_kind_of(tiny_lexicon, matcher):
    assert fit(matcher, "London", "location") == MATCH  # city → location
    assert fit(matcher, "AnalyticalSociety", "organization") == MATCH  # business → organization
    assert fit(matcher, "VictorHugo", "scientist") == UNKNOWN  # a person may be one
    assert matcher.knows("location") and not matcher.knows("animal")


def test_without_wordnet_only_the_graph_types(monkeypatch, people_graph):
    import kgnlu.qa.phrasing as phrasing

    monkeypatch.setattr(phrasing, "_wordnet", lambda: None)
    m = TypeMatcher(people_graph, GraphProfile(people_graph))
    assert fit(m, "London", "location") == MISMATCH and not m.knows("location")
    assert m.knows("city") and m.knows("person")


def test_hypernym_closure_types_wordnet_synsets(lexicon, wn_geo_graph):
    m = TypeMatcher(wn_geo_graph, GraphProfile(wn_geo_graph))
    dog = wn_geo_graph.index_of("wn:00000005-n")
    assert m.entity_match(dog, "canine") == MATCH and m.entity_match(dog, "mammal") == MATCH
    assert m.entity_match(dog, "vehicle") == MISMATCH
    matches = m.matches(np.array([dog, wn_geo_graph.index_of("wn:00000010-n")]), "mammal")  # dog, car
    assert matches.tolist() == [MATCH, MISMATCH]


def test_path_match_follows_the_last_steps_answer_kinds(lexicon, matcher, people_graph):
    r = people_graph.relation_index
    born, has_capital = 2 * r(EX + "bornIn"), 2 * r(EX + "hasCapital")
    assert matcher.path_match(born, "city") == pytest.approx(MATCH)  # born in → cities
    assert matcher.path_match(born + 1, "city") == pytest.approx(MISMATCH)  # born in^-1 → people
    assert matcher.path_match(has_capital + 1, "country") == pytest.approx(MATCH)
    assert MISMATCH < matcher.path_match(2 * r("rdf:type"), "city") < MATCH


# ---------------------------------------------------------------------- frame words
def test_relation_vocabulary_holds_relation_words_cue_words_and_generic_nouns(lexicon, people_graph, qa_graph):
    people = relation_vocabulary(people_graph)
    assert {"born", "capital", "member", "located", "work"} <= people and GENERIC <= people
    assert "london" not in people and "ada" not in people
    geo = relation_vocabulary(qa_graph)
    assert {"capital", "border", "neighbour", "continent"} <= geo  # GeoNames cue words
    words = base_words("The capitals of countries")
    assert {"capitals", "capital", "countries", "country"} <= set(words) and not {"the", "of"} & set(words)


def test_is_frame(lexicon, people_graph):
    vocabulary = relation_vocabulary(people_graph)
    assert is_frame("capital", vocabulary, None) and is_frame("the capitals", vocabulary, None)
    assert is_frame("a kind", vocabulary, None) and is_frame("of the", vocabulary, None)
    assert is_frame("cities", vocabulary, "city")  # the asked type
    assert not is_frame("London", vocabulary, None) and not is_frame("city", vocabulary, "country")
    assert not is_frame("capital of London", vocabulary, None)


# ---------------------------------------------------------------------- QuestionCues.annotate
@pytest.fixture
def cues(lexicon, people_graph):
    return QuestionCues(people_graph)


def mention(kg, text: str, surface: str, *candidates: tuple[str, float]) -> TopicMention:
    start = text.index(surface)
    return TopicMention(start, start + len(surface), surface, candidates[0][1],
                        [(kg.index_of(c if ":" in c else EX + c), p) for c, p in candidates])


def test_a_predicate_is_never_the_topic_and_the_asked_type_is_read_with_the_topic_masked(cues, people_graph):
    kg, text = people_graph, "Who works for Bletchley Park?"
    ms = [mention(kg, text, "works for", ("worksFor", 0.99)), mention(kg, text, "Bletchley Park", ("BletchleyPark", 1.0))]
    cues.annotate(text, ms, "something")
    assert [m.surface for m in ms] == ["Bletchley Park"]
    (m,) = ms
    assert not m.frame and m.expected_type == "person" and m.topic_type is None
    assert m.salience >= 1.0  # a proper name inside the sentence


def test_frame_mentions_name_the_asked_type_a_relation_or_the_schema(cues, people_graph):
    kg, text = people_graph, "Which city was Ada Lovelace born in?"
    ms = [mention(kg, text, "city", ("City", 0.88)), mention(kg, text, "Ada Lovelace", ("AdaLovelace", 1.0))]
    cues.annotate(text, ms, "something")
    assert [(m.surface, m.frame) for m in ms] == [("city", True), ("Ada Lovelace", False)]
    assert ms[1].expected_type == "city"
    typed = "What is a Scientist?"
    (schema,) = [mention(kg, typed, "Scientist", ("Scientist", 1.0))]
    cues.annotate(typed, [schema], "something")
    assert schema.frame  # a class is the question's frame, not its topic


def test_an_apposition_widens_the_span_and_damps_candidates_of_another_type(cues, people_graph):
    kg, text = people_graph, "Which country is the city of London in?"
    m = mention(kg, text, "London", ("UnitedKingdom", 0.6), ("London", 0.5))
    cues.annotate(text, [m], "something")
    assert m.topic_type == "city" and text[m.start:m.end] == "the city of London"
    assert m.candidates[0] == (kg.index_of(EX + "London"), 0.5)
    assert m.candidates[1][0] == kg.index_of(EX + "UnitedKingdom") and m.candidates[1][1] == pytest.approx(0.6 * MISMATCH)
    assert m.expected_type == "country"
    other = "Where is the business London?"  # no candidate is a business: the span stays
    n = mention(kg, other, "London", ("London", 1.0))
    cues.annotate(other, [n], "something")
    assert n.topic_type is None and other[n.start:n.end] == "London"


def test_salience_counts_proper_names_and_rare_words(people_graph, qa_linker):
    assert salience("Where was Ada Lovelace born?", 10, "Ada Lovelace") == 1.0
    assert salience("Ada Lovelace was born where?", 0, "Ada Lovelace") == 0.0  # sentence start: no evidence
    assert salience("Where is CERN?", 9, "CERN") == 1.0 and salience("CERN is where?", 0, "CERN") == 1.0
    lexical = qa_linker.index.lexical
    rare, common = salience("where is kyoto", 9, "kyoto", lexical), salience("what is a city", 10, "city", lexical)
    assert 0.0 <= common < rare <= 1.0


def test_vocabulary_terms_and_type_log_probabilities(cues, people_graph):
    kg = people_graph
    ids = np.array([kg.index_of("owl:Class"), kg.index_of(EX + "London"), kg.index_of(EX + "City")])
    assert cues.vocabulary_terms(ids).tolist() == [True, False, False]
    logp = cues.answer_type_logp(ids[1:], "city")
    assert logp[0] == pytest.approx(0.0) and logp[1] == pytest.approx(np.log(MISMATCH))
    from kgnlu.qa.paths import RelationPath

    paths = [RelationPath.parse([EX + "bornIn"], kg), RelationPath.parse([EX + "bornIn^-1"], kg)]
    path_logp = cues.path_type_logp(paths, "city")
    assert path_logp.shape == (2,) and path_logp[0] > path_logp[1] and np.all(path_logp <= 0.0)
