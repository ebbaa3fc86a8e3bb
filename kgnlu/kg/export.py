"""Write a graph out as N-Triples, TSV or GraphML (atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kgnlu.errors import ExportError
from kgnlu.io import atomic_path, atomic_write
from kgnlu.kg.namespaces import expand

if TYPE_CHECKING:
    from kgnlu.kg.graph import KnowledgeGraph

FORMATS = ("nt", "tsv", "graphml")


def export_graph(kg: KnowledgeGraph, fmt: str, out: str | Path) -> int:
    """Returns the number of triples (edges for GraphML) written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "nt":
        return _export_nt(kg, Path(out))
    if fmt == "tsv":
        # Full IRIs in angle brackets: unambiguous, and the TSV reader maps them back to the
        # same ids (minted urn:kgnlu: ids regain their namespace).
        ids = [f"<{kg.entity_iri(e)}>" for e in range(kg.num_entities)]
        rels = [f"<{expand(kg.relation_id(r), kg.prefixes)}>" for r in range(kg.num_relations)]
        with atomic_write(out) as f:
            f.write("head\trelation\ttail\n")
            for h, r, t in np.asarray(kg.triples).tolist():
                f.write(f"{ids[h]}\t{rels[r]}\t{ids[t]}\n")
        return kg.num_triples
    import networkx as nx

    g = kg.to_networkx()
    with atomic_path(out) as tmp:
        nx.write_graphml(g, tmp)
    return g.number_of_edges()


def _export_nt(kg: KnowledgeGraph, out: Path) -> int:
    import pyoxigraph as ox

    if not kg.manifest.get("has_store"):
        raise ExportError("this graph has no SPARQL store to export N-Triples from; "
                          "rebuild without --no-store, or export --format tsv")
    with atomic_write(out, "wb") as f:
        # Default graph only: N-Triples has no named graphs (export the store as N-Quads for those).
        kg.store.dump(f, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    with open(out, "rb") as f:
        return sum(1 for _ in f)
