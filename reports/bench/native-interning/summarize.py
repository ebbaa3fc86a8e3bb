"""Min/median over the repeats of run.sh's records: writes summary.json beside them.

    .venv/bin/python reports/bench/native-interning/summarize.py
"""
import json
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent
out = {}
for quick in (False, True):
    name = "graph_build-quick.json" if quick else "graph_build.json"
    for side in ("before", "after"):
        rows = {}
        for record in sorted(HERE.glob(f"{side}-*/{name}")):
            for r in json.loads(record.read_text())["results"]:
                if r["metric"].startswith("ingest"):
                    rows.setdefault(f"{r['case']}: {r['metric']}", []).append(r["ratio"])
        for metric, ratios in rows.items():
            out[f"{'quick' if quick else 'full'} {side} {metric}"] = {
                "runs": len(ratios), "ratios_vs_rdflib": ratios, "min": min(ratios),
                "median": statistics.median(ratios), "max": max(ratios)}
for side in ("before", "after"):
    path = HERE / f"rss-{side}.json"
    if path.exists():
        out[f"rss {side}"] = json.loads(path.read_text())
(HERE / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
print(json.dumps(out, indent=1))
