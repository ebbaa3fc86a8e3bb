"""Scale curve (issue 22, item 7): synthetic power-law graphs from 1M to 32M triples.

Per size, each step in its own child process (so one size's memory never inflates the next):

  * generate: :func:`kgnlu.kg.synthetic.write_power_law` (Zipf heads, uniform tails, 50 relations,
    10% of entities labelled), N-Triples in a temp dir;
  * build: ``build_graph([file], out, store=False)`` (``kgnlu graph build --no-store``), wall time
    and the child's peak RSS (``ru_maxrss``; the interpreter's own RSS before the build is reported
    beside it);
  * measure: bytes per triple on disk and resident after load (arrays paged in); 2-hop subgraph
    p50 from uniform seeds and from hub seeds (the top out-degree entities) — bounded
    (``max_nodes=1000, fanout=FANOUT``), ``max_nodes`` alone (the issue's case), and unbounded
    where it finishes under a time cap; alias / lookup / label p50; ``EntityLinker.from_graph``
    (fast mode) build time; zero-shot QA (``KGQA.from_graph``, MiniLM) p50 over templated
    questions about labelled uniform and labelled hub entities.

Writes ``reports/bench/scale[-quick].json`` (bench/common.emit: each result's ``peer`` is the
issue's goal where it sets one, so ratio > 1 = goal met; without a goal ``peer`` equals ``ours``),
plus ``sizes`` (every figure per size), ``slopes`` and ``goals`` (met / not met) in the same file,
and the log-log plot ``reports/bench/scale[-quick].png``.

    python bench/scale.py [--quick] [--sizes 1M,4M,16M,32M] [--walks 200] [--no-qa]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, Result, emit, note  # noqa: E402

FANOUT = 64  # per-node, per-direction edge sample of the bounded walk
MAX_NODES = 1000
GOALS = {"build_slope": 1.1, "walk_ms": 5.0, "lookup_ms": 0.2, "flat_ratio": 2.0,
         "peak_b_per_triple": 150.0, "resident_b_per_triple": 32.0}
NOTES = (
    "every figure per size (build s, disk, linker and zero-shot QA times, unbounded walks) is under 'sizes'",
    "peak build RSS: the build child's ru_maxrss; the goal row subtracts the child's RSS before building "
    "(Python + imports, ~0.1 GB); 'sizes' has both",
    "walks: the p50 over seeds of one 2-hop kgnlu subgraph() call; hub seeds = top out-degree entities",
)
QUESTIONS = ("What is {} located in?", "Who founded {}?", "What is {} part of?", "Who owns {}?",
             "Where was {} born?")


def parse_size(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if text[-1] in "KM" else text) * mult)


def size_name(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(step: str, *args: str, timeout: float | None = None) -> dict:
    """Run ``bench/scale.py --child STEP ARGS`` and return the JSON its last stdout line holds."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{step} failed ({done.returncode}): {done.stderr[-3000:]}")
    sys.stderr.write(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- child steps ---------------------------------------------------------------------------------
def step_generate(path: str, n: str) -> dict:
    from kgnlu.kg.synthetic import write_power_law

    t = time.perf_counter()
    counts = write_power_law(path, int(n), seed=0)
    return {**counts, "generate_s": time.perf_counter() - t, "nt_bytes": os.path.getsize(path)}


def step_build(path: str, out: str) -> dict:
    import kgnlu.kg.build as build  # imported before the clock and the baseline

    base = rss_bytes()
    t = time.perf_counter()
    build.build_graph([path], Path(out), store=False, force=True)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"build_s": seconds, "peak_rss": peak, "baseline_rss": base}


def p50_ms(times: list[float]) -> float:
    return 1000 * statistics.median(times) if times else float("nan")


def time_each(fn, items) -> list[float]:
    out = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        out.append(time.perf_counter() - t)
    return out


