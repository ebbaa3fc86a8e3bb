"""Which relation paths a graph supports (kgnlu.qa.path_catalog) and how they are walked with
owl:sameAs twins (kgnlu.qa.retrieval.execute, kgnlu.qa.data.generate.answer_set): statistics equal
a brute-force walk over the triple list, schema steps only last, caps shared round-robin, and the
three walkers agree on any small graph (Hypothesis)."""

from __future__ import annotations

import statistics
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgnlu.errors import ConfigError
from kgnlu.kg.graph_files import csr_indptr
from kgnlu.kg.traversal import CSRWalker
from kgnlu.qa.data.generate import answer_set
from kgnlu.qa.graph_profile import GraphProfile
from kgnlu.qa.path_catalog import CatalogConfig, StepMatrices, path_catalog
from kgnlu.qa.paths import RelationPath
from kgnlu.qa.retrieval import execute
from tests.qa.people_graph import EX

ALL_TOPICS = CatalogConfig(topics=10_000)  # every topic sampled: statistics are exact


def triple_set(kg) -> set[tuple[int, int, int]]:
    return {tuple(int(x) for x in t) for t in np.asarray(kg.triples)}


def brute_walk(triples, topic: int, symbols: list[int], same_as: int | None, twin_steps: int) -> set[int]:
    """Entities reached from ``topic``; the frontier after each of the first ``twin_steps`` steps
    joined by the sameAs twins of its nodes (one hop, both directions)."""
    frontier = {topic}
    for i, s in enumerate(symbols):
        r, backwards = divmod(s, 2)
        frontier = {(h if backwards else t) for h, rel, t in triples if rel == r and (t if backwards else h) in frontier}
        if same_as is not None and i < twin_steps:
            frontier = frontier | {t for h, rel, t in triples if rel == same_as and h in frontier} \
                | {h for h, rel, t in triples if rel == same_as and t in frontier}
    return frontier


def _check_exact(kg, catalog):
    """Each path's support (topics with an answer besides themselves) and median answer-set size
    equal the brute-force walk's (the catalog walks 3-step paths without twins after step two)."""
    triples = triple_set(kg)
    same_as = kg.relation_names.get("owl:sameAs")
    for stats in catalog:
        symbols = stats.path.symbols()
        twin_steps = 1 if len(symbols) > 1 else 0
        sizes = [len(brute_walk(triples, e, symbols, same_as, twin_steps) - {e}) for e in range(kg.num_entities)]
        reached = [n for n in sizes if n]
        assert stats.support == len(reached), stats.path.key(kg)
        assert stats.median_answers == pytest.approx(statistics.median(reached)), stats.path.key(kg)
        assert stats.answer_kinds.sum() == pytest.approx(1.0)


@pytest.fixture(scope="module")
def people_catalog(people_graph):
    return path_catalog(people_graph, CatalogConfig(topics=10_000, min_support=2))


def test_statistics_equal_a_brute_force_walk(people_graph, wn_geo_graph, people_catalog):
    _check_exact(people_graph, people_catalog)
    _check_exact(wn_geo_graph, path_catalog(wn_geo_graph, ALL_TOPICS))


def test_every_step_is_a_path_and_longer_paths_exist_with_small_answer_sets(people_graph, people_catalog):
    kg, cfg = people_graph, CatalogConfig(topics=10_000, min_support=2)
    profile = GraphProfile(kg)
    one = {s.path.symbols()[0] for s in people_catalog if len(s.path) == 1}
    assert one == set(StepMatrices(kg, profile).symbols)
    multi = [s for s in people_catalog if len(s.path) > 1]
    assert {len(s.path) for s in multi} == {2, 3}
    for s in multi:
        assert s.support >= cfg.min_support and 0 < s.median_answers <= cfg.max_answers
    keys = [s.path.key(kg).replace(EX, "") for s in people_catalog]
    assert len(keys) == len(set(keys))
    assert {"bornIn/locatedIn", "bornIn/locatedIn/hasCapital", "worksFor/basedIn"} <= set(keys)


