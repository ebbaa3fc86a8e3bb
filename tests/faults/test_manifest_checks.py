"""The graph manifest is itself verified (issue 19, item 8): edited counts, a file dropped from the
list, or a path outside the graph are E021 GraphIntegrityError at load (exit 2 on the CLI), not
shown or silently skipped."""

from __future__ import annotations

import json
import shutil

import pytest

from kgnlu.errors import GraphIntegrityError
from tests.faults.test_bad_files import assert_user_error, kgnlu


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    from kgnlu.kg.build import build_graph
    from kgnlu.kg.sources.tsv import TsvSource

    folder = tmp_path_factory.mktemp("manifest")
    (folder / "train.tsv").write_text("".join(f"e{i}\tr\te{i + 1}\n" for i in range(20)), encoding="utf-8")
    (folder / "test.tsv").write_text("e0\tr\te5\ne3\tr\te9\n", encoding="utf-8")
    return build_graph([TsvSource(folder / "train.tsv", split="train"), TsvSource(folder / "test.tsv", split="test")],
                       folder / "g", store=False)


@pytest.fixture
def graph(pristine, tmp_path):
    shutil.copytree(pristine, tmp_path / "g")
    return tmp_path / "g"


def edit(graph, change) -> None:
    manifest = json.loads((graph / "manifest.json").read_text())
    change(manifest)
    (graph / "manifest.json").write_text(json.dumps(manifest))


def test_the_required_files_are_exactly_what_a_build_writes(pristine):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.manifest_check import REQUIRED_FILES

    assert set(json.loads((pristine / "manifest.json").read_text())["files"]) == REQUIRED_FILES
    kg = KnowledgeGraph.load(pristine)  # a sound graph, splits and all, passes every check
    assert kg.manifest["counts"]["test_triples"] == 2


def test_a_file_dropped_from_the_list_is_refused(graph, tmp_path):
    edit(graph, lambda m: m["files"].pop("triples.npy"))
    (graph / "triples.npy").write_bytes(b"anything: no longer checked if the list were trusted")
    assert_user_error(kgnlu("graph", "info", "g", cwd=tmp_path), "E021", "does not list triples.npy",
                      "Rebuild the graph")


@pytest.mark.parametrize("change, needle", [
    (lambda m: m["counts"].update(entities=m["counts"]["entities"] + 5), "entities/kinds.npy"),
    (lambda m: m["counts"].update(triples=10**6), "triples.npy"),
    (lambda m: m["counts"].update(relations=7), "relations/ids holds"),
    (lambda m: m["counts"].update(aliases=0), "aliases/indptr.npy"),
    (lambda m: m["counts"].update(test_triples=9, train_triples=13), "split sizes"),
    (lambda m: m["counts"].update(entities="21"), "integer"),
])
def test_edited_counts_are_refused_not_shown(graph, tmp_path, change, needle):
    edit(graph, change)
    done = kgnlu("graph", "info", "g", cwd=tmp_path)
    assert_user_error(done, "E021", "manifest.json", needle)
    assert done.stdout == ""  # nothing of the edited counts was shown


def test_counts_are_checked_even_without_checksums(graph):
    from kgnlu.kg import KnowledgeGraph

    edit(graph, lambda m: m["counts"].update(entities=m["counts"]["entities"] - 1))
    with pytest.raises(GraphIntegrityError, match="does not match the graph's files"):
        KnowledgeGraph.load(graph, verify=False)


@pytest.mark.parametrize("name", ["/etc/passwd", "../../secret.npy", "entities/../../x.npy"])
def test_paths_outside_the_graph_are_refused(graph, tmp_path, name):
    edit(graph, lambda m: m["files"].update({name: {"bytes": 1, "sha256": "0" * 64}}))
    assert_user_error(kgnlu("graph", "info", "g", cwd=tmp_path), "E021", "outside the graph")
