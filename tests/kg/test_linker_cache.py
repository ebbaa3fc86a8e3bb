"""Using a graph never writes into it (issue 19, item 1): the linker's indexes and embeddings are
cached per user unless ``--save-index`` asks for GRAPH/linker/, a read-only graph links without a
warning, and rebuilding a damaged index keeps the entity embeddings computed for the graph."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from kgnlu.cli import main
from kgnlu.kg.linker import EntityLinker
from kgnlu.kg.linker.cache import EMBEDDINGS, cache_folder, embeddings_identity, graph_identity
from kgnlu.kg.linker.dense_index import EntityEmbeddings
from kgnlu.kg.linker.index import LINKER_DIR, LinkerIndex
from tests.kg.linker_graph import build_fixture_graph

TEXT = "Paris, a city in Texas, and the bank of the river."


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh user cache for each test."""
    monkeypatch.setenv("KGNLU_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture()
def kg(tmp_path, home):
    return build_fixture_graph(tmp_path / "graph")


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every file and folder under ``folder`` with its mtime and contents' digest."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.stat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        out[str(p.relative_to(folder))] = (st.st_mtime_ns, digest)
    return out


def set_writable(folder: Path, writable: bool) -> None:
    for p in [folder, *folder.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def test_a_read_only_graph_links_and_is_never_written(kg, home, caplog, capsys):
    before = snapshot(kg.path)
    set_writable(kg.path, False)  # as root chmod does not stop writes: the snapshot still checks
    try:
        with caplog.at_level(logging.WARNING):
            links = EntityLinker.from_graph(kg, mode="fast").link(TEXT)
            assert main(["link", str(kg.path), TEXT, "--json"]) == 0
            again = EntityLinker.from_graph(kg, mode="fast").link(TEXT)  # from the user cache
    finally:
        set_writable(kg.path, True)
    assert links and again == links
    assert snapshot(kg.path) == before and not (kg.path / LINKER_DIR).exists()
    assert LinkerIndex.is_current(cache_folder(kg), kg) and cache_folder(kg).parent.parent == home
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "warning" not in capsys.readouterr().err.lower()


def test_neural_embeddings_go_to_the_user_cache(kg, home):
    before = snapshot(kg.path)
    linker = EntityLinker.from_graph(kg, mode="neural")
    linker.link(TEXT)
    linker.save_embeddings()
    assert snapshot(kg.path) == before
    saved = cache_folder(kg) / EMBEDDINGS
    assert embeddings_identity(saved) == graph_identity(kg) and (cache_folder(kg) / "dense.faiss").is_file()
    again = EntityLinker.from_graph(kg, mode="neural")
    assert again.embeddings.computed.sum() == linker.embeddings.computed.sum() > 0


def test_save_index_writes_the_graph_and_a_shipped_index_is_used_as_is(kg, home, tmp_path, monkeypatch):
    assert main(["link", str(kg.path), TEXT, "--save-index"]) == 0
    assert LinkerIndex.is_current(kg.path / LINKER_DIR, kg)
    monkeypatch.setenv("KGNLU_CACHE", str(tmp_path / "other-user"))
    shipped = snapshot(kg.path)
    EntityLinker.from_graph(kg, mode="fast").link(TEXT)  # another user reads GRAPH/linker ...
    assert not (tmp_path / "other-user").exists() and snapshot(kg.path) == shipped  # ... and writes nothing
    # an index first built into the cache is copied into the graph by --save-index
    other = build_fixture_graph(tmp_path / "graph2")
    EntityLinker.from_graph(other, mode="fast")
    EntityLinker.from_graph(other, mode="fast", save="graph")
    assert LinkerIndex.is_current(other.path / LINKER_DIR, other)


def write_embeddings(kg, folder: Path, identity: str) -> EntityEmbeddings:
    emb = EntityEmbeddings.empty(kg.num_entities, 8, str)
    emb.vectors[:3] = np.arange(24, dtype=np.float16).reshape(3, 8)
    emb.computed[:3] = True
    emb.save(folder / EMBEDDINGS, identity)
    return emb


@pytest.mark.parametrize("save", ["graph", "cache"])
def test_rebuilding_a_damaged_index_keeps_the_embeddings_of_this_graph(kg, save, caplog):
    EntityLinker.from_graph(kg, mode="fast", save=save)
    folder = kg.path / LINKER_DIR if save == "graph" else cache_folder(kg)
    emb = write_embeddings(kg, folder, graph_identity(kg))
    (folder / "dense.faiss").write_bytes(b"faiss")
    canonical = folder / "canonical.npy"
    canonical.write_bytes(canonical.read_bytes()[:40])  # truncated
    with caplog.at_level(logging.WARNING):
        EntityLinker.from_graph(kg, mode="fast", save=save).link(TEXT)
    assert any("checksum" in r.getMessage() for r in caplog.records)  # it was rebuilt ...
    assert LinkerIndex.is_current(folder, kg) and len(canonical.read_bytes()) > 40
    kept = EntityEmbeddings.load(folder / EMBEDDINGS, kg.num_entities, 8, str, graph_identity(kg))
    assert kept.computed.tolist() == emb.computed.tolist()  # ... and the computed rows survived
    assert np.array_equal(kept.vectors, emb.vectors) and (folder / "dense.faiss").read_bytes() == b"faiss"


def test_embeddings_of_another_graph_are_neither_kept_nor_loaded(kg):
    EntityLinker.from_graph(kg, mode="fast", save="graph")
    folder = kg.path / LINKER_DIR
    write_embeddings(kg, folder, "another graph")
    EntityLinker.from_graph(kg, mode="fast", save="graph", rebuild=True)
    assert not (folder / EMBEDDINGS).exists()


def test_save_is_checked(kg):
    from kgnlu.errors import ConfigError

    with pytest.raises(ConfigError, match="cache, graph, none"):
        EntityLinker.from_graph(kg, mode="fast", save="beside")
    EntityLinker.from_graph(kg, mode="fast", save=False)
    assert not cache_folder(kg).exists() and not (kg.path / LINKER_DIR).exists()


def test_conftest_keeps_the_cache_out_of_the_real_home():
    assert "KGNLU_CACHE" in os.environ
