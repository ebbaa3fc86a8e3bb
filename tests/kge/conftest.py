"""Small graphs for the KGE tests."""

from __future__ import annotations

import pytest
import torch

from kgnlu.kge import KGEData


@pytest.fixture(scope="session")
def kinships_graph(tmp_path_factory):
    pytest.importorskip("pykeen")
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    return KnowledgeGraph.load(build_graph(["pykeen:kinships"], tmp_path_factory.mktemp("kge") / "kinships",
                                           store=False))


def ring_data(num_entities: int = 12, seed: int = 0) -> KGEData:
    """A learnable toy graph: relation 0 maps e → e+1 (mod N), relation 1 maps e → e+2; random split."""
    g = torch.Generator().manual_seed(seed)
    e = torch.arange(num_entities)
    triples = torch.cat([torch.stack([e, torch.zeros_like(e), (e + 1) % num_entities], 1),
                         torch.stack([e, torch.ones_like(e), (e + 2) % num_entities], 1)])
    perm = torch.randperm(len(triples), generator=g)
    triples = triples[perm]
    return KGEData(triples[4:], triples[:2], triples[2:4], num_entities, 2, name="ring")
