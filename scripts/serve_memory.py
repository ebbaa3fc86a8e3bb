"""Memory of `kgnlu serve --workers N`: what each extra worker costs next to a full copy.

    python scripts/serve_memory.py                       # the default graph ($KGNLU_HOME/graphs/default), 2 workers
    python scripts/serve_memory.py --graph DIR --workers 3 --out reports/serve/memory.json

It starts the server twice with the real command (`kgnlu serve GRAPH --port P [--workers N]`):
once with one worker (its memory is a full copy: graph, linker, QA model, Python), once with N.
Each worker first answers a few /link and /qa requests (so it has touched what a request touches),
then every process is measured with psutil's memory_full_info: RSS, USS (pages only this process
holds: what it would free on exit) and PSS (RSS with each shared page split among its sharers).
The report (JSON, written atomically) keeps the commands, the machine and every number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kgnlu.atomic_files import atomic_write  # noqa: E402
from kgnlu.kg.build import kgnlu_home  # noqa: E402

TEXT = "Paris is the capital of France, on the Seine; the bank of the river was flooded."
QUESTION = "Which country is Paris in?"
MB = 1024 * 1024


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid: int) -> dict:
    info = psutil.Process(pid).memory_full_info()
    return {"pid": pid, "rss_mb": round(info.rss / MB, 1), "uss_mb": round(info.uss / MB, 1),
            "pss_mb": round(info.pss / MB, 1)}


def run_server(graph: Path, workers: int, requests_per_worker: int, start_timeout: float) -> dict:
    port = free_port()
    command = [sys.executable, "-m", "kgnlu.cli", "serve", str(graph), "--port", str(port),
               *(["--workers", str(workers)] if workers > 1 else [])]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        started = time.monotonic()
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"the server exited with {proc.returncode}:\n{log.read().decode(errors='replace')}")
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() - started > start_timeout:
                    raise SystemExit(f"no /health answer in {start_timeout:g} s")
                time.sleep(0.5)
            ready_s = time.monotonic() - started
            served: dict[int, int] = {}
            for _ in range(50 * workers * requests_per_worker):  # fresh connections reach every worker
                if len(served) == workers and min(served.values()) >= requests_per_worker:
                    break
                with httpx.Client(timeout=120) as client:
                    r = client.post(url + "/link", json={"text": TEXT})
                    r.raise_for_status()
                    pid = int(r.headers["x-kgnlu-worker"])
                    client.post(url + "/qa", json={"question": QUESTION, "k": 3}).raise_for_status()
                served[pid] = served.get(pid, 0) + 1
            parent = psutil.Process(proc.pid)
            children = sorted(p.pid for p in parent.children())
            return {"command": " ".join(["kgnlu", *command[3:]]), "workers": workers, "ready_seconds": round(ready_s, 1),
                    "requests_per_worker": served, "parent": memory(proc.pid),
                    "worker_processes": [memory(pid) for pid in children]}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--graph", type=Path, default=kgnlu_home() / "graphs" / "default")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--requests", type=int, default=3, help="/link + /qa pairs each worker answers first")
    ap.add_argument("--out", type=Path, default=REPO / "reports" / "serve" / "memory.json")
    ap.add_argument("--start-timeout", type=float, default=600)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    graph = args.graph.expanduser().absolute()
    manifest = json.loads((graph / "manifest.json").read_text(encoding="utf-8"))
    graph_mb = sum(f["bytes"] for f in manifest["files"].values()) / MB
    one = run_server(graph, 1, args.requests, args.start_timeout)
    many = run_server(graph, args.workers, args.requests, args.start_timeout)
    full = one["parent"]
    workers = many["worker_processes"]
    report = {
        "what": "memory of `kgnlu serve`: one worker (a full copy) vs N forked workers sharing the graph",
        "measured_with": "psutil.Process(pid).memory_full_info() after each worker answered /link and /qa requests",
        "script": "python scripts/serve_memory.py " + " ".join(sys.argv[1:]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "note": "2 shared cores, loaded by other jobs: times are indicative, memory is not affected"},
        "graph": {"name": manifest["name"], "counts": manifest["counts"], "manifest_files_mb": round(graph_mb, 1)},
        "single_worker": one,
        "prefork": many,
        "summary": {
            "full_copy_rss_mb": full["rss_mb"],
            "full_copy_uss_mb": full["uss_mb"],
            "extra_worker_uss_mb": [w["uss_mb"] for w in workers],
            "extra_worker_pss_mb": [w["pss_mb"] for w in workers],
            "extra_worker_uss_fraction_of_full_rss": [round(w["uss_mb"] / full["rss_mb"], 3) for w in workers],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out) as f:
        f.write(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["summary"], indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
