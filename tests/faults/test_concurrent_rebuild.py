"""Readers during `graph build --force` see the old graph or the new one, never an error (issue 19,
item 7): this process loads the graph in a loop while another rebuilds it over and over from two
sources of different sizes. Before the fix a load could read one build's manifest and the other's
files ("has N bytes, the manifest says M"), find no manifest between two renames, or open a SPARQL
store being deleted ("Sst file size mismatch")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kgnlu.kg import KnowledgeGraph

ROOT = Path(__file__).resolve().parents[2]
REBUILDER = """
import sys
from kgnlu.kg.build import build_graph
out, sources, seconds = sys.argv[1], sys.argv[2:4], float(sys.argv[4])
import time
stop, i = time.monotonic() + seconds, 0
while time.monotonic() < stop:
    build_graph([sources[i % 2]], out, force=True)
    i += 1
print(i, flush=True)
"""


def tsv(path: Path, n: int) -> Path:
    path.write_text("".join(f"e{i}\tr{i % 3}\te{(i * 7 + 1) % n}\n" for i in range(n)), encoding="utf-8")
    return path


def test_every_load_during_rebuilds_sees_one_whole_graph(tmp_path):
    small, large = tsv(tmp_path / "small.tsv", 150), tsv(tmp_path / "large.tsv", 900)
    out = tmp_path / "g"
    from kgnlu.kg.build import build_graph

    build_graph([str(small)], out)
    rebuilder = subprocess.Popen([sys.executable, "-c", REBUILDER, str(out), str(large), str(small), "6"],
                                 env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    loads, sizes, errors = 0, set(), []
    try:
        while rebuilder.poll() is None:
            try:
                kg = KnowledgeGraph.load(out, verify=True)
                n = kg.num_triples
                assert n in (150, 900) and kg.manifest["counts"]["triples"] == n
                assert int(kg.triples[:, 0].max()) < kg.num_entities  # arrays of the same build as the tables
                if loads % 5 == 0:  # the store too: opened through the pinned folder, counted against its manifest
                    assert len(kg.store) == kg.manifest["counts"]["store_quads"]
                sizes.add(n)
                kg.close()
            except Exception as err:  # collected: every failure is the bug
                errors.append(f"{type(err).__name__}: {err}")
            loads += 1
            time.sleep(0.002)
    finally:
        rebuilder.kill() if rebuilder.poll() is None else None
    builds = int(rebuilder.communicate(timeout=60)[0].split()[-1])
    assert rebuilder.returncode == 0
    assert not errors, errors[:3]
    assert builds >= 2 and loads >= 20
    assert sizes == {150, 900}  # both builds were seen, so loads did overlap the swaps
    # builds that swapped while a load held the old folder left it for later: the next build clears it
    build_graph([str(small)], out, force=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".g")) == []


def test_a_second_builder_of_one_graph_waits_then_stops_with_e024(tmp_path):
    from kgnlu.dirswap import target_lock

    tsv(tmp_path / "a.tsv", 50)
    cmd = [sys.executable, "-m", "kgnlu.cli", "graph", "build", "a.tsv", "--out", "g", "--force", "--no-store"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KGNLU_LOCK_TIMEOUT": "1"}
    with target_lock(tmp_path / "g"):  # another builder of g, mid-build
        done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "[E024]" in done.stderr and "being written by another process" in done.stderr
    assert not (tmp_path / "g").exists()
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # free again: it builds
    assert KnowledgeGraph.load(tmp_path / "g").num_triples == 50
