"""Bad input ends in an E-coded message naming the file and what was expected, exit code 2, no
traceback, and nothing written (issue 19, item 6): a truncated gzip source, an over-long TSV line,
a TSV field over the csv module's old 128 KB limit (valid: it builds), an IRI binding that is not
an IRI. Run through the real CLI in a subprocess, as a user would."""

from __future__ import annotations

import gzip
import subprocess
import sys

import pytest


def kgnlu(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kgnlu.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def assert_user_error(done: subprocess.CompletedProcess, code: str, *needles: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and f"[{code}]" in done.stderr
    for needle in needles:
        assert needle in done.stderr


@pytest.mark.parametrize("keep", [20, 45])
def test_a_truncated_gzip_source_is_a_coded_error_and_writes_nothing(tmp_path, keep):
    whole = gzip.compress(b"".join(f"e{i}\tr\te{i + 1}\n".encode() for i in range(200)))
    (tmp_path / "cut.tsv.gz").write_bytes(whole[:keep])
    done = kgnlu("graph", "build", "cut.tsv.gz", "--out", "g", "--no-store", cwd=tmp_path)
    assert_user_error(done, "E010", "cut.tsv.gz", "truncated or damaged")
    assert not (tmp_path / "g").exists() and not list(tmp_path.glob(".g*"))


def test_a_tsv_line_over_the_limit_names_its_line(tmp_path):
    from kgnlu.kg.sources.tsv import MAX_LINE_CHARS

    (tmp_path / "huge.tsv").write_text("a\tr\tb\n" + "a\tr\t" + "x" * (MAX_LINE_CHARS + 1) + "\n", encoding="utf-8")
    done = kgnlu("graph", "build", "huge.tsv", "--out", "g", "--no-store", cwd=tmp_path)
    assert_user_error(done, "E010", "huge.tsv:2", "at most")
    assert not (tmp_path / "g").exists()


def test_a_long_tsv_field_under_the_limit_builds(tmp_path):
    (tmp_path / "long.tsv").write_text("a\tr\t" + "x" * 200_000 + "\n", encoding="utf-8")
    done = kgnlu("graph", "build", "long.tsv", "--out", "g", "--no-store", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    from kgnlu.kg import KnowledgeGraph

    kg = KnowledgeGraph.load(tmp_path / "g")
    assert kg.num_triples == 1 and max(len(kg.entity_label(e)) for e in range(kg.num_entities)) == 200_000


@pytest.mark.parametrize("value", ["<http://a>b>", "<http://a b>", "<http://a{b}>"])
def test_an_iri_binding_that_is_not_an_iri_is_a_query_error(tmp_path, value):
    (tmp_path / "ok.tsv").write_text("a\tr\tb\n", encoding="utf-8")
    assert kgnlu("graph", "build", "ok.tsv", "--out", "g", cwd=tmp_path).returncode == 0
    done = kgnlu("graph", "query", "g", "SELECT ?x WHERE { ?x ?p ?o }", "--bind", f"x={value}", cwd=tmp_path)
    assert_user_error(done, "E023", "not a valid IRI", value)


def built_graph(tmp_path):
    (tmp_path / "ok.tsv").write_text("a\tr\tb\n", encoding="utf-8")
    assert kgnlu("graph", "build", "ok.tsv", "--out", "g", "--no-store", cwd=tmp_path).returncode == 0
    return tmp_path / "g"


@pytest.mark.parametrize("damage, needle", [
    (lambda m: m.pop("files"), "no 'files' list"),
    (lambda m: m["files"].update({"../../etc/passwd": {"bytes": 1, "sha256": "0" * 64}}), "outside the graph"),
    (lambda m: m["files"].update({"triples.npy": {"bytes": "many"}}), "needs 'bytes'"),
])
def test_a_damaged_manifest_is_refused_before_anything_is_read(tmp_path, damage, needle):
    import json

    graph = built_graph(tmp_path)
    manifest = json.loads((graph / "manifest.json").read_text())
    damage(manifest)
    (graph / "manifest.json").write_text(json.dumps(manifest))
    assert_user_error(kgnlu("graph", "info", "g", cwd=tmp_path), "E021", "manifest.json", needle)


def test_out_naming_a_regular_file_is_refused_even_with_force(tmp_path):
    (tmp_path / "ok.tsv").write_text("a\tr\tb\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    done = kgnlu("graph", "build", "ok.tsv", "--out", "notes.txt", "--force", "--no-store", cwd=tmp_path)
    assert_user_error(done, "E020", "is a file")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_lone_surrogates_in_input_come_back_as_json_escapes_with_true_offsets(tmp_path):
    import json

    built_graph(tmp_path)
    text = "a\ud800 b"  # a lone surrogate, as JSON input may carry it
    (tmp_path / "in.jsonl").write_text(json.dumps({"text": text}) + "\n", encoding="utf-8")
    done = kgnlu("link", "g", "--input", "in.jsonl", "--json", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert json.loads(done.stdout.splitlines()[0])["text"] == text


def test_a_corrupt_safetensors_file_is_an_e031_naming_it(tmp_path):
    from kgnlu.encoders.checkpoint import read_tensors
    from kgnlu.errors import CheckpointError

    (tmp_path / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")
    with pytest.raises(CheckpointError, match=r"E031.*model\.safetensors"):
        read_tensors(tmp_path)


def test_a_byte_order_mark_does_not_end_up_in_the_first_id(tmp_path):
    from kgnlu.kg import KnowledgeGraph

    (tmp_path / "bom.tsv").write_bytes("\ufeffalice\tknows\tbob\n".encode())
    assert kgnlu("graph", "build", "bom.tsv", "--out", "g", "--no-store", cwd=tmp_path).returncode == 0
    labels = {KnowledgeGraph.load(tmp_path / "g").entity_label(e) for e in range(2)}
    assert labels == {"alice", "bob"}


def test_invalid_utf8_names_its_own_line_far_into_the_file(tmp_path):
    rows = b"".join(f"e{i}\tr\t{'x' * 200}\n".encode() for i in range(1, 400))  # ~80 KB before it
    (tmp_path / "bad.tsv").write_bytes(rows + b"caf\xe9\tr\tb\n" + b"z\tr\ty\n")
    assert_user_error(kgnlu("graph", "build", "bad.tsv", "--out", "g", "--no-store", cwd=tmp_path),
                      "E010", "bad.tsv:400:4", "UTF-8")


def test_a_directory_given_as_a_file_says_so(tmp_path):
    (tmp_path / "data.ttl").mkdir()
    assert_user_error(kgnlu("graph", "build", "data.ttl", "--out", "g", "--no-store", cwd=tmp_path),
                      "E011", "is a directory")


def test_an_input_without_triples_builds_with_a_warning(tmp_path):
    (tmp_path / "empty.tsv").write_text("# nothing here\n", encoding="utf-8")
    done = kgnlu("graph", "build", "empty.tsv", "--out", "g", "--no-store", cwd=tmp_path)
    assert done.returncode == 0 and "no triples were read from" in done.stderr and "empty.tsv" in done.stderr


@pytest.mark.parametrize("hidden", ["\u200b", "\u200d", "\u00ad", "\u202e", "\u2066", "\ufeff"])
def test_invisible_format_characters_do_not_hide_a_name_from_the_linker(tmp_path, hidden):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker

    (tmp_path / "c.tsv").write_text("France\tcapital\tParis\n", encoding="utf-8")
    assert kgnlu("graph", "build", "c.tsv", "--out", "g", "--no-store", cwd=tmp_path).returncode == 0
    linker = EntityLinker.from_graph(KnowledgeGraph.load(tmp_path / "g"), mode="fast", save=False)
    text = f"The capital of Fr{hidden}ance is Paris."
    links = {lk.surface: lk for lk in linker.link(text)}
    name = f"Fr{hidden}ance"
    assert name in links and text[links[name].start:links[name].end] == name
    assert links[name].entity.endswith("France")
