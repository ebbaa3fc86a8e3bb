"""A rebuild keeps what was computed from the graph (issue 19, item 1): `graph build --force` keeps
GRAPH/embeddings and GRAPH/linker (hard links, so the old graph's removal frees nothing they use),
embeddings refuse to load against a graph whose entities changed, --drop-derived drops them and
says so, and a build that fails leaves the old graph and its artefacts as they were."""

from __future__ import annotations

import pytest
import torch

from kgnlu.cli import main
from kgnlu.errors import CheckpointError
from kgnlu.kg.build import build_graph
from kgnlu.kg.derived import index_identity
from kgnlu.kge.models import ModelConfig, build_model
from kgnlu.kge.storage import load_embeddings, save_embeddings

TSV = "alice\tknows\tbob\nbob\tknows\tcarol\n"


def graph_with_artefacts(tmp_path):
    src = tmp_path / "people.tsv"
    src.write_text(TSV, encoding="utf-8")
    graph = build_graph([str(src)], tmp_path / "g", store=False)
    torch.manual_seed(0)
    save_embeddings(build_model(ModelConfig(name="transe", dim=4), 3, 1), graph, "tiny", {})
    (graph / "linker").mkdir()
    (graph / "linker" / "cache.bin").write_bytes(b"\x01\x02")
    return src, graph


def test_a_forced_rebuild_of_the_same_sources_keeps_embeddings_and_linker_files(tmp_path):
    src, graph = graph_with_artefacts(tmp_path)
    before = load_embeddings(graph, "tiny").entity.clone()
    told = []
    build_graph([str(src)], graph, store=False, force=True, report=told.append)
    assert torch.equal(load_embeddings(graph, "tiny").entity, before)
    assert (graph / "linker" / "cache.bin").read_bytes() == b"\x01\x02"
    assert len(told) == 1 and "embeddings" in told[0] and "linker" in told[0]


def test_embeddings_of_another_graph_version_are_refused_with_the_retrain_command(tmp_path):
    src, graph = graph_with_artefacts(tmp_path)
    old_identity = index_identity(graph)
    src.write_text(TSV + "carol\tknows\tdave\n", encoding="utf-8")  # a new entity: indices change
    build_graph([str(src)], graph, store=False, force=True)
    assert (graph / "embeddings" / "tiny").is_dir() and index_identity(graph) != old_identity
    with pytest.raises(CheckpointError, match=r"another version.*kgnlu kge train"):
        load_embeddings(graph, "tiny")


def test_drop_derived_drops_them_and_says_so(tmp_path, capsys):
    src, graph = graph_with_artefacts(tmp_path)
    rc = main(["graph", "build", str(src), "--out", str(graph), "--force", "--no-store", "--drop-derived"])
    assert rc in (0, None)
    assert not (graph / "embeddings").exists() and not (graph / "linker").exists()
    assert "dropping" in capsys.readouterr().err


def test_a_rebuild_failing_at_the_swap_leaves_the_graph_and_its_artefacts_untouched(tmp_path, monkeypatch):
    import kgnlu.kg.graph_files as graph_files

    src, graph = graph_with_artefacts(tmp_path)

    def crash(staging, target):  # after the artefacts were linked into the staging folder
        assert (staging / "embeddings" / "tiny").is_dir()
        raise OSError("disk gone")

    monkeypatch.setattr(graph_files, "swap_into_place", crash)
    with pytest.raises(OSError, match="disk gone"):
        build_graph([str(src)], graph, store=False, force=True)
    assert load_embeddings(graph, "tiny").entity.shape[0] == 3
    assert (graph / "linker" / "cache.bin").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".g.")]  # no staging left behind


def test_embeddings_saved_outside_a_graph_still_load(tmp_path):
    folder = tmp_path / "not-a-graph"
    save_embeddings(build_model(ModelConfig(name="transe", dim=4), 3, 1), folder, "t", {})
    assert load_embeddings(folder, "t").entity.shape == (3, 4)
