"""Bounded walks (issue 22): fan-out samples, relation filters by binary search, max_nodes stops
the walk; costs are asserted on ``CSRWalker.edges_read`` (CSR entries read), never on time."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgnlu.kg.graph_files import csr_indptr
from kgnlu.kg.traversal import CSRWalker

HUB_DEGREE = 10_000


def walker_of(triples) -> CSRWalker:
    """A CSRWalker laid out exactly as graph_files writes one: rows sorted by (head, relation, tail)."""
    t = np.unique(np.asarray(triples, dtype=np.int32).reshape(-1, 3), axis=0)  # lexicographic
    n = int(t[:, [0, 2]].max()) + 1
    in_index = np.argsort(t[:, 2], kind="stable").astype(np.int32)
    return CSRWalker(t, csr_indptr(t[:, 0], n), csr_indptr(t[in_index, 2], n), in_index)


@pytest.fixture(scope="module")
def hub_graph() -> CSRWalker:
    """Entity 0 is a hub: 10,000 out-edges to 1..10000 over relations 0..4 (relation = tail % 5),
    and 10,000 in-edges from 10001..20000 (relation 7). Small nodes 1..50 chain to their successor."""
    tails = np.arange(1, HUB_DEGREE + 1)
    out = np.stack([np.zeros(HUB_DEGREE, int), tails % 5, tails], axis=1)
    heads = np.arange(HUB_DEGREE + 1, 2 * HUB_DEGREE + 1)
    inc = np.stack([heads, np.full(HUB_DEGREE, 7), np.zeros(HUB_DEGREE, int)], axis=1)
    chain = np.stack([np.arange(1, 51), np.full(50, 9), np.arange(2, 52)], axis=1)
    return walker_of(np.concatenate([out, inc, chain]))


def brute_rows(w: CSRWalker, node: int, direction: str, relations=None) -> list[int]:
    """Rows touching ``node`` in edge_rows' order (out-rows ascending, then in-rows by in_index)."""
    t = np.asarray(w.triples)
    rows = []
    if direction in ("out", "both"):
        rows += np.flatnonzero(t[:, 0] == node).tolist()
    if direction in ("in", "both"):
        rows += [r for r in np.asarray(w.in_index).tolist() if t[r, 2] == node]
    return [r for r in rows if relations is None or t[r, 1] in relations]


def test_fanout_is_an_even_strided_sample_read_without_the_slice(hub_graph):
    w = hub_graph
    w.edges_read = 0
    steps = w.neighbors(0, "out", fanout=10)
    assert w.edges_read == 10  # ten entries read, not 10,000
    # stride ceil(10000 / 10) = 1000 over the hub's rows, sorted by (relation = tail % 5, tail)
    rows_in_order = sorted(range(1, HUB_DEGREE + 1), key=lambda t: (t % 5, t))
    assert [s.tail for s in steps] == rows_in_order[::1000] == [5, 5005, 1, 5001, 2, 5002, 3, 5003, 4, 5004]
    assert w.neighbors(0, "out", fanout=10) == steps  # deterministic
    assert len(w.neighbors(0, "in", fanout=7)) == 7  # ceil(10000 / 1429) = 7 samples


def test_relation_filter_is_exact_and_binary_searched(hub_graph):
    w = hub_graph
    w.edges_read = 0
    steps = w.neighbors(0, "out", [3])
    assert [s.tail for s in steps] == list(range(3, HUB_DEGREE + 1, 5))
    # the 2,000 matching rows plus two binary searches over 10,000 rows (≤ 14 probes each)
    assert w.edges_read <= 2000 + 2 * math.ceil(math.log2(HUB_DEGREE))
    rows, forward = w.edge_rows(np.array([0, 5]), "both", relations=[2, 9])
    assert rows.tolist() == brute_rows(w, 0, "out", {2, 9}) + brute_rows(w, 5, "out", {2, 9}) \
        + brute_rows(w, 0, "in", {2, 9}) + brute_rows(w, 5, "in", {2, 9})
    assert forward.tolist() == [True] * (len(rows) - 1) + [False]  # 4 --9--> 5 is 5's in-edge


def test_relation_filter_with_fanout_samples_each_relation(hub_graph):
    w = hub_graph
    w.edges_read = 0
    steps = w.neighbors(0, "out", [1, 4], fanout=5)
    assert [s.relation for s in steps] == [1] * 5 + [4] * 5
    assert w.edges_read <= 10 + 4 * 2 * math.ceil(math.log2(HUB_DEGREE))


