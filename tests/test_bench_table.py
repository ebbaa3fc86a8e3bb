"""README's and docs/benchmarks.md's benchmark tables are exactly what scripts/bench_table.py
makes from reports/bench/*.json: a figure edited by hand, or a report rerun without
regenerating the tables, fails here."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("bench_table", ROOT / "scripts" / "bench_table.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_table"] = module
    spec.loader.exec_module(module)
    return module


bench_table = _script()


def _record(rows: list[dict]) -> dict:
    return {"bench": "toy", "command": "python bench/toy.py --quick", "date": "2026-12-05 16:00:00 UTC",
            "commit": "0123456789abcdef", "wall_seconds": 1.0, "notes": ["one note"],
            "machine": {"cpu_model": "Toy CPU", "cpus": 2, "cpus_usable": 2, "torch_threads": 1,
                        "versions": {"torch": "2.13.0"}, "load_average_start": [3.0, 2.0, 1.0],
                        "load_average_end": [5.25, 2.0, 1.0]},
            "results": rows}


def _row(case: str, ours: float, peer: float, ratio: float, best: float, kind: str = "equal work") -> dict:
    return {"case": case, "metric": "triples_per_s", "kind": kind, "ours": ours, "peer": peer, "ratio": ratio,
            "ratio_median": ratio, "ours_best": ours, "peer_best": peer, "ratio_best": best, "repeats": 3,
            "higher_is_better": True}


def test_tables_match_the_stored_reports():
    stale = bench_table.stale()
    assert not stale, f"{[str(p.relative_to(ROOT)) for p in stale]} disagree with reports/bench; " \
                      "run python scripts/bench_table.py"


def test_every_stored_report_is_in_both_tables():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    names = [path.name for path in (ROOT / "reports" / "bench").glob("*.json")
             if {"bench", "results"} <= set(json.loads(path.read_text()))]
    assert {"kge-quick.json", "linker-quick.json", "graph_build-quick.json"} <= set(names)
    for name in names:
        assert f"(reports/bench/{name})" in readme
        assert f"(../reports/bench/{name})" in docs


def test_summary_rows_by_hand():
    record = _record([_row("a", 300.0, 200.0, 1.5, 1.6), _row("b", 400.0, 200.0, 2.0, 2.2),
                      _row("c", 10.0, 20.0, 0.5, 0.5, kind="kgnlu saving")])
    table = bench_table.summary_table([("toy-quick.json", record)], lambda n: f"reports/bench/{n}")
    lines = table.splitlines()
    assert len(lines) == 4  # header, rule, one row per (kind, metric)
    # two equal-work cases: ratio range over cases 1.5–2, best repeats 1.6–2.2; load 3.0 → 5.2
    assert lines[2] == ("| toy (2 cases) | equal work | triples_per_s | see docs | 1.5–2× | 1.6–2.2× | 3 | "
                        "3.0 → 5.2 | [toy-quick.json](reports/bench/toy-quick.json) | "
                        "`python bench/toy.py --quick` |")
    assert lines[3].startswith("| toy (c) | kgnlu saving | triples_per_s | 10 / 20 | 0.5× | 0.5× | 3 |")


def test_a_changed_report_makes_the_tables_stale(tmp_path):
    for rel in ("README.md", "docs/benchmarks.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    reports = tmp_path / "reports" / "bench"
    shutil.copytree(ROOT / "reports" / "bench", reports)
    for path, (_, want) in bench_table.render(tmp_path).items():
        path.write_text(want)
    assert bench_table.stale(tmp_path) == []
    name, record = bench_table.load_reports(reports)[0]
    path = reports / name
    record["results"][0]["ratio"] = record["results"][0]["ratio"] * 2 + 1
    path.write_text(json.dumps(record))
    assert sorted(bench_table.stale(tmp_path)) == [tmp_path / "README.md", tmp_path / "docs" / "benchmarks.md"]
    for path, (_, want) in bench_table.render(tmp_path).items():
        path.write_text(want)
    assert bench_table.stale(tmp_path) == []


def test_markers_are_required():
    with pytest.raises(ValueError, match="bench-table:start"):
        bench_table.replace_between("no markers here", "bench-table", "body")
    text = "a\n<!-- bench-table:start -->\nold\n<!-- bench-table:end -->\nb\n"
    new = bench_table.replace_between(text, "bench-table", "| x |")
    assert new.startswith("a\n<!-- bench-table:start -->\n") and new.endswith("\n<!-- bench-table:end -->\nb\n")
    assert "| x |" in new and "old" not in new


def _common():
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "bench" / "common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_common"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_result_medians_and_best_by_hand():
    common = _common()
    # 1,000 items in 2 / 4 / 5 s (ours) and 8 / 10 / 4 s (peer): rates 500 / 250 / 200 and 125 / 100 / 250
    row = common.Result.from_seconds("c", "items_per_s", 1000, [2, 4, 5], [8, 10, 4])
    out = row.to_json()
    assert (out["ours"], out["peer"], out["ratio"]) == (250, 125, 2)  # medians, 250 / 125
    assert (out["ours_best"], out["peer_best"], out["ratio_best"]) == (500, 250, 2)
    assert out["repeats"] == 3 and out["kind"] == "equal work"
    # times: lower is better, best = the minimum, ratio = peer / ours
    lat = common.Result.from_samples("c", "p50_ms", [0.4, 0.5, 0.6], [0.2, 0.1, 0.3], higher_is_better=False)
    assert (lat.ours, lat.peer, lat.ours_best, lat.peer_best) == (0.5, 0.2, 0.4, 0.1)
    assert lat.ratio == pytest.approx(0.4) and lat.ratio_best == pytest.approx(0.25)
    with pytest.raises(ValueError, match="kind"):
        common.Result("c", "m", 1.0, 1.0, kind="faster")
