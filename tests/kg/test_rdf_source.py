"""The RDF-file source: formats, the mapping into the builder, blank-node scoping, errors, and
the N-Triples fast path agreeing with pyoxigraph's parser."""

from __future__ import annotations

import gzip

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgnlu.errors import ParseError, SourceError
from kgnlu.kg import KnowledgeGraph
from kgnlu.kg.build import build_graph
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources import ntriples_fast, parse_source
from kgnlu.kg.sources.rdf import RdfSource, blank_node_scope, read_quads
from kgnlu.kg.sources.sparql import SparqlSource
from tests.kg.rdf_summary import generic, summarize

PEOPLE_TTL = """\
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <https://schema.org/> .
@prefix wn: <http://wordnet-rdf.princeton.edu/id/> .

ex:alice a schema:Person ;
    rdfs:label "Alice"@fr, "Alice Smith"@en, "Ali" ;
    skos:altLabel "Al" ;
    rdfs:comment "Une personne."@fr, "A person."@en, "Likes graphs." ;
    ex:age 42 ;
    ex:knows ex:bob, _:anon .
ex:bob a schema:Person, ex:Agent ;
    schema:name "Bob" ;
    ex:likes wn:02084071-n .
_:anon ex:knows ex:bob .
ex:knows rdfs:label "knows" .
"""
EX = "http://example.org/"


def emit(path, **kwargs) -> GraphBuilder:
    builder = GraphBuilder()
    RdfSource(path, **kwargs).emit(builder)
    return builder


def test_mapping_labels_aliases_texts_kinds_literals(tmp_path):
    path = tmp_path / "people.ttl"
    path.write_text(PEOPLE_TTL, encoding="utf-8")
    data = emit(path).finalize()
    s = summarize(data)
    alice, bob = EX + "alice", EX + "bob"
    anon = f"_:{blank_node_scope(str(path))}_anon"  # the blank node, scoped to this source
    assert s["blank_nodes"] == 1 and anon in s["entities"]
    assert s["triples"] == {
        (alice, "rdf:type", "schema:Person"), (alice, EX + "knows", bob),
        (bob, "rdf:type", "schema:Person"), (bob, "rdf:type", EX + "Agent"),
        (bob, EX + "likes", "wn:02084071-n"), (alice, EX + "knows", anon),
        (anon, EX + "knows", bob),
    }
    # an English (or language-less) label wins over the first one; every label is an alias
    # unlabelled named nodes are named by their IRI's local name (the dog synset's id has no word)
    assert s["labels"] == {alice: "Alice Smith", bob: "Bob", EX + "knows": "knows", EX + "Agent": "Agent",
                           "schema:Person": "Person"}
    assert s["relation_labels"] == {EX + "knows": "knows"}
    assert s["aliases"] == {("alice", alice), ("alice smith", alice), ("ali", alice),
                            ("al", alice), ("bob", bob), ("knows", EX + "knows"),
                            ("agent", EX + "Agent"), ("person", "schema:Person")}
    assert s["texts"] == {alice: "A person. Likes graphs."}
    assert s["kinds"] == {alice: "schema:Person", bob: "schema:Person"}
    assert s["literals"] == 1  # ex:age 42: kept only in the SPARQL store
    assert data.rdf_files == [(path, "ttl")]
    counts = data.sources[0]
    assert (counts.kind, counts.triples, counts.aliases) == ("rdf", 7, 6)


FORMATS = {
    "g.nt": ox.RdfFormat.N_TRIPLES, "g.nq": ox.RdfFormat.N_QUADS, "g.ttl": ox.RdfFormat.TURTLE,
    "g.trig": ox.RdfFormat.TRIG, "g.rdf": ox.RdfFormat.RDF_XML, "g.jsonld": ox.RdfFormat.JSON_LD,
    "g.n3": ox.RdfFormat.N3, "g.nt.gz": ox.RdfFormat.N_TRIPLES, "g.ttl.gz": ox.RdfFormat.TURTLE,
}