def test_max_nodes_stops_before_reading_the_hub(hub_graph):
    w = hub_graph
    w.edges_read = 0
    sub = w.subgraph([0], 2, max_nodes=100)
    assert len(sub.nodes) == 100 and sub.truncated
    assert w.edges_read <= 4 * 99 + 256  # one round of reads, not the hub's 20,000 edges
    assert set(np.unique(sub.triples[:, [0, 2]]).tolist()) <= set(sub.nodes.tolist())
    # the nodes reached first: the hub's first 99 out-rows, relation 0, tails 5, 10, ..., 495
    assert sub.nodes.tolist() == [0] + list(range(5, 500, 5))


def test_bounded_two_hop_cost_is_proportional_to_max_nodes(hub_graph):
    w = hub_graph
    for seed in (0, 1, 25):
        w.edges_read = 0
        sub = w.subgraph([seed], 2, max_nodes=40, fanout=8)
        assert len(sub.nodes) <= 40
        assert w.edges_read <= 2 * (4 * 40 + 256)  # at most one round per hop here


def test_chain_walk_unchanged_when_bounds_are_not_hit(hub_graph):
    w = hub_graph
    full = w.subgraph([20], 3, relations=[9])
    bounded = w.subgraph([20], 3, relations=[9], max_nodes=10, fanout=5)
    assert full.nodes.tolist() == list(range(17, 24)) and not bounded.truncated
    assert np.array_equal(full.nodes, bounded.nodes) and np.array_equal(full.triples, bounded.triples)
    assert not bounded.sampled and w.subgraph([0], 1, fanout=5).sampled


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 14), st.integers(0, 3), st.integers(0, 14)), min_size=1, max_size=60),
       st.integers(0, 14), st.integers(0, 3), st.sampled_from(["out", "in", "both"]),
       st.one_of(st.none(), st.sets(st.integers(0, 3), min_size=1)))
def test_bounds_that_are_not_hit_change_nothing(triples, seed, hops, direction, relations):
    w = walker_of(triples)
    if seed >= w.num_entities:
        seed = 0
    full = w.subgraph([seed], hops, direction=direction, relations=relations)
    bounded = w.subgraph([seed], hops, direction=direction, relations=relations,
                         max_nodes=w.num_entities + 1, fanout=len(w.triples))
    assert np.array_equal(full.nodes, bounded.nodes) and np.array_equal(full.triples, bounded.triples)
    # and both agree with networkx on the relation-filtered graph
    g = nx.DiGraph()
    g.add_nodes_from(range(w.num_entities))
    g.add_edges_from((h, t) for h, r, t in np.asarray(w.triples).tolist() if relations is None or r in relations)
    if direction == "in":
        g = g.reverse()
    if direction == "both":
        g = g.to_undirected()
    assert set(full.nodes.tolist()) == set(nx.ego_graph(g, seed, radius=hops).nodes)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 40), st.integers(0, 9)), min_size=1, max_size=80),
       st.integers(1, 6), st.integers(1, 30))
def test_max_nodes_and_fanout_are_upper_bounds(triples, fanout, max_nodes):
    w = walker_of(triples)
    sub = w.subgraph([0], 3, max_nodes=max_nodes, fanout=fanout)
    assert len(sub.nodes) <= max(max_nodes, 1)
    for node in range(w.num_entities):
        for direction in ("out", "in"):
            for rel in (None, [int(np.asarray(w.triples)[0, 1])]):
                got = w.neighbors(node, direction, rel, fanout=fanout)
                exact = brute_rows(w, node, direction, rel)
                assert len(got) <= min(fanout, len(exact))  # one relation: one cap
                if len(exact) <= fanout:  # under the cap: every edge, in CSR order
                    t = np.asarray(w.triples)
                    assert [(s.head, s.relation, s.tail) for s in got] == [tuple(t[r]) for r in exact]


def test_relations_at_gallops_over_a_hub(hub_graph):
    w = hub_graph
    w.edges_read = 0
    out, inward = w.relations_at(0)
    assert out.tolist() == [0, 1, 2, 3, 4] and inward.tolist() == [7]
    # out-side: 5 reads + 5 binary searches (≤ 14 probes each), not 10,000 rows; in-side read whole
    assert w.edges_read <= 5 + 5 * 14 + HUB_DEGREE
    assert [r.tolist() for r in w.relations_at(7)] == [[9], [2, 9]]  # 7 --9--> 8; 0 --2--> 7, 6 --9--> 7


def test_a_fanout_below_one_is_a_coded_error(hub_graph):
    from kgnlu.errors import ConfigError

    with pytest.raises(ConfigError, match="fanout must be at least 1") as err:
        hub_graph.subgraph([0], 1, fanout=0)
    assert err.value.code == "E001"
