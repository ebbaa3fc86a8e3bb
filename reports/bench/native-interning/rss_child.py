"""Child: build a graph from an N-Triples file (no store), print peak RSS and triples."""
import json, resource, sys, time, tempfile
from pathlib import Path
import psutil
from kgnlu.kg.build import build_graph
base = psutil.Process().memory_info().rss
t = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    out = build_graph([sys.argv[1]], Path(d) / "g", store=False)
    n = json.loads((out / "manifest.json").read_text())["counts"]["triples"]
    sec = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"file": sys.argv[1], "lines": int(sys.argv[2]), "triples_unique": n, "seconds": round(sec, 2),
                  "peak_rss_bytes": peak, "rss_after_imports_bytes": base,
                  "peak_bytes_per_line": round(peak / int(sys.argv[2]), 1),
                  "peak_minus_imports_bytes_per_line": round((peak - base) / int(sys.argv[2]), 1)}))