@pytest.mark.parametrize("name", [*FORMATS, "g.trix"])
def test_every_format_gives_the_same_graph(tmp_path, name):
    reference = tmp_path / "people.ttl"
    reference.write_text(PEOPLE_TTL, encoding="utf-8")
    quads = list(read_quads(reference))
    path = tmp_path / name
    if name == "g.trix":  # only rdflib writes and reads TriX
        import rdflib

        rdflib.Dataset().parse(reference).serialize(path, format="trix")
    else:
        payload = ox.serialize(quads if FORMATS[name].supports_datasets
                               else [q.triple for q in quads], format=FORMATS[name])
        path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
    data = emit(path).finalize()
    got, want = summarize(data, bnodes=False), summarize(emit(reference), bnodes=False)
    if name == "g.trix":
        # rdflib's store does not keep statement order, and the first rdf:type (kind), the
        # first preferred label and the order of texts follow statement order: compare what
        # does not depend on it.
        assert got.pop("kinds").keys() == want.pop("kinds").keys()
        assert got.pop("labels")[EX + "alice"] in {"Alice Smith", "Ali"}
        want.pop("labels")
        assert sorted(got.pop("texts")[EX + "alice"]) == sorted(want.pop("texts")[EX + "alice"])
    assert got == want
    stored, fmt = data.rdf_files[0]
    # the store gets a file pyoxigraph loads: the original, or an N-Quads copy for TriX
    assert ox.RdfFormat.from_extension(fmt) is not None
    opener = gzip.open if stored.suffix == ".gz" else open
    with opener(stored, "rb") as f:
        assert len(list(ox.parse(f, format=ox.RdfFormat.from_extension(fmt),
                                 base_iri="http://base.example/"))) == len(quads)


def test_named_graphs_are_flattened(tmp_path):
    path = tmp_path / "g.nq"
    path.write_text(f"<{EX}a> <{EX}p> <{EX}b> <{EX}g1> .\n<{EX}a> <{EX}p> <{EX}b> .\n"
                    f"<{EX}b> <{EX}p> <{EX}c> _:g2 .\n", encoding="utf-8")
    assert summarize(emit(path))["triples"] == {(EX + "a", EX + "p", EX + "b"),
                                                (EX + "b", EX + "p", EX + "c")}
    # every line with a graph name: the canonical (whole-chunk) path for quads
    path.write_text(f"<{EX}a> <{EX}p> <{EX}b> <{EX}g1> .\n<{EX}b> <{EX}p> <{EX}c> _:g2 .\n",
                    encoding="utf-8")
    assert summarize(emit(path))["triples"] == {(EX + "a", EX + "p", EX + "b"),
                                                (EX + "b", EX + "p", EX + "c")}
    path.write_text(f"<{EX}a> <{EX}p> <{EX}b> <{EX}g 1> .\n", encoding="utf-8")
    with pytest.raises(ParseError) as err:
        emit(path)
    assert err.value.line == 1 and "N-Quads" in err.value.expected


def test_blank_nodes_are_scoped_per_file(tmp_path):
    one, two = tmp_path / "one.nt", tmp_path / "two.ttl"
    one.write_text(f"_:b1 <{EX}p> <{EX}x> .\n_:b1 <{EX}q> <{EX}y> .\n", encoding="utf-8")
    two.write_text(f"_:b1 <{EX}p> <{EX}x> .\n", encoding="utf-8")
    builder = GraphBuilder()
    RdfSource(one).emit(builder)
    RdfSource(two).emit(builder)
    s = summarize(builder)
    assert s["blank_nodes"] == 2  # one per file; the same label inside one file is one node
    assert s["num_triples"] == 3


def test_ntriples_fast_path_matches_parser(tmp_path, monkeypatch):
    # Canonical lines, literals, comments, blank lines, CRLF, tabs, escapes and quads-free
    # N-Triples mixed, read in tiny chunks so lines cross chunk boundaries.
    lines = []
    for i in range(60):
        lines.append(f"<{EX}e{i}> <{EX}r{i % 3}> <{EX}e{(i * 7) % 60}> .")
        if i % 5 == 0:
            lines.append(f'<{EX}e{i}> <http://www.w3.org/2000/01/rdf-schema#label> "E {i}"@en .')
        if i % 11 == 0:
            lines.append(f"_:n{i} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}C> .")
        if i % 13 == 0:
            lines += ["# a comment", "", f"<{EX}e{i}>\t<{EX}r0> <{EX}\\u00e9{i}> . # tail"]
    path = tmp_path / "mixed.nt"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    expected = summarize(generic(path))
    for chunk in (1 << 23, 64, 7):
        monkeypatch.setattr(ntriples_fast, "CHUNK_BYTES", chunk)
        assert summarize(emit(path)) == expected