def step_measure(out: str, walks: str, unbounded_cap: str) -> dict:
    from kgnlu.kg import KnowledgeGraph

    walks_n, cap = int(walks), float(unbounded_cap)
    root = Path(out)
    disk = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    before = rss_bytes()
    kg = KnowledgeGraph.load(root, verify=False)
    w = kg.walker
    # page in what walks and lookups read: triples, CSR, alias and id tables
    touched = sum(int(np.asarray(a).sum() % 7) for a in (kg.triples, w.out_indptr, w.in_indptr, w.in_index,
                                                         kg._alias_indptr, kg._ids.order, kg._ids.offsets))
    resident = rss_bytes() - before
    res: dict = {"triples": kg.num_triples, "entities": kg.num_entities, "disk_bytes": disk,
                 "resident_bytes": resident, "touched": touched}
    deg = np.diff(np.asarray(w.out_indptr))
    rng = np.random.default_rng(0)
    seeds = {"uniform": rng.integers(0, kg.num_entities, walks_n).tolist(),
             "hub": np.argsort(deg)[::-1][: min(walks_n, 100)].tolist()}
    res["max_out_degree"] = int(deg.max())
    for kind, ss in seeds.items():
        for name, kw in (("bounded", {"max_nodes": MAX_NODES, "fanout": FANOUT}),
                         ("max_nodes_only", {"max_nodes": MAX_NODES})):
            w.subgraph(ss[:3], 2, **kw)  # warm-up
            w.edges_read = 0
            sizes = []
            times = time_each(lambda e, kw=kw, sizes=sizes: sizes.append(len(w.subgraph([e], 2, **kw).nodes)), ss)
            res[f"walk_{name}_{kind}_ms"] = p50_ms(times)
            res[f"walk_{name}_{kind}_edges_read"] = w.edges_read / len(ss)
            res[f"walk_{name}_{kind}_nodes"] = float(np.median(sizes))
        # unbounded: as many walks as finish within the cap (a hub's 2-hop ball is most of the graph)
        times, start = [], time.perf_counter()
        for e in ss[:20]:
            if time.perf_counter() - start > cap:
                break
            times += time_each(lambda e: w.subgraph([e], 2), [e])
        res[f"walk_unbounded_{kind}_ms"] = p50_ms(times)
        res[f"walk_unbounded_{kind}_done"] = len(times)
    labelled = [e for e in rng.permutation(kg.num_entities)[:20_000].tolist() if kg.entity_label(e)][:500]
    names = [kg.entity_label(e) for e in labelled]
    for fn_name, fn, items in (("alias", kg.aliases, names), ("lookup", kg.lookup, names),
                               ("label", kg.entity_label, labelled)):
        time_each(fn, items[:20])
        res[f"{fn_name}_ms"] = p50_ms(time_each(fn, items))
    from kgnlu.kg.linker import EntityLinker

    t = time.perf_counter()
    linker = EntityLinker.from_graph(kg, mode="fast", save=False)
    res["linker_build_s"] = time.perf_counter() - t
    res["rss_after_linker"] = rss_bytes()
    del linker
    return res


