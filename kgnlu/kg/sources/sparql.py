"""A SPARQL 1.1 endpoint as a graph source (``sparql:URL``), read through rdflib's SPARQLStore.

By default every triple of the endpoint's default graph is read, a page at a time:
``SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT n OFFSET k``. SELECT rather than
CONSTRUCT because a CONSTRUCT page comes back as an RDF document whose blank nodes rdflib renames
on every parse, so a blank node met on two pages would become two entities; SELECT results keep
the endpoint's blank-node labels (stable across pages on Oxigraph, Virtuoso, QLever, Fuseki).
A user query may be a CONSTRUCT or a ``SELECT ?s ?p ?o``; it is paged the same way when it has an
ORDER BY and no LIMIT/OFFSET of its own (paging without an order is not guaranteed stable), else
run once as given. Statements map into the builder exactly as an RDF file's do
(:mod:`rdf_mapping`).

The checksum is a digest of the set of triples read (order-independent: the sum of the sha256 of
each triple's N-Triples line), computed while reading, so it needs no copy of the data.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
from collections.abc import Iterator
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

import rdflib
from pyoxigraph import Triple
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from kgnlu.errors import ConfigError, SourceError
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources.base import SOURCES, Source
from kgnlu.kg.sources.rdf import blank_node_scope, from_rdflib
from kgnlu.kg.sources.rdf_mapping import RdfMapper
from kgnlu.progress import progress_bar

DEFAULT_QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
_MODIFIERS = {"Project", "Distinct", "Reduced", "ToMultiSet"}  # algebra nodes above an ORDER BY


def _plan(query: str) -> tuple[str, bool]:
    """("CONSTRUCT" | "SELECT", pageable) for a query; a bad query is a ConfigError, early."""
    try:
        algebra = prepareQuery(query).algebra
    except Exception as err:  # pyparsing and rdflib raise many types for a bad query
        raise ConfigError(f"the SPARQL query does not parse: {err}. Give a CONSTRUCT query or "
                          "a SELECT of ?s ?p ?o.") from None
    if algebra.name == "ConstructQuery":
        kind = "CONSTRUCT"
    elif algebra.name == "SelectQuery":
        if not {"s", "p", "o"} <= {str(v) for v in algebra.PV}:
            raise ConfigError("a SELECT query for the sparql source must bind ?s ?p ?o "
                              f"(it selects {', '.join('?' + str(v) for v in algebra.PV)})")
        kind = "SELECT"
    else:
        raise ConfigError(f"the sparql source runs CONSTRUCT or SELECT ?s ?p ?o queries, "
                          f"not {algebra.name.removesuffix('Query').upper()}")
    node = algebra.p
    if node.name == "Slice":
        return kind, False  # the query pages itself (or wants only its own slice)
    while node is not None and node.name in _MODIFIERS:
        node = node.get("p")
    return kind, node is not None and node.name == "OrderBy"


@contextlib.contextmanager
def _socket_timeout(seconds: float | None) -> Iterator[None]:
    # rdflib's connector calls urlopen without a timeout; the process default is its only knob.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _describe(err: BaseException) -> str:
    if isinstance(err, HTTPError):
        try:
            body = err.read().decode("utf-8", "replace").strip()
        except OSError:
            body = ""
        return f"HTTP {err.code} {err.reason}" + (f": {body[:300]}" if body else "")
    if isinstance(err, URLError):
        return str(err.reason)
    return f"{type(err).__name__}: {err}"


@SOURCES.register("sparql")
class SparqlSource(Source):
    """Triples from a SPARQL endpoint; ``query`` and ``page_size`` are Python-API options."""

    name = "sparql"

    def __init__(self, url: str, query: str | None = None, page_size: int = 10_000,
                 timeout: float = 60.0):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SourceError(f"sparql source: {url!r} is not an http(s) URL. Give the "
                              "endpoint's query URL, e.g. sparql:http://127.0.0.1:7878/query")
        if page_size < 1:
            raise ConfigError(f"page_size must be >= 1, got {page_size}")
        self.url = url
        self.query = query if query is not None else DEFAULT_QUERY
        self.kind, self.paged = _plan(self.query)
        self.page_size = page_size
        self.timeout = timeout
        self._checksum: str | None = None

    @classmethod
    def from_spec(cls, argument: str | None) -> SparqlSource:
        if not argument:
            raise SourceError("the sparql source needs an endpoint: sparql:URL "
                              "(e.g. sparql:http://127.0.0.1:7878/query)")
        return cls(argument)

    @property
    def spec(self) -> str:
        return f"sparql:{self.url}"

    def checksum(self) -> str:
        """Digest of the triples read; reads the endpoint unless :meth:`emit` already did."""
        if self._checksum is None:
            digest = _TripleDigest()
            for page in self._pages():
                digest.update(page)
            self._checksum = digest.hexdigest()
        return self._checksum

    def emit(self, builder: GraphBuilder) -> None:
        # The checksum is only known once everything is read: it is filled in at the end.
        counts = builder.begin_source(self.spec, self.name, "")
        if self.query != DEFAULT_QUERY:
            counts.extra["query"] = self.query
        mapper = RdfMapper(builder, blank_node_scope(self.spec))
        digest = _TripleDigest()
        with progress_bar(None, f"sparql {self.url}", "triples") as bar:
            for page in self._pages():
                digest.update(page)
                mapper.add_quads(page)
                bar.update(len(page))
        mapper.finish()
        self._checksum = counts.checksum = digest.hexdigest()

    # -- reading -------------------------------------------------------------------------------
    def _pages(self) -> Iterator[list[Triple]]:
        graph = rdflib.Graph(store=SPARQLStore(query_endpoint=self.url))
        if not self.paged:
            yield self._run(graph, self.query)
            return
        offset, previous = 0, None
        while True:  # ends on a short page; a server ignoring OFFSET is caught below
            page = self._run(graph, f"{self.query}\nLIMIT {self.page_size} OFFSET {offset}")
            if page:
                if page == previous:
                    raise SourceError(f"SPARQL endpoint {self.url} returned the same page for "
                                      f"OFFSET {offset - self.page_size} and {offset}: it does "
                                      "not page with LIMIT/OFFSET. Give a query with its own "
                                      "LIMIT or no ORDER BY to read it in one request.")
                yield page
            # A CONSTRUCT page may shrink below the page size by de-duplication alone.
            if not page or (self.kind == "SELECT" and len(page) < self.page_size):
                return
            offset += self.page_size
            previous = page

    def _run(self, graph: rdflib.Graph, query: str) -> list[Triple]:
        try:
            with _socket_timeout(self.timeout):
                result = graph.query(query)
                rows = list(result.graph if result.type == "CONSTRUCT" else result)
        except (ValueError, OSError) as err:
            # rdflib wraps every request failure in a ValueError; the cause is its context.
            cause = err.__context__ if isinstance(err.__context__, URLError | OSError) else err
            raise SourceError(f"SPARQL endpoint {self.url} failed: {_describe(cause)}. Check "
                              "that the server is running and that the URL is its query "
                              "endpoint (for Oxigraph, http://HOST:PORT/query).") from None
        triples = []
        for row in rows:
            s, p, o = row[0], row[1], row[2]
            if not isinstance(s, rdflib.URIRef | rdflib.BNode) or not isinstance(p, rdflib.URIRef) \
                    or o is None:
                raise SourceError(f"SPARQL endpoint {self.url}: the query returned a row that "
                                  f"is not an RDF triple ({s!r}, {p!r}, {o!r}). Make ?s an IRI "
                                  "or blank node, ?p an IRI and bind ?o.")
            triples.append(Triple(from_rdflib(s), from_rdflib(p), from_rdflib(o)))
        return triples


class _TripleDigest:
    """Order-independent sha256 digest of a set of triples (re-reads give the same value)."""

    def __init__(self) -> None:
        self._total = 0
        self._count = 0

    def update(self, triples: list[Triple]) -> None:
        for t in triples:
            line = f"{t} .\n".encode()
            self._total += int.from_bytes(hashlib.sha256(line).digest(), "big")
        self._count += len(triples)

    def hexdigest(self) -> str:
        return f"sha256-sum:{self._total % (1 << 256):064x}:{self._count}"
