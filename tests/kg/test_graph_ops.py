"""Walks on CSR arrays agree with networkx on the same graph."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgnlu.errors import UnknownEntityError
from kgnlu.kg.graph_files import csr_indptr
from kgnlu.kg.traversal import CSRWalker, gather


def test_lookup_by_id_iri_label_alias(family_graph):
    kg = family_graph
    a = kg.index_of("family:alice")
    assert a >= 0
    assert kg.lookup("family:alice") == a
    assert kg.lookup("urn:kgnlu:family:alice") == a
    assert kg.lookup("ALICE") == a  # alias, case-folded
    assert kg.lookup(a) == a
    assert kg.entity_label(a) == "alice"
    assert kg.entity_iri(a) == "urn:kgnlu:family:alice"


def test_unknown_entity_lists_close_matches(family_graph):
    with pytest.raises(UnknownEntityError) as err:
        family_graph.lookup("alcie")
    assert "alice" in err.value.close_matches
    assert "alice" in str(err.value)


def test_neighbors_by_direction_and_relation(family_graph):
    kg = family_graph
    out = {kg.describe_step(s) for s in kg.neighbors("alice", direction="out")}
    assert out == {"alice --parent_of--> bob", "alice --parent_of--> carla"}
    inc = {kg.describe_step(s) for s in kg.neighbors("alice", direction="in")}
    assert inc == {"alice <--friend_of-- dora", "alice <--knows-- hub"}
    only = kg.neighbors("alice", relation="knows")
    assert [(kg.entity_label(s.head), kg.entity_label(s.tail)) for s in only] == [("hub", "alice")]


def _reference(kg) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(kg.num_entities))
    g.add_edges_from((h, t) for h, _, t in np.asarray(kg.triples).tolist())
    return g


@pytest.mark.parametrize("hops", [0, 1, 2, 3])
def test_subgraph_nodes_match_networkx_ego_graph(family_graph, hops):
    kg = family_graph
    ref = _reference(kg)
    a = kg.lookup("alice")
    sub = kg.subgraph([a], hops)
    assert set(sub.nodes.tolist()) == set(nx.ego_graph(ref, a, radius=hops).nodes)
    # every walked edge touches a node closer than `hops`
    dist = nx.single_source_shortest_path_length(ref, a)
    for h, _, t in sub.triples.tolist():
        assert min(dist[h], dist[t]) < hops


def test_subgraph_max_nodes_truncates(family_graph):
    sub = family_graph.subgraph(["alice"], 3, max_nodes=4)
    assert len(sub.nodes) == 4 and sub.truncated
    assert set(np.unique(sub.triples[:, [0, 2]])) <= set(sub.nodes.tolist())


def test_paths_are_shortest_and_connect(family_graph):
    kg = family_graph
    ref = _reference(kg)
    a, g = kg.lookup("alice"), kg.lookup("gina")
    paths = kg.paths(a, g, max_hops=6)
    assert paths
    assert all(len(p) == nx.shortest_path_length(ref, a, g) for p in paths)
    for p in paths:
        assert p[0].source == a and p[-1].target == g
        for s1, s2 in zip(p, p[1:], strict=False):
            assert s1.target == s2.source
    assert kg.paths("alice", "xavier", max_hops=6) == []
    assert kg.paths(a, g, max_hops=2) == []


def test_paths_enumerates_all_shortest(family_graph):
    # alice–hub–bob and alice–bob: shortest is the direct edge only
    kg = family_graph
    assert len(kg.paths("alice", "bob")) == 1
    # dora to carla: dora-alice-carla and dora-bob-... ; all shortest of length 2 must be found
    ref = _reference(kg)
    d, c = kg.lookup("dora"), kg.lookup("carla")
    expected = {tuple(p) for p in nx.all_shortest_paths(ref, d, c)}
    got = {tuple([p[0].source] + [s.target for s in p]) for p in kg.paths(d, c)}
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 3), st.integers(0, 15)), max_size=60),
       st.integers(0, 15), st.integers(1, 3))
def test_random_graph_walks_match_networkx(edges, seed, hops):
    n = 16
    triples = np.array(sorted(set(edges)), dtype=np.int32).reshape(-1, 3)
    in_index = np.argsort(triples[:, 2], kind="stable")
    walker = CSRWalker(triples, csr_indptr(triples[:, 0], n), csr_indptr(triples[in_index, 2], n),
                       in_index)
    ref = nx.Graph()
    ref.add_nodes_from(range(n))
    ref.add_edges_from((h, t) for h, _, t in triples.tolist())
    sub = walker.subgraph([seed], hops)
    assert set(sub.nodes.tolist()) == set(nx.ego_graph(ref, seed, radius=hops).nodes)
    for target in range(n):
        paths = walker.paths(seed, target, max_hops=4)
        if target == seed:
            continue
        try:
            d = nx.shortest_path_length(ref, seed, target)
        except nx.NetworkXNoPath:
            d = None
        if d is None or d > 4:
            assert paths == []
        else:
            assert paths and all(len(p) == d for p in paths)


def test_gather_concatenates_ranges():
    indptr = np.array([0, 2, 2, 5])
    assert gather(indptr, np.array([2, 0, 1])).tolist() == [2, 3, 4, 0, 1]
    assert gather(indptr, np.array([1])).tolist() == []


def test_to_networkx_and_rdflib(family_graph):
    import rdflib

    kg = family_graph
    g = kg.to_networkx(kg.subgraph(["alice"], 1))
    assert g.has_edge("family:alice", "family:bob")
    assert g.nodes["family:hub"]["label"] == "hub"
    rg = kg.to_rdflib()
    alice = rdflib.URIRef("urn:kgnlu:family:alice")
    assert (alice, rdflib.RDFS.label, rdflib.Literal("alice")) in rg
    assert len(list(rg.triples((alice, rdflib.URIRef("urn:kgnlu:family:parent_of"), None)))) == 2


def test_exact_label_beats_a_folded_alias_with_higher_prior(tmp_path):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.graph_builder import GraphBuilder
    from kgnlu.kg.graph_files import write_graph

    b = GraphBuilder()
    b.entity("x:animal", label="cat")
    b.entity("x:town", label="Çat")
    b.alias("cat", "x:animal", 1)
    b.alias("CAT", "x:town", 9)  # folds to the same key with a higher prior
    kg = KnowledgeGraph.load(write_graph(b.finalize(), tmp_path / "g", store=False))
    assert kg.aliases("cat")[0][0] == kg.index_of("x:town")
    assert kg.lookup("cat") == kg.index_of("x:animal")
    assert kg.lookup("Cat") == kg.index_of("x:town")  # no exact label: highest prior
