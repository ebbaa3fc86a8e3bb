"""A finished graph as plain sets and dicts keyed by external ids, for comparing two builds
whose internal ids differ (different sources, orders or parse paths)."""

from __future__ import annotations

from kgnlu.kg.graph_builder import GraphBuilder, GraphData
from kgnlu.kg.sources.rdf import blank_node_scope, read_quads
from kgnlu.kg.sources.rdf_mapping import RdfMapper


def generic(path) -> GraphBuilder:
    """``path`` mapped term by term from pyoxigraph's parser (read_quads), without the N-Triples fast path."""
    builder = GraphBuilder()
    builder.begin_source(str(path), "rdf")
    mapper = RdfMapper(builder, blank_node_scope(str(path)))
    mapper.add_quads(list(read_quads(path)))
    mapper.finish()
    return builder


def summarize(data: GraphData | GraphBuilder, *, bnodes: bool = True) -> dict:
    """Entities, relations, triples, labels, aliases, texts and kinds of a graph.

    With ``bnodes=False`` blank nodes (whose ids carry a per-source scope) are dropped from the
    id-keyed parts and only counted, so graphs read from different sources compare.
    """
    if isinstance(data, GraphBuilder):
        data = data.finalize()
    ents, rels = data.entity_ids, data.relation_ids

    def keep(e: str) -> bool:
        return bnodes or not e.startswith("_:")

    aliases = set()
    for i, key in enumerate(data.alias_keys):
        for e in data.alias_entities[data.alias_indptr[i]:data.alias_indptr[i + 1]].tolist():
            if keep(ents[e]):
                aliases.add((key, ents[e]))
    triples = [(ents[h], rels[r], ents[t]) for h, r, t in data.triples.tolist()]
    return {
        "entities": {e for e in ents if keep(e)},
        "blank_nodes": sum(e.startswith("_:") for e in ents),
        "relations": set(rels),
        "triples": {t for t in triples if keep(t[0]) and keep(t[2])},
        "num_triples": len(triples),
        "labels": {e: lab for e, lab in zip(ents, data.entity_labels, strict=True) if lab and keep(e)},
        "relation_labels": {r: lab for r, lab in zip(rels, data.relation_labels, strict=True) if lab},
        "aliases": aliases,
        "texts": {e: t for e, t in zip(ents, data.entity_texts, strict=True) if t and keep(e)},
        "kinds": {e: data.kinds[k] for e, k in zip(ents, data.entity_kinds.tolist(), strict=True)
                  if data.kinds[k] != "entity" and keep(e)},
        "literals": sum(s.literals for s in data.sources),
    }
