"""The graph's Oxigraph store: every fact as RDF, for SPARQL with bound parameters.

Built once at graph-build time from the finished arrays (entity triples, labels, kinds, texts)
plus any RDF source files loaded verbatim (literals and named graphs kept). Oxigraph stores a set,
so a triple that arrives both ways is stored once.
"""

from __future__ import annotations

import gc
import gzip
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from kgnlu.errors import SourceError
from kgnlu.kg.graph_builder import GraphData
from kgnlu.kg.namespaces import KGNLU_KIND, RDFS_COMMENT, RDFS_LABEL, expand

_LINE_FORMATS = (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS)
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _literal(text: str) -> str:
    return '"' + text.translate(_ESCAPES) + '"'


def _iri_or_bnode(ext_id: str, prefixes: dict[str, str]) -> str:
    return ext_id if ext_id.startswith("_:") else f"<{expand(ext_id, prefixes)}>"


def ntriples_lines(data: GraphData, prefixes: dict[str, str]) -> Iterator[str]:
    """N-Triples for every fact in ``data`` (one line each, newline-terminated)."""
    ents = [_iri_or_bnode(e, prefixes) for e in data.entity_ids]
    rels = [_iri_or_bnode(r, prefixes) for r in data.relation_ids]
    label, comment, kind_p = f"<{RDFS_LABEL}>", f"<{RDFS_COMMENT}>", f"<{KGNLU_KIND}>"
    triples = data.triples
    if data.in_verbatim_file is not None:  # those arrive with their RDF file, loaded as-is
        triples = triples[~data.in_verbatim_file]
    for h, r, t in triples.tolist():
        yield f"{ents[h]} {rels[r]} {ents[t]} .\n"
    kinds = [_literal(k) for k in data.kinds]
    for i, node in enumerate(ents):
        if data.entity_labels[i]:
            yield f"{node} {label} {_literal(data.entity_labels[i])} .\n"
        if data.entity_texts[i]:
            yield f"{node} {comment} {_literal(data.entity_texts[i])} .\n"
        yield f"{node} {kind_p} {kinds[int(data.entity_kinds[i])]} .\n"
    for i, node in enumerate(rels):
        if data.relation_labels[i]:
            yield f"{node} {label} {_literal(data.relation_labels[i])} .\n"


def _bulk_load_lines(store: ox.Store, lines: list[str]) -> None:
    try:
        store.bulk_load("".join(lines).encode("utf-8", "surrogatepass"), format=ox.RdfFormat.N_TRIPLES)
    except SyntaxError as err:
        raise SourceError(f"an id in the graph is not a valid IRI for the store: {err}. "
                          "Ids must be IRIs or CURIEs with a known prefix.") from None


def build_store(data: GraphData, prefixes: dict[str, str], path: Path, chunk_lines: int = 200_000) -> int:
    """Create the store at ``path``; returns the number of quads it holds."""
    store = ox.Store(str(path))
    try:
        batch: list[str] = []
        for line in ntriples_lines(data, prefixes):
            batch.append(line)
            if len(batch) >= chunk_lines:
                _bulk_load_lines(store, batch)
                batch.clear()
        if batch:
            _bulk_load_lines(store, batch)
        for file, fmt in data.rdf_files:
            rdf_format = fmt if isinstance(fmt, ox.RdfFormat) else ox.RdfFormat.from_extension(fmt)
            # Relative IRIs resolve against the file's own URI, exactly as the RDF source
            # resolved them for the integer triples (line-based formats have none).
            base = None if rdf_format in _LINE_FORMATS else Path(file).resolve().as_uri()
            with (gzip.open if file.suffix == ".gz" else open)(file, "rb") as f:
                store.bulk_load(f, format=rdf_format, base_iri=base)
        store.flush()
        return len(store)
    finally:
        del store
        gc.collect()  # pyoxigraph closes the store when the object is freed


def open_store(path: Path) -> ox.Store:
    return ox.Store.read_only(str(path))

