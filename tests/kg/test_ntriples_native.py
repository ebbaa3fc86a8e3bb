"""The native N-Triples path (numpy line cutting, pyarrow dictionary encoding and RE2 checks):
the same graph as pyoxigraph's parser on mixed, escaped, chunked and huge inputs, the id order it
documents, errors with the file's line numbers, and its pieces against their Python references."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgnlu.errors import ParseError
from kgnlu.kg import graph_builder
from kgnlu.kg.graph_builder import (
    _UNNAMED,
    _WORD,
    GraphBuilder,
    _unique_triples,
    _unique_triples_wide,
    alias_key,
    alias_keys,
    local_names_in_words,
)
from kgnlu.kg.namespaces import local_name, name_words
from kgnlu.kg.sources import ntriples_fast
from kgnlu.kg.sources.interning import IRI_TOKEN, NODE_TOKEN
from kgnlu.kg.sources.rdf import RdfSource, blank_node_scope, read_quads
from tests.kg.rdf_summary import generic, summarize

EX = "http://example.org/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SETTINGS = settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def emit(path, chunk: int = 1 << 23) -> GraphBuilder:
    old = ntriples_fast.CHUNK_BYTES
    ntriples_fast.CHUNK_BYTES = chunk
    try:
        builder = GraphBuilder()
        RdfSource(path).emit(builder)
        return builder
    finally:
        ntriples_fast.CHUNK_BYTES = old


# -- generated files: every kind of line, mixed --------------------------------------------------
_nodes = st.one_of(
    st.integers(0, 40).map(lambda i: f"<{EX}e{i}>"),
    st.integers(0, 9).map(lambda i: f"_:b{i}"),
    st.integers(0, 5).map(lambda i: f"<{EX}\u00e9t\u00e9{i}>"),  # non-ASCII: the exact check
    st.integers(0, 5).map(lambda i: f"<http://wordnet-rdf.princeton.edu/id/{i}-n>"),  # a CURIE
    st.integers(0, 3).map(lambda i: f"<rdfs:x{i}>"),  # the same ext id as the next one
    st.integers(0, 3).map(lambda i: f"<{RDFS}x{i}>"),
    st.sampled_from([f"<{EX}%41b>", f"<{EX}a?q=1#f>", "<urn:isbn:1234>", "<http://h:8080/p>"]),
)
_predicates = st.sampled_from([f"<{EX}r{i}>" for i in range(4)] + [
    "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>", f"<{RDFS}label>", f"<{RDFS}comment>",
    "<http://www.w3.org/2004/02/skos/core#altLabel>", "<https://schema.org/name>"])
_text = st.text(st.characters(codec="utf-8", exclude_characters='"\\\r\n'), max_size=10)
_literals = st.one_of(
    _text.map(lambda t: f'"{t}"'),
    st.tuples(_text, st.sampled_from(["en", "EN", "en-GB", "fr", "zh-Hans-CN", "es-419"])).map(
        lambda v: f'"{v[0]}"@{v[1]}'),
    _text.map(lambda t: f'"{t}"^^<http://www.w3.org/2001/XMLSchema#string>'),
    _text.map(lambda t: f'"{t}\\u00e9 \\"q\\""@en'),  # escapes: the parser's line
)
_odd = st.sampled_from([
    "", "# a comment", "   ", f"<{EX}a>\t<{EX}r0> <{EX}b> .", f"<{EX}a> <{EX}r0> <{EX}b> . # tail",
    f"<{EX}\\u00e9> <{EX}r1> <{EX}b> .", f"<{EX}a>  <{EX}r2> <{EX}b> .", f"<{EX}a> <{EX}r2> <{EX}b>.",
])
_lines = st.one_of(
    st.tuples(_nodes, _predicates, _nodes).map(" ".join).map(lambda s: s + " ."),
    st.tuples(_nodes, _predicates, _literals).map(" ".join).map(lambda s: s + " ."),
    _odd,
)


@_SETTINGS
@given(st.lists(_lines, max_size=40), st.sampled_from([1 << 23, 200, 29]), st.booleans())
def test_mixed_lines_give_the_parsers_graph(tmp_path, lines, chunk, crlf):
    path = tmp_path / "mixed.nt"
    newline = "\r\n" if crlf else "\n"
    path.write_bytes((newline.join(lines) + newline).encode())
    assert summarize(emit(path, chunk)) == summarize(generic(path))


def test_chunk_boundaries_and_huge_distinct_term_counts(tmp_path):
    # 30k lines of all-distinct terms, read in 64 KiB chunks: every chunk interns new terms and
    # meets old ones (the i - 7 objects); labels cross chunks too.
    n = 30_000
    lines = [f"<{EX}s{i}> <{EX}p{i % 97}> <{EX}o{i}> .\n<{EX}s{i}> <{EX}p0> <{EX}o{max(i - 7, 0)}> .\n"
             f'<{EX}o{i}> <{RDFS}label> "Object {i}"@en .\n' for i in range(n)]
    path = tmp_path / "big.nt"
    path.write_text("".join(lines), encoding="utf-8")
    native = emit(path, 1 << 16).finalize()
    assert len(native.entity_ids) == 2 * n and len(native.triples) == 2 * n - 1  # (s0, p0, o0) twice
    assert summarize(native) == summarize(generic(path))
    assert summarize(emit(path, 1 << 23)) == summarize(native)


def test_id_order_first_seen_per_chunk(tmp_path):
    # subjects first (first appearance), then new objects, then the literal lines' subjects
    path = tmp_path / "order.nt"
    path.write_text(f"<{EX}s1> <{EX}p> <{EX}o1> .\n<{EX}s2> <{EX}q> <{EX}s1> .\n"
                    f'<{EX}x> <{RDFS}label> "X" .\n_:z <{EX}p> <{EX}o2> .\n', encoding="utf-8")
    data = emit(path).finalize()
    scope = blank_node_scope(str(path))
    assert data.entity_ids == [EX + "s1", EX + "s2", f"_:{scope}_z", EX + "o1", EX + "o2", EX + "x"]
    assert data.relation_ids == [EX + "p", EX + "q"]
    assert data.triples.tolist() == [[0, 0, 3], [1, 1, 0], [2, 0, 4]]
    assert data.entity_labels[5] == "X"


@pytest.mark.parametrize("chunk", [1 << 23, 90])
@pytest.mark.parametrize("bad", [
    '"x"@abcdefghi',  # a subtag of nine letters: the parser refuses it
    '"x"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#langString>',  # needs a language tag
    f"<{EX}c d>",  # a space inside an IRI
])
def test_errors_keep_the_files_line_numbers(tmp_path, chunk, bad):
    good = "".join(f'<{EX}a{i}> <{EX}p> <{EX}b> .\n<{EX}a{i}> <{RDFS}label> "A {i}" .\n'
                   for i in range(4))
    path = tmp_path / "bad.nt"
    path.write_text(good + f"<{EX}a> <{EX}p> {bad} .\n" + good, encoding="utf-8")
    with pytest.raises(ParseError) as err:
        emit(path, chunk)
    with pytest.raises(ParseError) as parser:
        list(read_quads(path))
    assert (err.value.line, err.value.column) == (parser.value.line, parser.value.column)
    assert err.value.line == 9 and err.value.column > len(f"<{EX}a> <{EX}p> ")


def test_invalid_utf8_in_a_literal_is_the_parsers_error(tmp_path):
    path = tmp_path / "bytes.nt"
    path.write_bytes(f'<{EX}a> <{RDFS}label> "ok" .\n<{EX}a> <{RDFS}label> "\xe9" .\n'.encode()
                     .replace("\xe9".encode(), b"\xff"))
    with pytest.raises(ParseError, match="UTF-8") as err:
        emit(path)
    assert err.value.line == 2


# -- the pieces against their references ---------------------------------------------------------
_iri_chars = "abcXYZ019-._~!$&'()*+,;=:@/?#%[]"


@_SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["http", "urn", "a+b", "x.y", "1a", ""]),
                          st.sampled_from(["://", ":", ":/", "//"]),
                          st.text(_iri_chars + "\u00e9 <>\\^{}|`\"\t", max_size=14)), max_size=60))
def test_re2_patterns_accept_only_what_pyoxigraph_accepts(parts):
    iris = [a + b + c for a, b, c in parts] + [f"{EX}e1", "http://h:8080/p?q=1#f", "urn:isbn:1",
                                               "http://ex.org/%41", "mailto:a@b.c"]
    tokens = pa.array([f"<{iri}> ".encode() for iri in iris], type=pa.binary())
    as_iri = pc.match_substring_regex(tokens, IRI_TOKEN).to_pylist()
    as_node = pc.match_substring_regex(tokens, NODE_TOKEN).to_pylist()
    assert as_iri == as_node  # an IRI token is a node token and vice versa
    for iri, accepted in zip(iris, as_iri, strict=True):
        if accepted:
            ox.NamedNode(iri)  # raises if the pattern let through an IRI the parser refuses
    assert all(as_iri[-5:])  # the ordinary ones stay on the fast path
    blanks = pa.array([b"_:b1 ", b"_:a.b ", b"_:a. ", b"_:.a ", b"_:\xc3\xa9 "], type=pa.binary())
    assert pc.match_substring_regex(blanks, NODE_TOKEN).to_pylist() == [True, True, False, False, False]


_surface = st.text(st.sampled_from(" \t\n\x0b\x0c\r\x1c\x1f\x85\xa0\u2003\u200baZbQ\u00c9\u00df1.-_#/:%"),
                   max_size=12)


@_SETTINGS
@given(st.lists(_surface, max_size=50))
def test_bulk_alias_keys_and_local_names_match_their_references(surfaces):
    assert alias_keys(surfaces) == [alias_key(s) for s in surfaces]
    ids = surfaces + ["http://ex.org/AdaLovelace", "http://x/getHTTPResponseCode", "wn:02084071-n",
                      "rdf:type", "_:b1", "http://x/a/", "ABcDEf"]

    def reference(ext: str) -> str | None:
        if ext.startswith(_UNNAMED):
            return None
        name = name_words(local_name(ext))
        return name if _WORD.search(name) else None

    got = local_names_in_words(ids)
    assert got == [reference(e) for e in ids]
    assert got[-7:] == ["Ada Lovelace", "get HTTP Response Code", None, None, None, None, "A Bc D Ef"]


@_SETTINGS
@given(st.lists(st.tuples(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2), st.integers(0, 4),
                                             st.integers(0, 2)), max_size=12),
                          st.integers(-1, 2)), max_size=5))
def test_packed_key_dedupe_matches_row_sort(chunks):
    # chunks: rows (head, relation, tail, split) of a source index, sources in order
    chunks = sorted(chunks, key=lambda c: c[1])
    arrays = [(np.array([r[:3] for r in rows], dtype=np.int32).reshape(-1, 3),
               np.array([r[3] for r in rows], dtype=np.uint8)) for rows, _ in chunks]
    sources = [source for _, source in chunks]
    wide = _unique_triples_wide(arrays, sources, 5, 3)
    for block in (1 << 20, 2):  # one block, and many (the key is decoded block by block)
        graph_builder._BLOCK = block
        try:
            packed = _unique_triples(arrays, sources, 5, 3, 3)
        finally:
            graph_builder._BLOCK = 1 << 20
        for a, b in zip(packed, wide, strict=True):
            assert a.tolist() == b.tolist()


def test_wordnet_like_random_graph_matches_parser(tmp_path):
    # a larger random file with the bench's shape (power-law heads, 10% labels), three chunk sizes
    rng = random.Random(7)
    lines = []
    for i in range(5000):
        if i % 10 == 0:
            lines.append(f'<{EX}e{rng.randrange(800)}> <{RDFS}label> "entity {i}"@en .\n')
        else:
            lines.append(f"<{EX}e{int(800 * rng.random() ** 2)}> <{EX}r{rng.randrange(40)}> "
                         f"<{EX}e{rng.randrange(800)}> .\n")
    path = tmp_path / "bench.nt"
    path.write_text("".join(lines), encoding="utf-8")
    expected = summarize(generic(path))
    for chunk in (1 << 23, 4096, 333):
        assert summarize(emit(path, chunk)) == expected
