"""What QA reads off a graph's shape (kgnlu.qa.graph_profile): kinds as English type words, step
symbols that walk the same edges (inverse pairs, symmetric relations), the answer side's type word
("person" when people dominate), and the schema (classes, predicates, rdf:type steps)."""

from __future__ import annotations

import numpy as np
import pytest

from kgnlu.qa.graph_profile import SYMMETRIC_SHARE, GraphProfile, canonical_symbols, kind_word
from tests.qa.people_graph import EX

STAFF = """
@prefix ex: <http://example.org/staff#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
ex:Professor a owl:Class . ex:Lecturer a owl:Class . ex:Scientist a owl:Class . ex:Robot a owl:Class .
ex:Acme ex:employs ex:ann , ex:bob , ex:cy , ex:r2 .
ex:ann a ex:Professor . ex:bob a ex:Lecturer . ex:cy a ex:Scientist . ex:r2 a ex:Robot .
"""


def symbols(trip, num_relations, num_entities):
    return canonical_symbols(np.asarray(trip, dtype=np.int64).reshape(-1, 3), num_relations, num_entities).tolist()


def test_an_exact_inverse_pair_keeps_both_forward_steps():
    # relation 0 = hypernym, 1 = hyponym: every hyponym edge is a hypernym edge reversed
    trip = [(0, 0, 1), (1, 0, 2), (1, 1, 0), (2, 1, 1)]
    assert symbols(trip, 2, 3) == [0, 2, 2, 0]  # hypernym^-1 is hyponym, hyponym^-1 is hypernym


def test_a_symmetric_relation_walks_backwards_as_forwards():
    trip = [(0, 0, 1), (1, 0, 0), (1, 0, 2), (2, 0, 1)]
    assert symbols(trip, 1, 3) == [0, 0]


def test_near_symmetric_counts_from_the_jaccard_share():
    # n undirected pairs written both ways, plus k one-way edges: Jaccard = 2n / (2n + 2k)
    def relation(n, k):
        both = [(i, 0, i + 100) for i in range(n)] + [(i + 100, 0, i) for i in range(n)]
        return both + [(i + 300, 0, i + 400) for i in range(k)]

    assert symbols(relation(19, 1), 1, 500) == [0, 0]  # 38 / 40 = 0.95
    assert symbols(relation(8, 2), 1, 500) == [0, 1]  # 16 / 20 = 0.8 < 0.9
    assert SYMMETRIC_SHARE == 0.9


def test_unrelated_and_empty_relations_are_their_own_symbols():
    trip = [(0, 0, 1), (1, 2, 2)]  # relation 1 has no edge; 0 and 2 are not inverses (0→1 vs 1→2)
    assert symbols(trip, 3, 3) == [0, 1, 2, 3, 4, 5]
    assert symbols([], 2, 3) == [0, 1, 2, 3]
    almost = [(0, 0, 1), (1, 0, 2), (1, 1, 0)]  # one hyponym edge missing: not the same edges
    assert symbols(almost, 2, 3) == [0, 1, 2, 3]


def test_kind_words(people_graph, wn_geo_graph):
    assert kind_word(wn_geo_graph, "wordnet:noun.animal") == "animal"
    assert kind_word(wn_geo_graph, "wordnet:noun.Tops") == ""  # names no useful type
    assert kind_word(wn_geo_graph, "wordnet:verb.motion") == ""
    assert kind_word(wn_geo_graph, "geonames:country") == "country"
    assert kind_word(wn_geo_graph, "geonames:us_state") == "us state"
    assert kind_word(wn_geo_graph, "entity") == "" and kind_word(wn_geo_graph, "") == ""
    assert kind_word(people_graph, EX + "Company") == "business"  # the class's own label
    assert kind_word(people_graph, EX + "Scientist") == "scientist"  # else its local name
    assert kind_word(people_graph, "http://elsewhere.org/onto#ResearchGroup") == "research group"


def test_type_words_follow_where_a_step_ends(people_graph):
    profile = GraphProfile(people_graph)
    r = people_graph.relation_index

    def type_word(name, forward=True):
        return profile.type_word(2 * r(EX + name) + (0 if forward else 1))

    assert type_word("bornIn") == "city" and type_word("hasCapital", False) == "country"
    assert type_word("worksFor") == "business" and type_word("locatedIn", False) == "city"
    assert type_word("memberOf") == ""  # Commonwealth has no class
    shares = profile.answer_kinds(2 * r(EX + "worksFor") + 1)
    assert shares.sum() == pytest.approx(1.0)
    assert shares[people_graph.kinds.index(EX + "Scientist")] == pytest.approx(0.75)


@pytest.fixture(scope="module")
def staff_graph(tmp_path_factory):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    folder = tmp_path_factory.mktemp("staff")
    (folder / "staff.ttl").write_text(STAFF, encoding="utf-8")
    return KnowledgeGraph.load(build_graph([str(folder / "staff.ttl")], folder / "graph", store=False))


def test_person_when_people_dominate_but_no_single_kind_does(staff_graph, tiny_lexicon):
    employs = 2 * staff_graph.relation_index("http://example.org/staff#employs")
    assert GraphProfile(staff_graph).type_word(employs) == "person"  # 3 of 4 are people, a quarter each


def test_without_wordnet_mixed_kinds_name_no_type(staff_graph, monkeypatch):
    import kgnlu.qa.phrasing as phrasing

    monkeypatch.setattr(phrasing, "_wordnet", lambda: None)
    employs = 2 * staff_graph.relation_index("http://example.org/staff#employs")
    assert GraphProfile(staff_graph).type_word(employs) == ""


def test_redundant_steps_on_a_graph_with_both_directions_written(wn_geo_graph):
    profile = GraphProfile(wn_geo_graph)
    r = wn_geo_graph.relation_index
    meronym, holonym, neighbour = r("wnrel:part_meronym"), r("wnrel:part_holonym"), r("gnrel:neighbour")
    assert profile.redundant(2 * meronym + 1) and profile.redundant(2 * holonym + 1)
    assert int(profile.canonical[2 * meronym + 1]) == 2 * holonym
    assert not profile.redundant(2 * meronym) and not profile.redundant(2 * holonym)
    assert profile.redundant(2 * neighbour + 1) and int(profile.canonical[2 * neighbour + 1]) == 2 * neighbour
    capital = r("gnrel:capital")
    assert not profile.redundant(2 * capital + 1)  # nothing else walks from a capital to its country


def test_schema_classes_and_predicates(people_graph):
    kg, profile = people_graph, GraphProfile(people_graph)
    schema = {kg.entity_id(e) for e in np.flatnonzero(profile.schema_mask)}
    classes = {EX + c for c in ("Person", "Scientist", "City", "Country", "Company")}
    assert classes | {EX + "worksFor", "owl:Class", "owl:ObjectProperty"} == schema
    assert profile.is_schema(kg.index_of(EX + "Scientist")) and not profile.is_schema(kg.index_of(EX + "AdaLovelace"))
    assert [kg.entity_id(e) for e in range(kg.num_entities) if profile.is_predicate(e)] == [EX + "worksFor"]
    typed = kg.relation_index("rdf:type")
    assert profile.schema_symbol(2 * typed) and profile.schema_symbol(2 * typed + 1)
    assert profile.schema_symbol(2 * kg.relation_index("rdfs:subClassOf"))
    assert not profile.schema_symbol(2 * kg.relation_index(EX + "bornIn"))
    assert profile.classes == frozenset(kg.index_of(c) for c in classes | {"owl:Class", "owl:ObjectProperty"})
