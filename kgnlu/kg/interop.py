"""Bridges to networkx (for a subgraph) and rdflib (the user-facing RDF API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kgnlu.errors import ConfigError

if TYPE_CHECKING:
    from kgnlu.kg.graph import KnowledgeGraph
    from kgnlu.kg.traversal import Subgraph

# networkx costs ~300 bytes per edge; past this, ask for a subgraph instead of exhausting memory.
MAX_NETWORKX_TRIPLES = 2_000_000


def to_networkx(kg: KnowledgeGraph, subgraph: Subgraph | None = None):
    import networkx as nx

    if subgraph is None:
        if kg.num_triples > MAX_NETWORKX_TRIPLES:
            raise ConfigError(f"{kg.num_triples:,} triples is too many for networkx; "
                              "pass a subgraph (kg.subgraph(seeds, hops))")
        nodes = np.arange(kg.num_entities)
        triples = np.asarray(kg.triples)
    else:
        nodes, triples = subgraph.nodes, subgraph.triples
    g = nx.MultiDiGraph(name=kg.name)
    for e in nodes.tolist():
        g.add_node(kg.entity_id(e), label=kg.entity_label(e), kind=kg.entity_kind(e), index=e)
    rel_ids = {r: kg.relation_id(r) for r in np.unique(triples[:, 1]).tolist()} if len(triples) else {}
    for h, r, t in triples.tolist():
        g.add_edge(kg.entity_id(h), kg.entity_id(t), key=rel_ids[r], relation=rel_ids[r],
                   label=kg.relation_label(r))
    return g


def to_rdflib(kg: KnowledgeGraph):
    """Every quad of the store in an rdflib Dataset's default graph (named graphs flattened)."""
    import pyoxigraph as ox
    import rdflib

    data = kg.store.dump(format=ox.RdfFormat.N_QUADS)
    g = rdflib.Graph()
    for prefix, base in kg.prefixes.items():
        g.bind(prefix, base)
    ds = rdflib.Dataset()
    ds.parse(data=data.decode("utf-8"), format="nquads")
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g
