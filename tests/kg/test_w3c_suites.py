"""The W3C RDF 1.1 N-Triples, N-Quads and Turtle suites, one pytest case per W3C test.

Positive syntax tests must load (through ``read_quads`` and through the RDF source, whose
N-Triples/N-Quads fast path must agree with the parser), eval tests must yield exactly the
expected triples (blank nodes compared up to isomorphism), negative tests must be refused with a
ParseError by both.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF

from kgnlu.errors import ParseError
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources.rdf import RdfSource, read_quads

# The suites ship in the repository (tests/data/w3c/README.md: source and licence), so every
# clone runs them; a missing suite is a broken checkout and fails below, never skips.
SUITES = Path(__file__).resolve().parents[1] / "data" / "w3c"
SUITE_NAMES = ("rdf-n-triples", "rdf-n-quads", "rdf-turtle")
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
RDFT = rdflib.Namespace("http://www.w3.org/ns/rdftest#")


def _cases() -> list:
    cases = []
    for suite in SUITE_NAMES:
        folder = SUITES / suite
        if not (folder / "manifest.ttl").is_file():
            continue  # test_suites_present fails for it
        manifest = rdflib.Graph().parse(folder / "manifest.ttl", format="turtle",
                                        publicID=folder.as_uri() + "/manifest.ttl")
        # Where the W3C publishes the suite: relative IRIs in eval tests resolve against it.
        base = str(manifest.value(None, MF.assumedTestBase)
                   or f"https://w3c.github.io/rdf-tests/rdf/rdf11/{suite}/")
        for test in manifest.subjects(RDF.type, None):
            kind = manifest.value(test, RDF.type)
            if not str(kind).startswith(str(RDFT)):
                continue
            action = folder / str(manifest.value(test, MF.action)).rsplit("/", 1)[-1]
            result = manifest.value(test, MF.result)
            expected = folder / str(result).rsplit("/", 1)[-1] if result is not None else None
            name = str(test).rsplit("#", 1)[-1]
            cases.append(pytest.param(str(kind)[len(str(RDFT)):], action, expected,
                                      base + action.name, id=f"{suite}/{name}"))
    return sorted(cases, key=lambda p: p.id)


def _canonical(quads) -> set:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def _through_source(path: Path, base: str) -> GraphBuilder:
    builder = GraphBuilder()
    RdfSource(path, base_iri=base).emit(builder)
    return builder


def test_suites_present():
    """Every suite, with its manifest and every file the manifest names, is in the repository."""
    missing = [suite for suite in SUITE_NAMES if not (SUITES / suite / "manifest.ttl").is_file()]
    assert not missing, f"W3C suites missing from {SUITES}: {missing}; restore tests/data/w3c from git"
    cases = _cases()
    assert len(cases) == 470  # 70 N-Triples + 87 N-Quads + 313 Turtle tests in the copied manifests
    absent = [p.values[i] for p in cases for i in (1, 2) if p.values[i] is not None and not p.values[i].is_file()]
    assert not absent, f"files named by the manifests are missing: {absent[:5]}"


@pytest.mark.parametrize(("kind", "action", "expected", "base"), _cases())
def test_w3c(kind, action, expected, base):
    if "Negative" in kind:
        with pytest.raises(ParseError) as err:
            list(read_quads(action, base_iri=base))
        assert err.value.file == str(action)
        with pytest.raises(ParseError):
            _through_source(action, base)
        return
    quads = list(read_quads(action, base_iri=base))
    data = _through_source(action, base).finalize()
    # Every statement is either an integer triple or counted as store-only (literal) data;
    # duplicate statements are one triple.
    node_statements = {q.triple for q in quads if not isinstance(q.object, ox.Literal)}
    literal_statements = [q for q in quads if isinstance(q.object, ox.Literal)]
    assert len(data.triples) == len(node_statements)
    assert data.sources[0].literals <= len(literal_statements)
    if kind.endswith("Eval"):
        wanted = list(read_quads(expected, fmt="nt"))
        assert _canonical(quads) == _canonical(wanted)
