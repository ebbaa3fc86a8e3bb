"""The graph directory: atomic writes, --force, tamper and truncation detection, SPARQL."""

import json
import os

import numpy as np
import pytest

from kgnlu.errors import GraphExistsError, GraphIntegrityError, ParseError, QueryError
from kgnlu.kg import KnowledgeGraph
from kgnlu.kg.build import build_graph


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_failed_build_leaves_nothing(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tr\tb\nc\tr\n", encoding="utf-8")
    with pytest.raises(ParseError) as err:
        build_graph([str(bad)], tmp_path / "out")
    assert err.value.line == 2 and "3 non-empty tab-separated fields" in str(err.value)
    assert _siblings(tmp_path / "out") == ["bad.tsv"]  # no out, no temp folder


def test_existing_graph_untouched_without_force(family_tsv, tmp_path):
    out = build_graph([str(family_tsv)], tmp_path / "g")
    before = (out / "manifest.json").read_bytes()
    other = tmp_path / "other.tsv"
    other.write_text("x\tr\ty\n", encoding="utf-8")
    with pytest.raises(GraphExistsError, match="--force"):
        build_graph([str(other)], out)
    assert (out / "manifest.json").read_bytes() == before
    # a failing forced rebuild also leaves the old graph in place
    bad = tmp_path / "bad.tsv"
    bad.write_text("only-one-field\n", encoding="utf-8")
    with pytest.raises(ParseError):
        build_graph([str(bad)], out, force=True)
    assert (out / "manifest.json").read_bytes() == before
    build_graph([str(other)], out, force=True)
    assert KnowledgeGraph.load(out).num_triples == 1
    assert [p for p in _siblings(out) if p.startswith(".")] == []


def test_force_refuses_a_folder_that_is_not_a_graph(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("precious")
    src = tmp_path / "t.tsv"
    src.write_text("a\tr\tb\n")
    with pytest.raises(GraphExistsError, match="not a kgnlu graph"):
        build_graph([str(src)], tmp_path / "docs", force=True)
    assert (tmp_path / "docs" / "thesis.tex").read_text() == "precious"


def test_tampered_file_is_detected(family_tsv, tmp_path):
    out = build_graph([str(family_tsv)], tmp_path / "g")
    triples = out / "triples.npy"
    data = bytearray(triples.read_bytes())
    data[-1] ^= 0xFF  # same size, different content
    triples.write_bytes(bytes(data))
    with pytest.raises(GraphIntegrityError, match="sha256"):
        KnowledgeGraph.load(out)


def test_truncated_and_missing_files_are_detected(family_tsv, tmp_path):
    out = build_graph([str(family_tsv)], tmp_path / "g")
    with open(out / "entities" / "labels.blob.bin", "r+b") as f:
        f.truncate(3)
    with pytest.raises(GraphIntegrityError, match="truncated"):
        KnowledgeGraph.load(out, verify=False)  # sizes are checked even without checksums
    os.remove(out / "csr" / "in_index.npy")
    with pytest.raises(GraphIntegrityError, match="missing"):
        KnowledgeGraph.load(out)


def test_wrong_format_version_and_non_graph(family_tsv, tmp_path):
    out = build_graph([str(family_tsv)], tmp_path / "g")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["format_version"] = 999
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(GraphIntegrityError, match="Rebuild"):
        KnowledgeGraph.load(out)
    with pytest.raises(GraphIntegrityError, match="not a kgnlu graph"):
        KnowledgeGraph.load(tmp_path)


def test_loaded_arrays_are_memory_mapped_and_csr_consistent(family_graph):
    kg = family_graph
    assert isinstance(kg.triples, np.memmap)
    t = np.asarray(kg.triples)
    assert (np.diff(t[:, 0]) >= 0).all()  # sorted by head
    out_ptr, in_ptr, in_idx = kg.walker.out_indptr, kg.walker.in_indptr, kg.walker.in_index
    for e in range(kg.num_entities):
        assert (t[out_ptr[e]:out_ptr[e + 1], 0] == e).all()
        assert (t[in_idx[in_ptr[e]:in_ptr[e + 1]], 2] == e).all()
    assert out_ptr[-1] == in_ptr[-1] == kg.num_triples


def test_sparql_bindings_are_bound_not_pasted(family_graph):
    kg = family_graph
    rows = kg.sparql("SELECT ?child WHERE { ?p family:parent_of ?child }",
                     bindings={"p": kg.term("alice")})
    assert sorted(r["child"] for r in rows) == ["family:bob", "family:carla"]
    # a label bound as a literal; an injection attempt is just a string that matches nothing
    rows = kg.sparql("SELECT ?e WHERE { ?e rdfs:label ?name }", bindings={"name": "alice"})
    assert rows == [{"e": "family:alice"}]
    evil = 'alice" } ?e ?p ?o . FILTER("1"="1'
    assert kg.sparql("SELECT ?e WHERE { ?e rdfs:label ?name }", bindings={"name": evil}) == []
    assert kg.sparql("ASK { family:hub family:knows ?x }", bindings={"x": kg.term("bob")}) is True
    construct = kg.sparql("CONSTRUCT { ?s family:knows ?o } WHERE { ?s family:knows ?o }")
    assert ("family:xavier", "family:knows", "family:yves") in construct


def test_sparql_errors_are_query_errors(family_graph):
    with pytest.raises(QueryError, match="syntax"):
        family_graph.sparql("SELEC ?x WHERE { ?x ?p ?o }")


def test_store_holds_every_triple_once_whether_generated_or_loaded_verbatim(family_tsv, tmp_path):
    nt = tmp_path / "extra.nt"
    nt.write_text("<http://ex.org/a> <http://ex.org/p> <http://ex.org/b> .\n"
                  "<http://ex.org/a> <http://ex.org/age> \"42\" .\n", encoding="utf-8")
    kg = KnowledgeGraph.load(build_graph([str(family_tsv), str(nt)], tmp_path / "g"))
    # the RDF file's triples come from the file itself (literal included), the TSV's are generated
    assert kg.sparql("ASK { <http://ex.org/a> <http://ex.org/p> <http://ex.org/b> }") is True
    assert kg.sparql("SELECT ?v WHERE { <http://ex.org/a> <http://ex.org/age> ?v }") == [{"v": "42"}]
    rows = kg.sparql("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(isIRI(?o)) }")
    assert rows[0]["n"] == kg.num_triples  # every entity triple exactly once
