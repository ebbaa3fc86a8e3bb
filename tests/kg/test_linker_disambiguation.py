"""Candidates (priors, fuzzy, sameAs) and disambiguation (context, coherence, case, NIL)."""

from __future__ import annotations

import pytest

from kgnlu.kg.linker import EntityLinker, Weights
from kgnlu.kg.linker.fuzzy import FuzzyIndex, osa_distance, similarity
from tests.kg.linker_graph import build_fixture_graph


@pytest.fixture(scope="module")
def kg(tmp_path_factory):
    return build_fixture_graph(tmp_path_factory.mktemp("lk") / "fixture")


@pytest.fixture(scope="module")
def linker(kg):
    return EntityLinker.from_graph(kg, mode="fast")


def entity_at(links, surface):
    return next(lk for lk in links if lk.surface == surface)


def test_prior_decides_without_context(linker):
    link = entity_at(linker.link("Paris is lovely."), "Paris")
    assert link.entity == "geo:paris_fr"
    assert {c.entity for c in link.candidates} == {"geo:paris_fr", "geo:paris_tx"}
    assert link.candidates[0].entity == link.entity and link.candidates[0].score == link.score


def test_context_and_coherence_pick_paris_texas(linker):
    link = entity_at(linker.link("Paris, a city in Texas, has a new mayor."), "Paris")
    assert link.entity == "geo:paris_tx"
    prior_only = EntityLinker.from_graph(linker.kg, "fast", weights=Weights(
        lexical=0, coherence=0, case=0, label=0))
    assert entity_at(prior_only.link("Paris, a city in Texas, has a new mayor."), "Paris").entity == "geo:paris_fr"


def test_word_senses_follow_context(linker):
    river = entity_at(linker.link("They sat on the bank of the river."), "bank")
    money = entity_at(linker.link("She put her money in the bank as deposits."), "bank")
    assert river.entity == "wn:00000002-n"
    assert money.entity == "wn:00000003-n"
    # the verb sense is reached by the surface itself; all three are candidates
    assert "wn:00000004-v" in {c.entity for c in river.candidates}


def test_same_as_cluster_is_one_candidate(linker):
    link = entity_at(linker.link("Paris is lovely."), "Paris")
    assert "wn:00000001-n" not in {c.entity for c in link.candidates}
    assert linker.canonical_id("wn:00000001-n") == "geo:paris_fr"
    # the merged prior sums both sources' share of the surface
    assert link.candidates[0].prior == pytest.approx(0.9 / (0.9 + 0.1 + 1.0) + 1.0 / 2.0, abs=1e-4)


def test_scores_are_probabilities(linker):
    for link in linker.link("Paris, France and Paris, Texas; the bank by the river; money."):
        assert 0.0 <= link.score <= 1.0
        assert sum(c.score for c in link.candidates) <= 1.0 + 1e-9
        assert [c.score for c in link.candidates] == sorted((c.score for c in link.candidates), reverse=True)


def test_nil_threshold_drops_weak_links(kg):
    strict = EntityLinker.from_graph(kg, "fast", nil_threshold=0.99)
    assert all(lk.score >= 0.99 for lk in strict.link("Paris is lovely, the bank too."))
    assert not any(lk.surface == "bank" for lk in strict.link("the bank"))


def test_lowercase_mention_prefers_common_nouns(linker):
    link = entity_at(linker.link("we walked along the bank"), "bank")
    assert link.entity.startswith("wn:")


def test_fuzzy_candidates_for_misspellings(linker):
    link = entity_at(linker.link("I flew to Londn today."), "Londn")
    assert link.entity == "geo:london"
    assert link.candidates[0].source == "fuzzy"


def test_fuzzy_index_and_edit_distance():
    assert osa_distance("texsa", "texas") == 1
    assert osa_distance("kitten", "sitting") == 3
    assert similarity("abc", "abc") == 1.0
    idx = FuzzyIndex.build(["london", "paris", "new york city", "lo"])
    assert idx.lookup("londn")[0][0] == 0
    assert idx.lookup("pariss")[0][0] == 1
    assert idx.lookup("zzzzzz") == []
    assert idx.lookup("london") == []  # an exact key is not a fuzzy match


def test_given_spans_are_disambiguated(linker):
    text = "the dogs barked"
    links = linker.link(text, spans=[(4, 8)])
    assert [(lk.surface, lk.entity) for lk in links] == [("dogs", "wn:00000008-n")]
    assert links[0].candidates[0].source == "variant"


def test_sentence_initial_article_is_not_evidence_of_a_proper_name(linker):
    # "The Bank" is only a town's alternate name; at the start of a sentence the capital T
    # says nothing, so the common noun wins, as it does mid-sentence.
    for text in ("The bank of the river flooded.", "We saw the bank of the river."):
        links = linker.link(text)
        assert [lk.surface for lk in links if "bank" in lk.surface.lower()] == ["bank"], text
        assert entity_at(links, "bank").entity == "wn:00000002-n"
    # written as a name mid-sentence, it is one
    assert entity_at(linker.link("We drove to The Bank yesterday."), "The Bank").entity == "geo:bankville"
