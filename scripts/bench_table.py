"""Regenerate the benchmark tables of README.md and docs/benchmarks.md from reports/bench/*.json.

    python scripts/bench_table.py           # rewrite the tables between the marker comments
    python scripts/bench_table.py --check   # exit 1 when a table disagrees with the reports

Each ``bench/*.py`` stores its record as ``reports/bench/NAME[-quick].json`` (bench/common.py).
README gets one summary row per (report, kind, metric): the median-of-repeats ratio, and its
range over cases where a metric has several; docs/benchmarks.md gets every row of every report
with the machine it ran on. Only the text between the markers is generated:

    <!-- bench-table:start --> ... <!-- bench-table:end -->            (README.md)
    <!-- bench-table-full:start --> ... <!-- bench-table-full:end -->  (docs/benchmarks.md)

``ratio`` > 1 means kgnlu is better (peer/ours for times, ours/peer for rates and scores).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports" / "bench"
sys.path.insert(0, str(ROOT / "bench"))
from common import KINDS as KIND_MEANING  # noqa: E402  (one list of row kinds, with bench/common.py)

KIND_ORDER = tuple(KIND_MEANING)  # equal work first


def load_reports(folder: Path = REPORTS) -> list[tuple[str, dict]]:
    """(file name, record) for every stored bench record (bench/common.emit's: "bench" and
    "results" keys), by name; other files there (a bench's detail dump) are not tables."""
    out = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(record, dict) and "bench" in record and "results" in record:
            out.append((path.name, record))
    return out


def num(x: float | None) -> str:
    """4 significant digits, thousands separated: 24,349 / 0.4632 / 0.001745."""
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _r(x: float) -> str:
    """3 significant digits, no exponent: 0.0981, 6.81, 465, 1,395."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def ratio(x: float | None) -> str:
    return "—" if x is None else f"{_r(x)}×"


def _span(values: list[float | None]) -> str:
    """The range over cases; a None ratio (the peer scored 0) is left out of it."""
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    lo, hi = min(values), max(values)
    return ratio(lo) if _r(lo) == _r(hi) else f"{_r(lo)}–{_r(hi)}×"


def _load(record: dict) -> str:
    m = record.get("machine", {})
    start, end = m.get("load_average_start"), m.get("load_average_end")
    if not start or not end:
        return "—"
    return f"{start[0]:.1f} → {end[0]:.1f}"


def _dirty(record: dict) -> str:
    files = record.get("uncommitted_files")
    return f" plus uncommitted edits to {len(files)} tracked files" if files else ""


def _kind(row: dict) -> str:
    return row.get("kind", "—")


def _command(record: dict) -> str:
    return f"`{record.get('command', '—')}`"


def summary_table(reports: list[tuple[str, dict]], link: Callable[[str], str]) -> str:
    """README's rows: one per (report, kind, metric), the ratio of medians (range over cases)."""
    lines = ["| benchmark | compares | metric | ours / peer (median) | ratio, median | ratio, best repeat "
             "| repeats | load avg (1 min) | report | command |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, record in reports:
        groups: dict[tuple[str, str], list[dict]] = {}
        for row in record["results"]:
            groups.setdefault((_kind(row), row["metric"]), []).append(row)
        order = sorted(groups, key=lambda g: (KIND_ORDER.index(g[0]) if g[0] in KIND_ORDER else len(KIND_ORDER)))
        for kind, metric in order:
            rows = groups[(kind, metric)]
            if len(rows) == 1:
                case = rows[0]["case"]
                values = f"{num(rows[0]['ours'])} / {num(rows[0]['peer'])}"
            else:
                case = f"{len(rows)} cases"
                values = "see docs"
            best = [r["ratio_best"] for r in rows if r.get("ratio_best") is not None]
            repeats = sorted({r.get("repeats", 1) for r in rows})
            lines.append(f"| {record['bench']} ({case}) | {kind} | {metric} | {values} | "
                         f"{_span([r['ratio'] for r in rows])} | {_span(best) if best else '—'} | "
                         f"{'/'.join(map(str, repeats))} | {_load(record)} | [{name}]({link(name)}) | "
                         f"{_command(record)} |")
    return "\n".join(lines)


def full_tables(reports: list[tuple[str, dict]], link: Callable[[str], str]) -> str:
    """docs/benchmarks.md: per report, the machine and every row."""
    out = []
    for name, record in reports:
        m = record.get("machine", {})
        versions = ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items() if v)
        out += [f"### {record['bench']}: [{name}]({link(name)})", "",
                f"Command: {_command(record)}; run {record.get('date', '—')} at commit "
                f"`{(record.get('commit') or '—')[:12]}`{_dirty(record)}, {record.get('wall_seconds', '—')} s.",
                f"Machine: {m.get('cpu_model', '—')}, {m.get('cpus', '—')} CPUs "
                f"({m.get('cpus_usable', '—')} usable), torch threads {m.get('torch_threads', '—')}, "
                f"load average (1 min) {_load(record)}; {versions or 'versions not recorded'}.", ""]
        out += [f"- {text}" for text in record.get("notes", [])]
        if record.get("notes"):
            out.append("")
        out += ["| case | metric | compares | ours | peer | ratio, median | ours best | peer best | ratio, best "
                "| repeats | peer |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in sorted(record["results"], key=lambda r: (r["case"], KIND_ORDER.index(_kind(r))
                                                            if _kind(r) in KIND_ORDER else len(KIND_ORDER))):
            out.append(f"| {row['case']} | {row['metric']} | {_kind(row)} | {num(row['ours'])} | {num(row['peer'])} | "
                       f"{ratio(row['ratio'])} | {num(row.get('ours_best'))} | {num(row.get('peer_best'))} | "
                       f"{ratio(row.get('ratio_best'))} | {row.get('repeats', 1)} | {row.get('peer_name', '—')} |")
        out.append("")
    return "\n".join(out).rstrip()


