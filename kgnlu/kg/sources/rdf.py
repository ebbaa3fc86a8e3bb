"""RDF files as a graph source: N-Triples, N-Quads, Turtle, TriG, N3, RDF/XML, JSON-LD (gzip ok).

``read_quads(path)`` is the reusable reader: pyoxigraph quads from any supported file, syntax
errors as :class:`~kgnlu.errors.ParseError` with file, line and column. :class:`RdfSource` maps
the statements into a :class:`~kgnlu.kg.graph_builder.GraphBuilder` (see :mod:`rdf_mapping` for what
becomes a triple, label, alias, text or kind) and records the file so the graph's SPARQL store
loads it verbatim, literals and named graphs included. N-Triples and N-Quads take the line-level
fast path of :mod:`ntriples_fast`; the other formats go term by term through pyoxigraph, and
TriX/HexTuples through rdflib.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax import SAXParseException

import pyoxigraph
import rdflib
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat

from kgnlu.errors import ParseError, SourceError
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources.base import SOURCES, FileSource
from kgnlu.kg.sources.ntriples_fast import BATCH, ingest_lines
from kgnlu.kg.sources.rdf_formats import (
    N_QUADS,
    N_TRIPLES,
    RdfFileFormat,
    default_base_iri,
    is_gzip,
    line_too_long,
    longest_line,
    open_binary,
    parse_error,
    resolve_format,
)
from kgnlu.kg.sources.rdf_mapping import RdfMapper
from kgnlu.progress import progress_bar

__all__ = ["RdfSource", "blank_node_scope", "from_rdflib", "quad_batches", "read_quads"]


def read_quads(path: str | Path, fmt: str | RdfFormat | RdfFileFormat | None = None,
               base_iri: str | None = None) -> Iterator[Quad]:
    """Every quad of an RDF file (triples formats give quads in the default graph).

    ``fmt`` defaults to the extension's format; ``base_iri`` to the file's own URI for syntaxes
    with relative IRIs. Raises ParseError on a syntax error, SourceError on an unreadable file.
    """
    for batch in quad_batches(path, fmt, base_iri):
        yield from batch


def quad_batches(path: str | Path, fmt: str | RdfFormat | RdfFileFormat | None = None,
                 base_iri: str | None = None, size: int = BATCH) -> Iterator[list[Quad]]:
    """:func:`read_quads` in lists of up to ``size`` quads (cheaper to map in bulk)."""
    path = Path(path)
    form = resolve_format(path, fmt)
    base = base_iri if base_iri is not None else default_base_iri(path, form)
    if form.oxigraph is None:
        yield from _rdflib_batches(path, form, base, size)
        return
    with open_binary(path) as stream:
        try:
            parser = pyoxigraph.parse(stream, format=form.oxigraph, base_iri=base)
            while batch := list(itertools.islice(parser, size)):
                yield batch
        except SyntaxError as err:
            raise parse_error(path, err, form) from None
        except MemoryError:  # pyoxigraph's "buffer maximal size": a term past 16 MiB, no position
            line, size = longest_line(path)
            raise line_too_long(path, line, size, form) from None
        except OSError as err:
            raise SourceError(f"{path}: cannot read ({err})") from None


def from_rdflib(term: rdflib.term.Node) -> NamedNode | BlankNode | pyoxigraph.Literal:
    """An rdflib term as the pyoxigraph term the mapping reads."""
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return pyoxigraph.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return pyoxigraph.Literal(str(term), datatype=NamedNode(str(term.datatype)))
        return pyoxigraph.Literal(str(term))
    raise ValueError(f"not an RDF term: {term!r}")


def _rdflib_batches(path: Path, form: RdfFileFormat, base: str | None,
                    size: int) -> Iterator[list[Quad]]:
    """Formats pyoxigraph does not read: rdflib parses the whole file, then it streams out."""
    dataset = rdflib.Dataset()
    with open_binary(path) as stream:
        try:
            dataset.parse(source=stream, format=form.rdflib, publicID=base)
        except SAXParseException as err:
            raise ParseError(path, err.getLineNumber(), err.getColumnNumber(),
                             f"expected valid {form.name}: {err.getMessage()}") from None
        except (SyntaxError, ValueError, KeyError, TypeError, AttributeError) as err:
            # rdflib's parsers raise assorted exception types and rarely know a position.
            raise ParseError(path, getattr(err, "lineno", None), None,
                             f"expected valid {form.name}: {err}") from None
    quads = (
        Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o),
             DefaultGraph() if g is None or g == rdflib.graph.DATASET_DEFAULT_GRAPH_ID
             else from_rdflib(g))
        for s, p, o, g in dataset.quads((None, None, None, None))
    )
    while batch := list(itertools.islice(quads, size)):
        yield batch


def blank_node_scope(spec: str) -> str:
    """Per-source prefix for blank nodes: stable for one spec, distinct between specs."""
    return hashlib.sha256(spec.encode()).hexdigest()[:8]


_converted_dir: Path | None = None


def _store_copy(path: Path, form: RdfFileFormat, base: str | None) -> tuple[Path, str]:
    """N-Quads copy of a file pyoxigraph cannot load, for the SPARQL store (removed at exit).

    The store is written while the graph is built, in this process, so the copy lives long
    enough; the builder only records paths.
    """
    global _converted_dir
    if _converted_dir is None:
        _converted_dir = Path(tempfile.mkdtemp(prefix="kgnlu-rdf-"))
        atexit.register(shutil.rmtree, _converted_dir, True)
    fd, name = tempfile.mkstemp(suffix=".nq", dir=_converted_dir)
    with os.fdopen(fd, "wb") as out:
        pyoxigraph.serialize(read_quads(path, form, base), out, format=RdfFormat.N_QUADS)
    return Path(name), RdfFormat.N_QUADS.file_extension


@SOURCES.register("rdf")
class RdfSource(FileSource):
    """An RDF file; ``fmt`` overrides the extension, ``base_iri`` the file's URI as base."""

    name = "rdf"

    def __init__(self, path: str | Path, fmt: str | RdfFormat | None = None,
                 base_iri: str | None = None):
        self.path = Path(path)
        self.format = resolve_format(self.path, fmt)
        self.base_iri = base_iri if base_iri is not None else default_base_iri(self.path,
                                                                                self.format)

    def emit(self, builder: GraphBuilder) -> None:
        builder.begin_source(self.spec, self.name, self.checksum())
        mapper = RdfMapper(builder, blank_node_scope(self.spec))
        label = f"rdf {self.path.name}"
        if self.format in (N_TRIPLES, N_QUADS):
            size = self.path.stat().st_size if not is_gzip(self.path) else None
            with open_binary(self.path) as stream, progress_bar(size, label, "B") as bar:
                ingest_lines(stream, mapper, self.format, self.path, bar.update)
        else:
            with progress_bar(None, label, "statements") as bar:
                for batch in quad_batches(self.path, self.format, self.base_iri):
                    mapper.add_quads(batch)
                    bar.update(len(batch))
        mapper.finish()
        # The store loader reads the format back with RdfFormat.from_extension (and gunzips .gz).
        if self.format.oxigraph is not None:
            builder.add_rdf_file(self.path, self.format.oxigraph.file_extension)
        else:
            builder.add_rdf_file(*_store_copy(self.path, self.format, self.base_iri))