@pytest.mark.parametrize("chunk", [1 << 23, 50])
def test_syntax_errors_name_line_and_column(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(ntriples_fast, "CHUNK_BYTES", chunk)
    good = "".join(f"<{EX}a{i}> <{EX}p> <{EX}b> .\n" for i in range(5))
    path = tmp_path / "bad.nt"
    # line 7: a space inside an IRI, first detected by the fast path's token check
    path.write_text(good + f'<{EX}a> <{EX}p> "x" .\n<{EX}a> <{EX}p> <{EX}c d> .\n' + good)
    column = len(f"<{EX}a> <{EX}p> ") + 1  # where the object starts
    with pytest.raises(ParseError) as err:
        emit(path)
    assert (err.value.file, err.value.line, err.value.column) == (str(path), 7, column)
    assert "IRI" in err.value.expected and "N-Triples" in err.value.expected
    with pytest.raises(ParseError) as again:
        list(read_quads(path))
    assert (again.value.line, again.value.column) == (7, column)
    # an unterminated literal, after lines that stay on the fast path
    path.write_text(good + f'<{EX}a> <{EX}p> "open .\n')
    with pytest.raises(ParseError) as err:
        emit(path)
    assert (err.value.line, err.value.column) == (6, column)
    # Turtle: a missing dot before the next subject
    ttl = tmp_path / "bad.ttl"
    ttl.write_text("@prefix ex: <http://example.org/> .\nex:a ex:p ex:b\nex:c ex:p ex:d .\n")
    with pytest.raises(ParseError) as err:
        emit(ttl)
    assert (err.value.line, err.value.column) == (3, 1)


def test_invalid_utf8_is_a_parse_error(tmp_path):
    path = tmp_path / "bytes.nt"
    path.write_bytes(f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}p> <{EX}\xe9> .\n".encode()
                     .replace("\xe9".encode(), b"\xff"))
    with pytest.raises(ParseError, match="UTF-8") as err:
        emit(path)
    assert err.value.line == 2


def test_format_from_extension_or_argument(tmp_path):
    path = tmp_path / "data.unknown"
    path.write_text(f"<{EX}a> <{EX}p> <{EX}b> .\n")
    with pytest.raises(SourceError, match=r"\.nt.*\.ttl|\.ttl.*\.nt"):
        RdfSource(path)
    assert summarize(emit(path, fmt="ntriples"))["num_triples"] == 1
    with pytest.raises(SourceError, match="unknown RDF format"):
        RdfSource(path, fmt="yaml")
    with pytest.raises(SourceError, match="no such file"):
        emit(tmp_path / "missing.nt")
    assert isinstance(parse_source(str(tmp_path / "x.ttl"))[0], RdfSource)
    assert isinstance(parse_source("rdf:" + str(tmp_path / "y.nt.gz"))[0], RdfSource)
    sparql = parse_source("sparql:http://127.0.0.1:9/query")[0]
    assert isinstance(sparql, SparqlSource) and sparql.spec == "sparql:http://127.0.0.1:9/query"


def test_built_graph_keeps_literals_in_the_store(tmp_path):
    path = tmp_path / "people.ttl"
    path.write_text(PEOPLE_TTL, encoding="utf-8")
    kg = KnowledgeGraph.load(build_graph([str(path)], tmp_path / "g"))
    assert kg.entity_label(kg.index_of(EX + "alice")) == "Alice Smith"
    rows = kg.sparql(f"SELECT ?age WHERE {{ <{EX}alice> <{EX}age> ?age }}")
    assert [r["age"] for r in rows] == [42]


# -- property: N-Triples round trip through read_quads and through the fast path -------------
_BASES = ["http://example.org/", "http://wordnet-rdf.princeton.edu/id/", "https://schema.org/",
          "http://ex.org/é/"]
_local = st.text(st.characters(categories=("L", "N"), exclude_characters="\ufffd")
                 | st.sampled_from("-._~/"), max_size=8)
iris = st.builds(lambda base, local: ox.NamedNode(base + local), st.sampled_from(_BASES), _local)
blanks = st.builds(ox.BlankNode, st.text("abcxyz0189", min_size=1, max_size=4).map("b".__add__))
_special = [ox.NamedNode("http://www.w3.org/" + p) for p in (
    "2000/01/rdf-schema#label", "2004/02/skos/core#altLabel", "2000/01/rdf-schema#comment",
    "1999/02/22-rdf-syntax-ns#type")]
predicates = st.sampled_from(_special) | iris
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
literals = (
    st.builds(ox.Literal, _text)
    | st.builds(lambda v, lang: ox.Literal(v, language=lang), _text,
                st.from_regex(r"[a-z]{2,3}(-[A-Z]{2})?", fullmatch=True))
    | st.builds(lambda v, dt: ox.Literal(v, datatype=dt), _text, iris)
)
triples = st.builds(ox.Triple, iris | blanks, predicates, iris | blanks | literals)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(triples, max_size=25), st.sampled_from([1 << 23, 40]))
def test_ntriples_round_trip(tmp_path, statements, chunk):
    path = tmp_path / "rt.nt"
    path.write_bytes(ox.serialize(statements, format=ox.RdfFormat.N_TRIPLES))
    assert {q.triple for q in read_quads(path)} == set(statements)
    old = ntriples_fast.CHUNK_BYTES
    ntriples_fast.CHUNK_BYTES = chunk
    try:
        assert summarize(emit(path)) == summarize(generic(path))
    finally:
        ntriples_fast.CHUNK_BYTES = old
