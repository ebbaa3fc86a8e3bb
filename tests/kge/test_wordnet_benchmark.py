"""The WordNet benchmark: no inverse leakage, deterministic split, test entities seen in training."""

from __future__ import annotations

import pytest
import torch

from kgnlu.kge.wordnet_benchmark import (
    RELATIONS,
    SYMMETRIC,
    WordNetBenchmarkConfig,
    build_wordnet_benchmark,
)
from tests.conftest import require_wordnet

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def wordnet_graph(tmp_path_factory):
    require_wordnet()
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    return KnowledgeGraph.load(build_graph(["wordnet"], tmp_path_factory.mktemp("wn") / "wn", store=False),
                               verify=False)


def test_benchmark_properties(wordnet_graph, tmp_path):
    cfg = WordNetBenchmarkConfig(min_degree=3)
    bench = build_wordnet_benchmark(wordnet_graph, cfg)
    d = bench.data
    assert bench.relation_names == list(RELATIONS) and "hyponym" not in bench.relation_names
    assert 20_000 < d.num_entities < 60_000 and len(d.test) > 1000 and len(d.valid) > 1000
    train_entities = set(d.train[:, 0].tolist()) | set(d.train[:, 2].tolist())
    for split in (d.valid, d.test):
        assert set(split[:, 0].tolist()) <= train_entities and set(split[:, 2].tolist()) <= train_entities
    # a symmetric pair never straddles splits: no test triple's reverse is in training
    train = {tuple(x) for x in d.train.tolist()}
    sym = {i for i, n in enumerate(bench.relation_names) if n in SYMMETRIC}
    assert not any((t, r, h) in train for h, r, t in d.test.tolist() if r in sym)
    # deterministic
    again = build_wordnet_benchmark(wordnet_graph, cfg).data
    assert torch.equal(again.test, d.test) and torch.equal(again.train, d.train)
    out = bench.write_tsv(tmp_path / "wn")
    first = (out / "test.txt").read_text().splitlines()[0].split("\t")
    assert first[0].startswith("wn:") and first[1] in RELATIONS