def test_schema_steps_end_paths_and_same_as_is_never_a_step(people_graph, people_catalog):
    kg = people_graph
    profile = GraphProfile(kg)
    same_as = kg.relation_index("owl:sameAs")
    assert any(profile.schema_symbol(s.path.symbols()[-1]) for s in people_catalog if len(s.path) > 1)
    for s in people_catalog:
        symbols = s.path.symbols()
        assert all(sym // 2 != same_as for sym in symbols)
        assert not any(profile.schema_symbol(sym) for sym in symbols[:-1]), s.path.key(kg)
        assert not any(profile.redundant(sym) for sym in symbols)  # memberOf^-1 is foundedBy


def test_three_step_paths_never_step_straight_back_before_the_last_step(people_graph, people_catalog):
    profile = GraphProfile(people_graph)
    for s in people_catalog:
        if len(s.path) == 3:
            s1, s2, _ = s.path.symbols()
            assert int(profile.canonical[s2]) != int(profile.canonical[s1 ^ 1])
    keys = {s.path.key(people_graph).replace(EX, "") for s in people_catalog}
    assert "bornIn/bornIn^-1" in keys  # as a question: "who else was born where Ada was born?"
    assert not any(k.startswith("bornIn/bornIn^-1/") for k in keys)


def test_a_path_through_a_same_as_twin_is_found(people_graph):
    kg = people_graph
    through = RelationPath.parse([EX + "locatedIn", EX + "memberOf"], kg)  # London → UK = Britain → Commonwealth
    catalog = path_catalog(kg, CatalogConfig(topics=10_000, min_support=1))
    assert through in {s.path for s in catalog}
    assert StepMatrices(kg, GraphProfile(kg)).reaching(through).tolist() == [kg.index_of(EX + "London")]


def test_caps_keep_the_best_supported_two_step_paths_and_share_three_steps_round_robin(people_graph, people_catalog):
    kg = people_graph
    capped = path_catalog(kg, CatalogConfig(topics=10_000, min_support=2, max_two_hop=12, max_three_hop=7))
    two = [s for s in capped if len(s.path) == 2]
    three = [s for s in capped if len(s.path) == 3]
    assert len(two) == 12 and len(three) == 7
    full_two = sorted((s.support for s in people_catalog if len(s.path) == 2), reverse=True)
    assert len(full_two) > 12 and sorted((s.support for s in two), reverse=True) == full_two[:12]
    prefixes = [tuple(s.path.symbols()[:2]) for s in three]
    eligible = {tuple(s.path.symbols()[:2]) for s in people_catalog if len(s.path) == 3} & \
        {tuple(s.path.symbols()) for s in two}
    first_round = prefixes[: len(eligible)]
    assert len(set(first_round)) == len(first_round)  # every prefix's best before any prefix's second


def test_catalog_is_deterministic_and_max_hops_limits_it(people_graph, people_catalog):
    again = path_catalog(people_graph, CatalogConfig(topics=10_000, min_support=2))
    assert [(s.path, s.support, s.median_answers) for s in again] == \
        [(s.path, s.support, s.median_answers) for s in people_catalog]
    assert {len(s.path) for s in path_catalog(people_graph, CatalogConfig(max_hops=1))} == {1}
    assert {len(s.path) for s in path_catalog(people_graph, CatalogConfig(max_hops=2, min_support=2))} == {1, 2}


@pytest.mark.parametrize("bad", [dict(max_hops=0), dict(max_hops=4), dict(topics=0), dict(min_support=0),
                                 dict(max_answers=0.5)])
def test_catalog_config_is_validated(bad):
    with pytest.raises(ConfigError):
        CatalogConfig(**bad)


def test_step_matrices_hold_each_step_and_the_twins(people_graph):
    kg = people_graph
    mats = StepMatrices(kg, GraphProfile(kg))
    born = kg.relation_index(EX + "bornIn")
    forward, backward = mats.matrix(2 * born).toarray(), mats.matrix(2 * born + 1).toarray()
    edges = {(h, t) for h, r, t in triple_set(kg) if r == born}
    assert {tuple(x) for x in np.argwhere(forward)} == edges and np.array_equal(backward, forward.T)
    assert set(mats.starts(2 * born).tolist()) == {h for h, _ in edges}
    twins = mats.twins.toarray()
    uk, britain = kg.index_of(EX + "UnitedKingdom"), kg.index_of(EX + "Britain")
    assert np.array_equal(twins, twins.T) and twins.sum() == 2 and twins[uk, britain] == 1


# ---------------------------------------------------------------------- walking with twins, any graph
def fake_graph(triples: list[tuple[int, int, int]], num_entities: int, num_relations: int, same_as: int):
    """What the walkers read of a KnowledgeGraph: triples sorted by head, CSR both ways, names."""
    trip = np.array(sorted(set(triples)), dtype=np.int32).reshape(-1, 3)
    in_index = np.argsort(trip[:, 2], kind="stable").astype(np.int32)
    walker = CSRWalker(trip, csr_indptr(trip[:, 0], num_entities), csr_indptr(trip[in_index, 2], num_entities),
                       in_index)
    names = {f"r{i}": i for i in range(num_relations)} | {"owl:sameAs": same_as}
    return SimpleNamespace(triples=trip, walker=walker, num_entities=num_entities, num_relations=num_relations,
                           relation_names=names)


N, RELATIONS, SAME_AS = 7, 2, 2


@st.composite
def graph_and_walk(draw):
    # no self-loops: which way a walk took one is not recorded (both readings are the same triple)
    edge = st.tuples(st.integers(0, N - 1), st.integers(0, RELATIONS - 1), st.integers(0, N - 1)).filter(
        lambda t: t[0] != t[2])
    twin = st.tuples(st.integers(0, N - 1), st.just(SAME_AS), st.integers(0, N - 1)).filter(lambda t: t[0] != t[2])
    triples = draw(st.lists(edge, min_size=1, max_size=14)) + draw(st.lists(twin, max_size=3))
    symbols = draw(st.lists(st.integers(0, 2 * RELATIONS - 1), min_size=1, max_size=3))
    return triples, symbols, draw(st.integers(0, N - 1))


@settings(max_examples=150, deadline=None)
@given(graph_and_walk())
def test_execute_answer_set_and_reaching_agree_with_a_brute_force_walk(case):
    triples, symbols, topic = case
    kg = fake_graph(triples, N, RELATIONS + 1, SAME_AS)
    stored = {tuple(int(x) for x in t) for t in kg.triples}
    path = RelationPath.from_symbols(symbols)
    expected = brute_walk(stored, topic, symbols, SAME_AS, len(symbols) - 1)
    ex = execute(kg.walker, topic, path, max_frontier=100, same_as=SAME_AS)
    assert set(ex.answers.tolist()) == expected
    assert set(answer_set(kg, topic, path.steps, 100, SAME_AS).tolist()) == expected - {topic}
    if {s // 2 for s in symbols} <= {r for _, r, _ in stored}:  # StepMatrices holds the relations with edges
        assert (topic in StepMatrices(kg).reaching(path).tolist()) == bool(expected)
    assert set(execute(kg.walker, topic, path, max_frontier=100).answers.tolist()) == \
        brute_walk(stored, topic, symbols, None, 0)  # no twins unless asked
    for answer in expected:  # evidence: stored triples chaining topic → answer, twins only between steps
        chain = ex.evidence(answer, kg.triples)
        assert chain and chain[0].source == topic and chain[-1].target == answer
        assert all(a.target == b.source for a, b in zip(chain, chain[1:], strict=False))
        assert all((s.head, s.relation, s.tail) in stored for s in chain)
        steps = [s for s in chain if s.relation != SAME_AS]
        assert [2 * s.relation + (0 if s.forward else 1) for s in steps] == symbols
        assert chain[-1].relation != SAME_AS and len(chain) <= 2 * len(symbols) - 1
