"""The linker's API surface: batches, persistence, the spaCy component, the CLI, bad input."""

from __future__ import annotations

import json
import time

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgnlu.cli import main
from kgnlu.kg.linker import EntityLinker
from kgnlu.kg.linker.cache import cache_folder
from kgnlu.kg.linker.index import LINKER_DIR, LinkerIndex
from tests.kg.linker_graph import build_fixture_graph


@pytest.fixture(scope="module")
def kg(tmp_path_factory):
    return build_fixture_graph(tmp_path_factory.mktemp("lk") / "fixture")


@pytest.fixture(scope="module")
def linker(kg):
    return EntityLinker.from_graph(kg, mode="fast")


def test_indexes_saved_to_the_user_cache_without_pickle(kg, linker):
    folder = cache_folder(kg)
    assert not (kg.path / LINKER_DIR).exists()  # using a graph never writes into it
    assert LinkerIndex.is_current(folder, kg)
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.json", "prefixes.blob.bin", "fuzzy_rows.npy", "lexical_ids.npy", "canonical.npy"} <= names
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    assert not any(n.startswith(".") for n in names)  # no temp leftovers
    reloaded = EntityLinker.from_graph(kg, mode="fast")
    assert reloaded.index.prefixes == linker.index.prefixes
    text = "Paris, a city in Texas, and the bank of the river."
    assert reloaded.link(text) == linker.link(text)


def test_stale_index_is_rebuilt(kg, linker):  # ``linker`` builds and saves the index first
    folder = cache_folder(kg)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["graph"]["created"] = "another graph"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert not LinkerIndex.is_current(folder, kg)
    EntityLinker.from_graph(kg, mode="fast")
    assert LinkerIndex.is_current(folder, kg)


def test_link_batch_streams_in_order(linker):
    texts = ["Paris is lovely.", "", "The bank of the river.", "London"] * 5

    def gen():
        yield from texts

    batches = list(linker.link_batch(gen(), batch_size=3))
    assert batches == [linker.link(t) for t in texts]


def test_spacy_component_by_entry_point(kg):
    nlp = spacy.blank("en")
    nlp.add_pipe("kgnlu_linker", config={"graph": str(kg.path), "mode": "fast"})
    doc = nlp("Paris, a city in Texas.")
    assert [(lk.surface, lk.entity) for lk in doc._.kg_links][:1] == [("Paris", "geo:paris_tx")]
    docs = list(nlp.pipe(["London calling", "the river bank"]))
    assert docs[0]._.kg_links[0].entity == "geo:london"


def test_cli_link_json_and_inputs(kg, tmp_path, capsys):
    assert main(["link", str(kg.path), "Paris, a city in Texas.", "--json"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["text"] == "Paris, a city in Texas."
    first = row["links"][0]
    assert set(first) == {"start", "end", "surface", "entity", "score", "candidates"}
    assert first["entity"] == "geo:paris_tx" and row["text"][first["start"]:first["end"]] == first["surface"]

    txt = tmp_path / "in.txt"
    txt.write_text("London\nthe bank of the river\n", encoding="utf-8")
    assert main(["link", str(kg.path), "--input", str(txt), "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["London", "the bank of the river"]

    jl = tmp_path / "in.jsonl"
    jl.write_text('{"text": "France"}\n\n{"text": "Texas"}\n', encoding="utf-8")
    assert main(["link", str(kg.path), "--input", str(jl), "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["links"][0]["entity"] for r in rows] == ["geo:france", "geo:texas"]

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"txt": 1}\n', encoding="utf-8")
    assert main(["link", str(kg.path), "--input", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "E010" in err and "bad.jsonl:1:1" in err and '"text"' in err  # file, line and what was expected


def test_cli_plain_output(kg, capsys):
    assert main(["link", str(kg.path), "London"]) == 0
    out = capsys.readouterr().out
    assert "geo:london" in out and "London" in out


@pytest.mark.parametrize("text", ["", " ", "\n\n\t", "\x00\x01\x1b[31m Paris \x7f", "Paris \ud800 Texas \udfff",
                                  "Париж и 東京 و باريس Paris", "🙂" * 50 + " Paris"])
def test_bad_input_does_not_crash(linker, text):
    for link in linker.link(text):
        assert text[link.start:link.end] == link.surface


def test_time_is_linear_in_length(linker):
    unit = "Paris, a city in Texas, sits by the bank of a river; money flows to New York City. "
    def timed(n):
        text = unit * n
        start = time.perf_counter()
        links = linker.link(text)
        return time.perf_counter() - start, links
    linker.link(unit * 50)  # warm caches
    small, _ = timed(1000)  # 82 kB
    big, links = timed(12_100)  # ~1 MB
    assert len(unit * 12_100) > 1_000_000
    assert len(links) >= 12_100 * 5
    assert big < small * 12.1 * 3  # linear within noise (shared machines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["Paris", " ", "Texas", "bank", "\n", ",", "Londn"])),
                max_size=40).map("".join))
def test_offsets_always_slice_to_the_surface(linker, text):
    for link in linker.link(text):
        assert text[link.start:link.end] == link.surface
        assert 0.0 <= link.score <= 1.0
