"""A shared, read-only graph answers questions (issue 19, item 1): `kgnlu qa` on a graph folder
nobody may write reads it and caches its linker indexes and zero-shot description bank under the
user's $KGNLU_HOME; not one file of the graph changes and nothing warns."""

from __future__ import annotations

import json
import logging

import pytest

from kgnlu.cli import main
from tests.kg.test_linker_cache import set_writable, snapshot
from tests.qa.people_graph import build_people_graph

pytestmark = pytest.mark.data  # the packaged MiniLM embeds the descriptions


def test_a_read_only_graph_answers_and_is_never_written(tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.setenv("KGNLU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KGNLU_CACHE", str(tmp_path / "home" / "cache"))
    graph = build_people_graph(tmp_path / "people").path
    before = snapshot(graph)
    set_writable(graph, False)  # as root chmod does not stop writes: the snapshot still checks
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(2):  # the second start reads the caches
                assert main(["qa", str(graph), "Where was Ada Lovelace born?", "--json"]) == 0
    finally:
        set_writable(graph, True)
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    first, second = ([a["entity"] for a in r["answers"]] for r in answers)  # scores: the bank is float16
    assert first and first == second and first[0].endswith("#London")
    assert snapshot(graph) == before
    assert {p.name for p in (tmp_path / "home" / "cache").iterdir()} == {"linker", "qa"}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
