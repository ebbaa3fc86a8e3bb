"""The synthetic power-law generator (issue 22): skewed heads, uniform tails, labels, seeded."""

import hashlib

import numpy as np

from kgnlu.kg.build import build_graph
from kgnlu.kg.graph import KnowledgeGraph
from kgnlu.kg.synthetic import (
    PREDICATES,
    SyntheticSpec,
    labelled_entities,
    sample_triples,
    write_power_law,
)


def degrees(spec: SyntheticSpec) -> tuple[np.ndarray, np.ndarray]:
    heads = np.concatenate([h for h, _, _ in sample_triples(spec, chunk=7_000)])
    tails = np.concatenate([t for _, _, t in sample_triples(spec, chunk=7_000)])
    return np.bincount(heads, minlength=spec.n_entities), np.bincount(tails, minlength=spec.n_entities)


def test_heads_are_zipf_skewed_and_tails_uniform():
    spec = SyntheticSpec(200_000, seed=3)
    head_deg, tail_deg = degrees(spec)
    top = np.sort(head_deg)[::-1][: spec.n_entities // 100]
    # Zipf(1) over 25,000 ranks: the top 1% hold H(250)/H(25000) ≈ 6.1/10.7 ≈ 57% of the heads
    assert 0.50 < top.sum() / head_deg.sum() < 0.64
    # the top head holds ≈ 1/H(25000) ≈ 9.3%; the top tail barely above the mean of 8
    assert 0.08 < head_deg.max() / head_deg.sum() < 0.11
    assert tail_deg.max() < 40 and abs(tail_deg.mean() - 8) < 1e-9
    # the hubs are spread over the ids (a seeded permutation), not the first ids
    assert np.argmax(head_deg) != 0


def test_chunking_and_seed_decide_the_stream():
    spec = SyntheticSpec(50_000, seed=5)
    a = np.concatenate([h for h, _, _ in sample_triples(spec, chunk=50_000)])
    b = np.concatenate([h for h, _, _ in sample_triples(spec, chunk=50_000)])
    c = np.concatenate([h for h, _, _ in sample_triples(SyntheticSpec(50_000, seed=6), chunk=50_000)])
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_file_is_deterministic_and_builds(tmp_path):
    counts = write_power_law(tmp_path / "a.nt", 20_000, seed=1, chunk=6_000)
    write_power_law(tmp_path / "b.nt", 20_000, seed=1, chunk=6_000)
    digest = [hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.nt", "b.nt")]
    assert digest[0] == digest[1]
    lines = (tmp_path / "a.nt").read_text().splitlines()
    assert len(lines) == counts["lines"] == 20_000 + counts["labels"]
    assert counts["entities"] == 2_500 and abs(counts["labels"] / 2_500 - 0.10) < 0.02
    kg = KnowledgeGraph.load(build_graph([str(tmp_path / "a.nt")], tmp_path / "g", store=False))
    assert kg.num_relations == 50 == len(PREDICATES)
    assert kg.num_triples >= 19_900  # a few (h, r, t) repeat and are merged
    named = labelled_entities(SyntheticSpec(20_000, seed=1))
    e = kg.index_of(f"http://example.org/e/{named[0]}")
    label = kg.entity_label(e)
    assert label and kg.lookup(label) == e  # labels are unique names the graph can look up
    assert sum(1 for x in kg.entity_labels() if x) == counts["labels"]
