"""`kgnlu graph ...` end to end, through the real entry point."""

import json
import os
import subprocess
import sys

import pytest

from kgnlu.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KGNLU_PROGRESS": "0"}
    return subprocess.run([sys.executable, "-m", "kgnlu.cli", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_help_everywhere():
    for cmd in ([], ["graph"], ["graph", "build"], ["graph", "info"], ["graph", "query"],
                ["graph", "neighbors"], ["graph", "export"], ["run"]):
        res = run_cli(*cmd, "--help")
        assert res.returncode == 0, res.stderr
        assert "Usage" in res.stdout


def test_build_info_query_neighbors_export(family_tsv, tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["graph", "build", str(family_tsv), "--out", str(out), "--json"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert (built["entities"], built["relations"], built["triples"]) == (10, 3, 11)
    assert built["sources"][0]["triples"] == 11

    assert main(["graph", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"entities", "relations", "triples", "sources"} <= set(info)

    assert main(["graph", "query", str(out), "SELECT ?c WHERE { ?p family:parent_of ?c }",
                 "--bind", "p=family:alice", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["c"] for r in rows) == ["family:bob", "family:carla"]

    png = tmp_path / "n.png"
    assert main(["graph", "neighbors", str(out), "alice", "--hops", "2", "--json", "--plot", str(png)]) == 0
    nb = json.loads(capsys.readouterr().out)
    assert nb["entity"] == "family:alice" and nb["entities"] == 6  # alice, bob, carla, dora, hub, eve
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    for fmt in ("nt", "tsv", "graphml"):
        dest = tmp_path / f"export.{fmt}"
        assert main(["graph", "export", str(out), "--format", fmt, "--out", str(dest)]) == 0
        assert dest.stat().st_size > 0
    nt_lines = (tmp_path / "export.nt").read_text().splitlines()
    assert "<urn:kgnlu:family:alice> <urn:kgnlu:family:parent_of> <urn:kgnlu:family:bob> ." in nt_lines


def test_errors_are_one_line_with_exit_code_2(family_tsv, tmp_path):
    out = tmp_path / "g"
    assert run_cli("graph", "build", str(family_tsv), "--out", str(out)).returncode == 0
    again = run_cli("graph", "build", str(family_tsv), "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    unknown = run_cli("graph", "neighbors", str(out), "alcie")
    assert unknown.returncode == 2 and "alice" in unknown.stderr
    missing = run_cli("graph", "info", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a kgnlu graph" in missing.stderr


@pytest.mark.parametrize("bad", ["--format=xml"])
def test_export_rejects_unknown_format(family_graph, tmp_path, bad):
    assert main(["graph", "export", str(family_graph.path), bad, "--out", str(tmp_path / "x")]) == 2


def test_run_shows_summary_neighbourhood_and_links(family_graph, capsys, tmp_path, monkeypatch):
    import kgnlu.commands.run as run_command

    # the bring-your-own-graph tour answers with MiniLM (tests/qa/test_zero_shot_minilm.py runs it);
    # without the example file it says so and goes on. Nothing lands in the real $KGNLU_HOME
    monkeypatch.setenv("KGNLU_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(run_command, "EXAMPLE_GRAPH", tmp_path / "missing.ttl")
    assert main(["run", "--graph", str(family_graph.path), "--entity", "alice"]) == 0
    out = capsys.readouterr().out
    assert "missing.ttl is not here" in out
    assert "family:alice  alice" in out
    assert "alice --parent_of--> bob" in out
    assert "linking (fast mode)" in out
    # the QA demo model belongs to the default graph: another graph gets the commands instead of a retrain
    assert "kgnlu qa train" in out and "Q: " not in out
