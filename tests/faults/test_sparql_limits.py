"""SPARQL queries are bounded (issue 19, item 3): a cartesian product is stopped by the time limit
within a bounded time (Oxigraph itself never stops an ORDER BY over one, nor heeds Ctrl-C), the
row cap stops evaluation as soon as the cap is passed, and Ctrl-C on `kgnlu graph query` ends the
command (and its query process) at once, without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgnlu.errors import QueryError

# 31 entities × (30 edges + labels and kinds) ≈ 120 quads: five self-joins are ~10^10 rows.
CARTESIAN = "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h . ?i ?j ?k }"


@pytest.fixture(scope="module")
def graph_dir(tmp_path_factory) -> Path:
    from kgnlu.kg.build import build_graph

    folder = tmp_path_factory.mktemp("limits")
    (folder / "g.tsv").write_text("".join(f"e{i}\tr\te{i + 1}\n" for i in range(30)), encoding="utf-8")
    return Path(build_graph([str(folder / "g.tsv")], folder / "g"))


@pytest.fixture(scope="module")
def kg(graph_dir):
    from kgnlu.kg import KnowledgeGraph

    return KnowledgeGraph.load(graph_dir)


def test_a_cartesian_product_is_stopped_at_the_time_limit(kg):
    # ORDER BY must see every row before the first one: without a limit this runs for hours.
    start = time.monotonic()
    with pytest.raises(QueryError, match=r"E023.*time limit of 1 s.*--timeout"):
        kg.sparql(CARTESIAN + " ORDER BY ?a", timeout=1)
    assert time.monotonic() - start < 6


def test_a_query_past_the_memory_limit_is_stopped(kg):
    # Without a limit this ORDER BY passes 400 MB within two seconds and keeps growing.
    start = time.monotonic()
    with pytest.raises(QueryError, match=r"memory limit of 700 MB.*--max-memory"):
        kg.sparql(CARTESIAN + " ORDER BY ?a", timeout=60, max_memory_mb=700)
    assert time.monotonic() - start < 30


def test_the_row_cap_stops_evaluation_early(kg):
    start = time.monotonic()
    with pytest.raises(QueryError, match=r"more than 1,000 results; add LIMIT"):
        kg.sparql(CARTESIAN, max_rows=1000, timeout=None)  # no time limit: the cap alone stops it
    assert time.monotonic() - start < 10


def test_results_within_the_limits_are_unchanged(kg):
    assert kg.sparql("ASK { ?s ?p ?o }", timeout=30) is True
    rows = kg.sparql("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 3", bindings={"p": kg.term("e0")})
    assert rows == []  # e0 is no predicate: the binding was applied, not ignored
    assert len(kg.sparql("CONSTRUCT { ?s <urn:x> ?o } WHERE { ?s ?p ?o } LIMIT 4")) == 4
    with pytest.raises(QueryError, match="timeout must be positive"):
        kg.sparql("ASK {}", timeout=0)


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to find the query process")
def test_ctrl_c_stops_a_running_query_promptly(graph_dir):
    cli = subprocess.Popen([sys.executable, "-m", "kgnlu.cli", "graph", "query", str(graph_dir),
                            CARTESIAN + " ORDER BY ?a", "--timeout", "0"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           # as at a terminal, even where the test runner was started with SIGINT ignored
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while not (workers := _children(cli.pid)) and time.monotonic() < deadline and cli.poll() is None:
            time.sleep(0.05)
        assert workers, "the query process never started"
        time.sleep(1.0)  # well inside the evaluation
        assert cli.poll() is None
        sent = time.monotonic()
        cli.send_signal(signal.SIGINT)
        _, err = cli.communicate(timeout=30)
        assert time.monotonic() - sent < 3, "Ctrl-C took too long"
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert not any(Path(f"/proc/{w}").exists() for w in workers), "the query process outlived the command"
