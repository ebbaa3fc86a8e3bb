"""The linker's saved indexes are checksummed (issue 19, item 4): a zeroed array of the same size
or a truncated one is caught on load, logged, and the index rebuilt, so links stay right instead of
every mention silently linking to one entity."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest

from kgnlu.kg import KnowledgeGraph
from kgnlu.kg.build import build_graph
from kgnlu.kg.linker import EntityLinker

TSV = "Paris\tcapital of\tFrance\nLyon\tlocated in\tFrance\nBerlin\tcapital of\tGermany\n"


@pytest.fixture()
def graph(tmp_path):
    (tmp_path / "g.tsv").write_text(TSV, encoding="utf-8")
    kg = KnowledgeGraph.load(build_graph([str(tmp_path / "g.tsv")], tmp_path / "g", store=False))
    EntityLinker.from_graph(kg, mode="fast", save="graph")  # builds and saves GRAPH/linker
    return kg


def links(kg):
    return {lk.surface: lk.entity.rsplit("/", 1)[-1] for lk in
            EntityLinker.from_graph(kg, mode="fast", save="graph").link("Lyon and Berlin are far from Paris.")}


def test_the_manifest_lists_a_checksum_for_every_index_file(graph):
    folder = graph.path / "linker"
    listed = json.loads((folder / "manifest.json").read_text())["files"]
    on_disk = {p.name for p in folder.iterdir() if p.name != "manifest.json"}
    assert set(listed) == on_disk
    for name, digest in listed.items():  # the file's own sha256, however the digest is prefixed
        assert digest.endswith(hashlib.sha256((folder / name).read_bytes()).hexdigest())


@pytest.mark.parametrize("damage", ["zero", "truncate"])
def test_a_damaged_index_file_is_caught_and_rebuilt(graph, damage, caplog):
    expected = links(graph)
    target = graph.path / "linker" / "canonical.npy"
    data = target.read_bytes()
    target.write_bytes(b"\0" * len(data) if damage == "zero" else data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        again = links(graph)
    assert again == expected
    assert any("checksum" in r.getMessage() and "rebuild" in r.getMessage() for r in caplog.records)
    assert target.read_bytes() == data  # the rebuilt index wrote the array again