def step_qa(out: str) -> dict:
    """Zero-shot QA in its own child (it may be stopped at --qa-timeout): linker, catalog and
    prototypes built, then templated questions about labelled uniform and hub entities."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker
    from kgnlu.qa import KGQA

    kg = KnowledgeGraph.load(Path(out), verify=False)
    deg = np.diff(np.asarray(kg.walker.out_indptr))
    rng = np.random.default_rng(0)
    labelled = [e for e in rng.permutation(kg.num_entities)[:20_000].tolist() if kg.entity_label(e)][:500]
    linker = EntityLinker.from_graph(kg, mode="fast", save=False)
    t = time.perf_counter()
    qa = KGQA.from_graph(kg, linker, report=note)
    out = {"qa_build_s": time.perf_counter() - t}
    order = np.argsort(deg)[::-1]
    hubs = [int(e) for e in order[:50_000] if kg.entity_label(int(e))][:20]
    for kind, ents in (("uniform", labelled[:20]), ("hub", hubs)):
        qs = [QUESTIONS[i % len(QUESTIONS)].format(kg.entity_label(e)) for i, e in enumerate(ents)]
        qa.answer(qs[0])  # warm-up
        answered = []
        times = time_each(lambda q, answered=answered: answered.append(bool(len(qa.answer(q)))), qs)
        out[f"qa_{kind}_ms"] = p50_ms(times)
        out[f"qa_{kind}_answered"] = sum(answered) / max(len(answered), 1)
    return out


# -- driver --------------------------------------------------------------------------------------
def run_size(n: int, work: Path, args) -> dict:
    name = size_name(n)
    nt, out = work / f"g{name}.nt", work / f"g{name}"
    note(f"[{name}] generating {n:,} triples")
    rec = {"size": name, "n": n, **child("generate", str(nt), str(n))}
    note(f"[{name}] building (no store)")
    rec.update(child("build", str(nt), str(out)))
    nt.unlink()
    note(f"[{name}] measuring")
    rec.update(child("measure", str(out), str(args.walks), str(args.unbounded_cap)))
    if not args.no_qa and n <= args.qa_max_size:
        note(f"[{name}] zero-shot QA (stopped after {args.qa_timeout:g} s)")
        try:
            rec.update(child("qa", str(out), timeout=args.qa_timeout))
        except subprocess.TimeoutExpired:
            rec["qa_note"] = f"zero-shot QA build did not finish in {args.qa_timeout:g} s"
    shutil.rmtree(out, ignore_errors=True)
    t = rec["triples"]
    rec["disk_b_per_triple"] = rec["disk_bytes"] / t
    rec["resident_b_per_triple"] = rec["resident_bytes"] / t
    rec["peak_b_per_triple"] = rec["peak_rss"] / t
    rec["peak_above_baseline_b_per_triple"] = (rec["peak_rss"] - rec["baseline_rss"]) / t
    note(f"[{name}] " + json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rec.items()}))
    return rec


def slope(xs, ys) -> float:
    x, y = np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float))
    return float(np.polyfit(x, y, 1)[0]) if len(x) >= 2 else float("nan")


def summarise(recs: list[dict]) -> tuple[dict, dict, list[Result]]:
    ns = [r["triples"] for r in recs]
    slopes = {"build_s": slope(ns, [r["build_s"] for r in recs]),
              "peak_rss": slope(ns, [r["peak_rss"] for r in recs])}
    walk_keys = ["walk_bounded_uniform_ms", "walk_bounded_hub_ms"]
    lookup_keys = ["alias_ms", "lookup_ms", "label_ms"]

    def flat(key):
        return recs[-1][key] / recs[0][key]

    goals = {
        "build time linear (log-log slope <= 1.1)": slopes["build_s"] <= GOALS["build_slope"],
        "bounded 2-hop walk p50 <= 5 ms at every size": all(r[k] <= GOALS["walk_ms"] for r in recs for k in walk_keys),
        "lookups p50 <= 0.2 ms at every size": all(r[k] <= GOALS["lookup_ms"] for r in recs for k in lookup_keys),
        "walks and lookups flat (<= 2x smallest to largest)":
            all(flat(k) <= GOALS["flat_ratio"] for k in walk_keys + lookup_keys),
        "peak build RSS (above the interpreter's) <= 150 B/triple":
            all(r["peak_above_baseline_b_per_triple"] <= GOALS["peak_b_per_triple"] for r in recs),
        "peak build RSS (whole process) <= 150 B/triple at the largest size":
            recs[-1]["peak_b_per_triple"] <= GOALS["peak_b_per_triple"],
        "resident <= 32 B/triple": all(r["resident_b_per_triple"] <= GOALS["resident_b_per_triple"] for r in recs),
    }
    results: list[Result] = []
    goal = dict(kind="goal", peer_name="issue 22 goal", higher_is_better=False)
    for r in recs:
        c = f"{r['size']} triples"
        results += [
            Result(c, "peak build RSS above the interpreter's, bytes/triple", r["peak_above_baseline_b_per_triple"],
                   GOALS["peak_b_per_triple"], **goal),
            Result(c, "resident after load (arrays paged in), bytes/triple", r["resident_b_per_triple"],
                   GOALS["resident_b_per_triple"], **goal),
        ]
        for k in walk_keys:
            seeds = k.split("_")[2]
            results.append(Result(c, f"2-hop walk p50 ms, max_nodes={MAX_NODES} fanout={FANOUT}, {seeds} seeds",
                                  r[k], GOALS["walk_ms"], **goal))
            results.append(Result(c, f"2-hop walk p50 ms, {seeds} seeds: bounded vs max_nodes={MAX_NODES} alone",
                                  r[k], r[f"walk_max_nodes_only_{seeds}_ms"], False, "baseline",
                                  peer_name="the same walker with max_nodes only (no fan-out cap)"))
        for k in lookup_keys:
            results.append(Result(c, f"{k[:-3]} p50 ms", r[k], GOALS["lookup_ms"], **goal))
    results.append(Result("all sizes", "build time log-log slope", slopes["build_s"], GOALS["build_slope"], **goal))
    for k in walk_keys + lookup_keys:
        results.append(Result("all sizes", f"{k[:-3]} p50, largest size / smallest", flat(k),
                              GOALS["flat_ratio"], **goal))
    return slopes, goals, results


def plot(recs: list[dict], slopes: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kgnlu.atomic_files import atomic_path

    ns = np.array([r["triples"] for r in recs], float)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = [("build_s", "build (s)", 1), ("linker_build_s", "linker index (s)", 1),
              ("walk_bounded_uniform_ms", "bounded 2-hop, uniform (ms)", 1),
              ("walk_bounded_hub_ms", "bounded 2-hop, hubs (ms)", 1),
              ("walk_max_nodes_only_hub_ms", "max_nodes only, hubs (ms)", 1),
              ("alias_ms", "alias lookup (ms)", 1), ("qa_uniform_ms", "zero-shot QA (ms)", 1)]
    for key, label, _ in series:
        if all(key in r for r in recs):
            ys = np.array([r[key] for r in recs], float)
            a.loglog(ns, ys, "o-", label=f"{label}, slope {slope(ns, ys):.2f}")
    a.set_xlabel("triples")
    a.set_title("time vs size (log-log)")
    a.legend(fontsize=7)
    for key, label in (("peak_rss", "peak build RSS"), ("resident_bytes", "resident after load"),
                       ("disk_bytes", "on disk")):
        ys = np.array([r[key] for r in recs], float) / 2**20
        b.loglog(ns, ys, "o-", label=f"{label} (MiB), slope {slope(ns, ys):.2f}")
    b.set_xlabel("triples")
    b.set_title("memory vs size (log-log)")
    b.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1M and 4M only")
    ap.add_argument("--sizes", default=None, help="comma-separated sizes, e.g. 1M,4M,16M,32M")
    ap.add_argument("--walks", type=int, default=200, help="uniform seeds per size (hub seeds: at most 100)")
    ap.add_argument("--unbounded-cap", type=float, default=20.0, help="seconds of unbounded walks per seed kind")
    ap.add_argument("--no-qa", action="store_true", help="skip zero-shot QA (needs the MiniLM wheel)")
    ap.add_argument("--qa-timeout", type=float, default=900.0, help="seconds for one size's QA build + questions")
    ap.add_argument("--qa-max-size", type=parse_size, default=parse_size("32M"), help="no QA above this size")
    ap.add_argument("--work", default=None, help="scratch folder (default: a temp dir)")
    ap.add_argument("--from-log", default=None,
                    help="rebuild the report from the per-size lines a run printed to stderr (a run cut short)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        step, rest = args.child[0], args.child[1:]
        fn = {"generate": step_generate, "build": step_build, "measure": step_measure, "qa": step_qa}[step]
        print(json.dumps(fn(*rest)), flush=True)
        return
    sizes = [parse_size(s) for s in (args.sizes or ("1M,4M" if args.quick else "1M,4M,16M,32M")).split(",")]
    # the ingest is being reworked (native interning): record which builder files the figures are of
    import hashlib

    kg_dir = Path(__file__).resolve().parent.parent / "kgnlu" / "kg"
    builder = {str(f.relative_to(kg_dir.parent.parent)): hashlib.sha256(f.read_bytes()).hexdigest()[:12]
               for f in (kg_dir / "graph_builder.py", kg_dir / "build.py", kg_dir / "sources" / "ntriples_fast.py",
                         kg_dir / "sources" / "rdf_mapping.py")}
    recs = []
    if args.from_log:
        recs = [json.loads(line.split("] ", 1)[1]) for line in Path(args.from_log).read_text().splitlines()
                if line.startswith("[") and "] {" in line]
        note(f"{len(recs)} sizes read from {args.from_log}: {', '.join(r['size'] for r in recs)}")
        sizes = []
    with tempfile.TemporaryDirectory(prefix="kgnlu-scale-", dir=args.work) as tmp:
        # the children's caches (zero-shot prototypes) go to the scratch folder: every run is cold
        os.environ["KGNLU_HOME"] = str(Path(tmp) / "home")
        for n in sizes:
            recs.append(run_size(n, Path(tmp), args))
    slopes, goals, results = summarise(recs)
    emit("scale", results, packages=("numpy", "pyarrow", "pyoxigraph"), notes=NOTES)
    name = "scale" + ("-quick" if args.quick else "")
    report = REPORTS / f"{name}.json"
    record = json.loads(report.read_text())
    record.update({"sizes": recs, "slopes": slopes,
                   "goals": {k: ("met" if v else "not met") for k, v in goals.items()},
                   "settings": {"fanout": FANOUT, "max_nodes": MAX_NODES, "walks": args.walks,
                                "unbounded_cap_s": args.unbounded_cap, "qa": not args.no_qa,
                                "qa_timeout_s": args.qa_timeout, "qa_max_size": args.qa_max_size},
                   "builder_files_sha256": builder})
    from kgnlu.atomic_files import atomic_write

    with atomic_write(report) as f:
        f.write(json.dumps(record, indent=1) + "\n")
    plot(recs, slopes, REPORTS / f"{name}.png")
    note(f"wrote {report} and {REPORTS / name}.png")


if __name__ == "__main__":
    main()
