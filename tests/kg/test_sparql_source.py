"""The SPARQL source against a real local Oxigraph server (``oxigraph serve-read-only``)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kgnlu.errors import ConfigError, SourceError
from kgnlu.kg import KnowledgeGraph
from kgnlu.kg.build import build_graph
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources.rdf import RdfSource
from kgnlu.kg.sources.sparql import SparqlSource
from tests.kg.rdf_summary import summarize

EX = "http://example.org/"
DATA = f"""\
<{EX}alice> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Person> .
<{EX}alice> <http://www.w3.org/2000/01/rdf-schema#label> "Alice"@en .
<{EX}alice> <http://www.w3.org/2004/02/skos/core#altLabel> "Al" .
<{EX}alice> <http://www.w3.org/2000/01/rdf-schema#comment> "A person." .
<{EX}alice> <{EX}age> "42"^^<http://www.w3.org/2001/XMLSchema#integer> .
<{EX}alice> <{EX}knows> <{EX}bob> .
<{EX}alice> <{EX}knows> _:someone .
_:someone <{EX}knows> <{EX}bob> .
<{EX}bob> <https://schema.org/name> "Bob \\"the builder\\""@en .
<{EX}bob> <{EX}likes> <http://wordnet-rdf.princeton.edu/id/02084071-n> .
<{EX}bob> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Person> .
"""
OXIGRAPH = Path(sys.executable).with_name("oxigraph")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """(query URL, data file) of an Oxigraph server holding DATA; stopped after the module."""
    if not OXIGRAPH.exists() and shutil.which("oxigraph") is None:
        pytest.skip("the oxigraph server (PyPI 'oxigraph', a dev dependency) is not installed")
    binary = str(OXIGRAPH) if OXIGRAPH.exists() else shutil.which("oxigraph")
    folder = tmp_path_factory.mktemp("sparql")
    data = folder / "data.nt"
    data.write_text(DATA, encoding="utf-8")
    subprocess.run([binary, "load", "--location", str(folder / "db"), "--file", str(data)],
                   check=True, capture_output=True, timeout=60)
    port = _free_port()
    server = subprocess.Popen(
        [binary, "serve-read-only", "--location", str(folder / "db"), "--bind",
         f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + 20
        while True:  # bounded by the deadline
            try:
                with urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("oxigraph server did not start: "
                                       + server.stderr.read().decode(errors="replace")) from None
                time.sleep(0.1)
        yield url, data
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def read(source) -> GraphBuilder:
    builder = GraphBuilder()
    source.emit(builder)
    return builder


@pytest.mark.parametrize("page_size", [10_000, 3, 1])
def test_endpoint_reads_like_the_file(endpoint, page_size):
    url, data = endpoint
    source = SparqlSource(url, page_size=page_size)
    from_endpoint = summarize(read(source), bnodes=False)
    from_file = summarize(read(RdfSource(data)), bnodes=False)
    assert from_endpoint == from_file
    assert from_endpoint["blank_nodes"] == 1  # one blank node across all pages
    assert from_endpoint["labels"][EX + "bob"] == 'Bob "the builder"'
    assert from_endpoint["literals"] == 1


def test_checksum_is_a_digest_of_the_triples(endpoint):
    url, _ = endpoint
    small_pages = SparqlSource(url, page_size=2)
    builder = GraphBuilder()
    small_pages.emit(builder)
    checksum = builder.finalize().sources[0].checksum
    assert checksum.startswith("sha256-sum:") and checksum.endswith(":11")
    assert SparqlSource(url).checksum() == checksum  # page size and order do not matter
    only_types = SparqlSource(url, query="SELECT ?s ?p ?o WHERE { ?s a ?o BIND("
                              "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> AS ?p) }")
    assert only_types.checksum() != checksum


def test_user_construct_and_select_queries(endpoint):
    url, _ = endpoint
    construct = SparqlSource(url, query=f"CONSTRUCT {{ ?s <{EX}knows> ?o }} "
                                        f"WHERE {{ ?s <{EX}knows> ?o }} ORDER BY ?s ?o",
                             page_size=2)
    s = summarize(read(construct), bnodes=False)
    assert s["triples"] == {(EX + "alice", EX + "knows", EX + "bob")}
    assert s["num_triples"] == 3
    select = SparqlSource(url, query="PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                                     "SELECT ?s ?p ?o WHERE { ?s rdfs:label ?o BIND(rdfs:label AS ?p) }")
    s = summarize(read(select))
    assert s["labels"] == {EX + "alice": "Alice"} and s["num_triples"] == 0


def test_bad_queries_fail_before_any_request():
    url = "http://127.0.0.1:9/query"
    with pytest.raises(ConfigError, match="does not parse"):
        SparqlSource(url, query="SELECT WHERE {")
    with pytest.raises(ConfigError, match=r"\?s \?p \?o"):
        SparqlSource(url, query="SELECT ?x WHERE { ?x ?y ?z }")
    with pytest.raises(ConfigError, match="not ASK"):
        SparqlSource(url, query="ASK { ?s ?p ?o }")
    with pytest.raises(SourceError, match="not an http"):
        SparqlSource("ftp://127.0.0.1/query")


def test_unreachable_endpoint_names_the_url():
    url = f"http://127.0.0.1:{_free_port()}/query"  # nothing listens there
    with pytest.raises(SourceError, match="refused") as err:
        read(SparqlSource(url, timeout=5))
    assert url in str(err.value)


def test_wrong_path_on_a_live_server(endpoint):
    url, _ = endpoint
    bad = url.rsplit("/", 1)[0] + "/nothing-here"
    with pytest.raises(SourceError, match="HTTP 404") as err:
        read(SparqlSource(bad))
    assert bad in str(err.value)


def test_built_graphs_from_file_and_endpoint_agree(endpoint, tmp_path):
    url, data = endpoint
    from_file = KnowledgeGraph.load(build_graph([str(data)], tmp_path / "file", store=False))
    from_endpoint = KnowledgeGraph.load(build_graph([f"sparql:{url}"], tmp_path / "sparql",
                                                    store=False))

    def named(kg):
        return {e for e in kg.entity_ids() if not e.startswith("_:")}

    def triples(kg):
        return {t for t in kg.external_triples() if not any(x.startswith("_:") for x in t)}

    assert named(from_file) == named(from_endpoint)
    assert from_file.num_entities == from_endpoint.num_entities
    assert triples(from_file) == triples(from_endpoint)
    assert from_file.num_triples == from_endpoint.num_triples