def kinds_legend() -> str:
    return "\n".join(f"- **{kind}**: {meaning}" for kind, meaning in KIND_MEANING.items())


# target file → (marker name, renderer(reports) → text); links are relative to each file
TARGETS: dict[str, tuple[str, Callable[[list[tuple[str, dict]]], str]]] = {
    "README.md": ("bench-table", lambda reps: summary_table(reps, lambda n: f"reports/bench/{n}")),
    "docs/benchmarks.md": ("bench-table-full", lambda reps: kinds_legend() + "\n\n"
                           + full_tables(reps, lambda n: f"../reports/bench/{n}")),
}


def replace_between(text: str, marker: str, body: str) -> str:
    """``text`` with everything between ``<!-- MARKER:start -->`` and ``<!-- MARKER:end -->``
    replaced by ``body`` (generated notice first)."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(f"expected one {start} before one {end}")
    head, rest = text.split(start)
    _, tail = rest.split(end)
    notice = "<!-- generated by scripts/bench_table.py from reports/bench/*.json: do not edit by hand -->"
    return f"{head}{start}\n{notice}\n\n{body}\n\n{end}{tail}"


def render(root: Path = ROOT, reports_dir: Path | None = None) -> dict[Path, tuple[str, str]]:
    """path → (current text, text with regenerated tables) for every target file."""
    reports = load_reports(reports_dir or root / "reports" / "bench")
    out = {}
    for rel, (marker, renderer) in TARGETS.items():
        path = root / rel
        text = path.read_text(encoding="utf-8")
        out[path] = (text, replace_between(text, marker, renderer(reports)))
    return out


def stale(root: Path = ROOT, reports_dir: Path | None = None) -> list[Path]:
    """Target files whose tables disagree with the stored reports."""
    return [path for path, (now, want) in render(root, reports_dir).items() if now != want]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only report disagreement (exit 1)")
    args = ap.parse_args(argv)
    try:
        rendered = render()
    except ValueError as err:
        print(f"bench_table: {err}; add the markers to the file", file=sys.stderr)
        return 2
    if args.check:
        bad = [path for path, (now, want) in rendered.items() if now != want]
        for path in bad:
            print(f"{path.relative_to(ROOT)} disagrees with reports/bench; run python scripts/bench_table.py",
                  file=sys.stderr)
        return 1 if bad else 0
    from kgnlu.atomic_files import atomic_write

    for path, (now, want) in rendered.items():
        if now != want:
            with atomic_write(path) as f:
                f.write(want)
            print(f"rewrote the table in {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
