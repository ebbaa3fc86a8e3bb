"""``kgnlu serve`` under bounded load on loopback: latency, throughput, HTTP overhead, workers.

Starts two servers of its own side by side (``kgnlu serve GRAPH --workers 1`` and ``--workers 2``,
subprocesses) and, round by round, sends each the same fixed number of requests from C concurrent
clients (threads, each with one keep-alive ``httpx.Client``; not ``http.client``, which writes a
POST's headers and body in two segments and so waits out a 40 ms delayed ACK on every request).
Reported:

- ``/link`` (one sentence, fast mode) and ``/qa`` (dev-split questions of the default QA data):
  p50/p95/p99 latency and requests/s at 8 and 32 clients; errors (non-200 or failed requests),
  which must be 0;
- HTTP overhead: the same calls made one at a time over HTTP (1 worker) and in this process (the
  ``EntityLinker`` / ``KGQA`` objects called directly, same inputs, same count, one torch thread
  as each worker), interleaved round by round, p50 compared; GET /health's p50 as the floor;
- 1 worker vs 2 workers: requests/s of the same load, alternated round by round;
- the server processes' resident memory (RSS and USS, the parent and its workers summed, psutil)
  after the warm-up, after each round and at the end: it should stay flat.

Goals (issue 21): HTTP overhead <= 15% at p50 for /qa; 2 workers >= 1.6x one worker's throughput
on 2 cores; /link >= 500 requests/s for one sentence in fast mode. Prints one JSON line last and
keeps it as ``reports/bench/serve[-quick].json``; the per-case table goes beside it as
``serve[-quick]-detail.json``.

    python bench/serve.py --quick --graph ~/.cache/kgnlu/graphs/default
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KGNLU_PROGRESS", "0")

from common import REPORTS, Result, emit, note  # noqa: E402

from tests.serve.server_proc import start_server  # noqa: E402  (a checkout's tests/: the one server starter)

SENTENCE = "The capital of France is Paris, on the Seine."
GOALS = {"qa_overhead_p50": 0.15, "workers_speedup": 1.6, "link_rps": 500.0}


def client() -> httpx.Client:
    return httpx.Client(timeout=300.0)


def memory_mb(server) -> dict:
    """RSS and USS of the server and every process under it (its forked workers), summed, MB."""
    import psutil

    root = psutil.Process(server.proc.pid)
    rss = uss = 0
    for p in [root, *root.children(recursive=True)]:
        try:
            info = p.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss, uss = rss + info.rss, uss + info.uss
    return {"rss_mb": rss / 2**20, "uss_mb": uss / 2**20}


def load(server, path: str, bodies: list[dict], clients: int) -> dict:
    """Send every body once (POST ``path``) from ``clients`` threads; latencies (s) and wall time."""
    lock, latencies, errors = threading.Lock(), [], []
    todo = iter(list(enumerate(bodies)))

    url = server.url + path

    def run() -> None:
        with client() as http:
            while True:
                with lock:
                    item = next(todo, None)
                if item is None:
                    break
                t = time.perf_counter()
                try:
                    r = http.post(url, json=item[1])
                    ok, why = r.status_code == 200, f"HTTP {r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as err:
                    ok, why = False, repr(err)
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    if not ok:
                        errors.append(why)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    start = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - start
    return {"latencies": latencies, "wall": wall, "errors": errors}


def summary(runs: list[dict]) -> dict:
    """Percentiles (ms, nearest rank) over the latencies of all ``runs`` of one case; requests/s
    the median over the runs (each run is one round of the interleaved schedule)."""
    lat = sorted(x for r in runs for x in r["latencies"])

    def pct(q: float) -> float:
        return 1000 * lat[max(0, math.ceil(q * len(lat)) - 1)]

    rates = [len(r["latencies"]) / r["wall"] for r in runs]
    return {"requests": len(lat), "rounds": len(runs), "p50_ms": pct(0.50), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "requests_per_s": statistics.median(rates),
            "requests_per_s_rounds": rates, "errors": sum(len(r["errors"]) for r in runs)}


def sequential_overhead(server, path: str, bodies: list[dict], call, rounds: int) -> tuple[list, list]:
    """The p50 latency (ms) of ``bodies`` sent one at a time over HTTP, and of the same calls in this
    process, each round; the two alternate round by round (drift hits both)."""
    http_p50, local_p50 = [], []
    for _ in range(rounds):
        http_p50.append(summary([load(server, path, bodies, 1)])["p50_ms"])
        times = []
        for body in bodies:
            t = time.perf_counter()
            call(body)
            times.append(time.perf_counter() - t)
        local_p50.append(1000 * statistics.median(times))
    return http_p50, local_p50


def health_p50_ms(server, n: int) -> float:
    """p50 of GET /health one at a time: the HTTP stack's own floor (no model call, no lock) on this
    machine at this moment, to read the overhead rows against."""
    times = []
    with client() as http:
        for _ in range(n):
            t = time.perf_counter()
            http.get(server.url + "/health").raise_for_status()
            times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def dev_questions(path: Path, n: int) -> list[str]:
    if not path.is_file():
        raise SystemExit(f"no QA questions at {path}: give --questions FILE.jsonl (one {{\"question\": ...}} a "
                         "line) or run `make run` once (it writes the default QA data)")
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line)["question"] for line in f if line.strip()]
    step = max(1, len(rows) // n)  # spread over the file: its templates come in runs
    return rows[::step][:n]


def main() -> None:
    from kgnlu.kg.build import kgnlu_home

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--graph", type=Path, default=kgnlu_home() / "graphs" / "default")
    ap.add_argument("--questions", type=Path, default=kgnlu_home() / "qa" / "default" / "dev.jsonl",
                    help="JSONL with a question a line (default: the default QA data's dev split)")
    ap.add_argument("--serve-arg", action="append", default=[],
                    help="extra argument for `kgnlu serve` (repeatable), e.g. --serve-arg=--model=DIR")
    args = ap.parse_args()

    n_link, n_qa, rounds = (400, 32, 3) if args.quick else (2000, 160, 5)
    seq_link, seq_qa = (100, 16) if args.quick else (300, 48)
    questions = dev_questions(args.questions, 16)
    link_bodies = [{"text": SENTENCE, "mode": "fast"}] * n_link
    qa_bodies = [{"question": questions[i % len(questions)], "k": 5} for i in range(n_qa)]
    REPORTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""
    detail: dict = {"graph": str(args.graph), "sentence": SENTENCE, "questions": questions, "cases": {},
                    "goals": GOALS}

    # In-process objects, loaded the way the server loads them (fast linker; the QA model kgnlu qa picks).
    import torch

    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker
    from kgnlu.qa.default import open_qa

    torch.set_num_threads(1)  # one intra-op thread, as each server worker
    kg = KnowledgeGraph.load(args.graph, verify=False)
    linker = EntityLinker.from_graph(kg, mode="fast")
    qa = open_qa(args.graph, None, report=note)

    cases: dict = {}
    env = {"KGNLU_HOME": str(kgnlu_home())}
    # Both servers run side by side and the load alternates between them round by round, so the
    # drift of a shared machine hits 1 and 2 workers alike; an idle server takes no CPU.
    with start_server(args.graph, "--workers", "1", *args.serve_arg, env=env, timeout=900) as one, \
            start_server(args.graph, "--workers", "2", *args.serve_arg, env=env, timeout=900) as two:
        servers = {1: one, 2: two}
        for workers, server in servers.items():  # first calls fill lazy caches in each worker
            load(server, "/link", link_bodies[: 8 * workers], 4 * workers)
            load(server, "/qa", qa_bodies[: 4 * workers], 2 * workers)
        memory = {w: [{"after": "warm-up", **memory_mb(s)}] for w, s in servers.items()}
        runs: dict[str, list[dict]] = {}
        for r in range(rounds):
            for clients in (8, 32):
                for path, bodies in (("/link", link_bodies), ("/qa", qa_bodies)):
                    for workers, server in servers.items():
                        run = load(server, path, bodies, clients)
                        if run["errors"]:
                            note(f"  {path} workers={workers} clients={clients} errors: {run['errors'][:3]}")
                        runs.setdefault(f"{path[1:]}/workers{workers}/c{clients}", []).append(run)
            for workers, server in servers.items():
                memory[workers].append({"after": f"round {r + 1}", **memory_mb(server)})
            note(f"  round {r + 1}/{rounds} done")
        link_http, link_local = sequential_overhead(
            one, "/link", link_bodies[:seq_link], lambda b: linker.link(b["text"]), rounds)
        qa_http, qa_local = sequential_overhead(
            one, "/qa", qa_bodies[:seq_qa], lambda b: qa.answer(b["question"], b["k"]), rounds)
        floor = health_p50_ms(one, seq_link)
        for workers, server in servers.items():
            memory[workers].append({"after": "end", **memory_mb(server)})
    for name, case_runs in runs.items():
        cases[name] = s = summary(case_runs)
        note(f"  {name}: p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f}, p99 {s['p99_ms']:.1f}, "
             f"{s['requests_per_s']:.1f} req/s (median of {s['rounds']} rounds), {s['errors']} errors")
    errors = sum(c["errors"] for c in cases.values())
    med = statistics.median
    cases["overhead"] = {"link_http_p50_ms": med(link_http), "link_inprocess_p50_ms": med(link_local),
                         "qa_http_p50_ms": med(qa_http), "qa_inprocess_p50_ms": med(qa_local),
                         "health_http_p50_ms": floor,
                         "rounds": {"link_http": link_http, "link_inprocess": link_local,
                                    "qa_http": qa_http, "qa_inprocess": qa_local}}
    note(f"  sequential p50 (median of {rounds} rounds): /link {med(link_http):.2f} ms vs in-process "
         f"{med(link_local):.2f}; /qa {med(qa_http):.1f} ms vs in-process {med(qa_local):.1f}; "
         f"GET /health {floor:.2f} ms")
    for workers, series in memory.items():
        cases[f"memory/workers{workers}"] = {"start": series[0], "end": series[-1], "series": series}
        note(f"  memory workers={workers}, RSS / USS MB: "
             + ", ".join(f"{m['after']} {m['rss_mb']:.0f} / {m['uss_mb']:.0f}" for m in series))

    rates = {name: c["requests_per_s_rounds"] for name, c in cases.items() if "requests_per_s_rounds" in c}
    best_link = max((n for n in rates if n.startswith("link/")), key=lambda n: statistics.median(rates[n]))
    mem = cases["memory/workers2"]
    results = [
        # p50 ms of one call at a time; ratio = in-process / HTTP, so >= 1/1.15 = 0.87 meets the goal
        Result.from_samples("qa/http_vs_inprocess", "p50_ms", qa_http, qa_local, False,
                            peer_name="KGQA.answer in-process"),
        Result.from_samples("link/http_vs_inprocess", "p50_ms", link_http, link_local, False,
                            peer_name="EntityLinker.link in-process (fast)"),
        # requests/s of 8 clients; ratio = 2 workers / 1 worker (goal >= 1.6)
        Result.from_samples("qa/2_workers_vs_1_c8", "requests_per_s", rates["qa/workers2/c8"],
                            rates["qa/workers1/c8"], peer_name="kgnlu serve --workers 1"),
        Result.from_samples("link/2_workers_vs_1_c8", "requests_per_s", rates["link/workers2/c8"],
                            rates["link/workers1/c8"], peer_name="kgnlu serve --workers 1"),
        Result.from_samples(f"link/{best_link.split('/', 1)[1]}_vs_goal", "requests_per_s", rates[best_link],
                            [GOALS["link_rps"]], kind="goal", peer_name="the goal, 500 requests/s"),
        Result("server/rss_end_vs_start_2_workers", "rss_mb", mem["end"]["rss_mb"], mem["start"]["rss_mb"],
               False, kind="memory", peer_name="RSS after warm-up"),
        Result("errors", "count", float(errors), 0.0, False, kind="goal", peer_name="the goal, 0 errors"),
    ]
    overhead = med(qa_http) / med(qa_local) - 1
    speedup = med(rates["qa/workers2/c8"]) / med(rates["qa/workers1/c8"])
    link_rate = med(rates[best_link])
    verdict = {
        "qa_overhead_p50": {"value": overhead, "goal": f"<= {GOALS['qa_overhead_p50']:.0%}",
                            "met": overhead <= GOALS["qa_overhead_p50"]},
        "qa_workers_speedup": {"value": speedup, "goal": f">= {GOALS['workers_speedup']}",
                               "met": speedup >= GOALS["workers_speedup"]},
        "link_requests_per_s": {"value": link_rate, "case": best_link, "goal": f">= {GOALS['link_rps']:.0f}",
                                "met": link_rate >= GOALS["link_rps"]},
        "errors": {"value": errors, "goal": "0", "met": errors == 0},
    }
    said = [f"goal {name}: {v['value']:.3g} ({v['goal']}): {'met' if v['met'] else 'NOT met'}"
            for name, v in verdict.items()]
    for line in said:
        note(line)
    detail.update(cases=cases, verdict=verdict, cpus=os.cpu_count(),
                  load_average=os.getloadavg(), date=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
    from kgnlu.atomic_files import atomic_write

    with atomic_write(REPORTS / f"serve{suffix}-detail.json") as f:
        f.write(json.dumps(detail, indent=1) + "\n")
    emit("serve", results, packages=("fastapi", "uvicorn", "httpx"), notes=[
        f"load: {n_link} /link and {n_qa} /qa requests a case from 8 and 32 httpx clients (threads, keep-alive), "
        f"{rounds} rounds alternating a 1-worker and a 2-worker server running side by side",
        "HTTP overhead: the same requests one at a time over HTTP vs the same objects called in-process",
        f"per-case p50/p95/p99 and memory series: reports/bench/serve{suffix}-detail.json", *said])


if __name__ == "__main__":
    main()
