"""The KGQA evidence behind README's question-answering table (issue 17), stage by stage.

    python scripts/qa_evidence.py graphs        # the default graph must exist (make run); builds software, university
    python scripts/qa_evidence.py data          # kgnlu data make-qa for each graph
    python scripts/qa_evidence.py train         # kgnlu qa train for each graph (the default model included)
    python scripts/qa_evidence.py eval --split dev     # every hand-written set, zero-shot and trained; tune on this
    python scripts/qa_evidence.py eval --split test    # once per release
    python scripts/qa_evidence.py generated     # the generated test/paraphrase_dev splits of the default data
    python scripts/qa_evidence.py timing        # make-qa + qa train on a ~100k-triple graph, timed
    python scripts/qa_evidence.py summary       # reports/qa/summary.{json,md} from what the stages wrote

Every stage runs the commands a user would run (`kgnlu ...`), prints them, and writes its report
under ``reports/qa/`` with the commands beside the figures. Models and data live under
``$KGNLU_HOME`` (never in the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
REPORTS = REPO / "reports" / "qa"
GRAPHS = ("default", "software", "university")
QA_CONFIG = REPO / "configs" / "qa-default.yaml"  # what make run trains: the same settings on every graph
TIMING_SOURCE = "geonames:5000"  # a real graph of ~100k triples (GeoNames cities of 5,000+ people)


def home() -> Path:
    from kgnlu.kg.build import kgnlu_home

    return kgnlu_home()


def kgnlu(*args: str, log: list | None = None) -> float:
    """Run ``kgnlu ARGS`` (the venv's), echo it, fail loudly; the wall seconds it took."""
    cmd = [str(Path(sys.executable).with_name("kgnlu")), *args]
    shown = "kgnlu " + " ".join(shlex.quote(a) for a in args)
    print(f"$ {shown}", flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    seconds = time.perf_counter() - start
    if log is not None:
        log.append({"command": shown, "seconds": round(seconds, 1)})
    return seconds


def graph_path(name: str) -> Path:
    from kgnlu.eval.natural_qa import graph_for

    return graph_for(name)


def data_dir(name: str) -> Path:
    return home() / "qa" / name


def model_dir(name: str) -> Path:
    return home() / "qa" / "models" / name


def write(name: str, report: dict) -> None:
    from kgnlu.io import atomic_write

    REPORTS.mkdir(parents=True, exist_ok=True)
    report = {**report, "machine": machine()}
    with atomic_write(REPORTS / f"{name}.json") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {REPORTS / (name + '.json')}")


def machine() -> dict:
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d")}


# ---------------------------------------------------------------------- stages
def stage_graphs(args) -> None:
    for name in GRAPHS:
        print(f"{name}: {graph_path(name)}")


def stage_data(args) -> None:
    log: list = []
    for name in GRAPHS:
        kgnlu("data", "make-qa", str(graph_path(name)), "--out", str(data_dir(name)), *args.make_qa, log=log)
    write("data", {"commands": log})


def stage_train(args) -> None:
    log: list = []
    for name in GRAPHS:
        kgnlu("qa", "train", str(graph_path(name)), "--data", str(data_dir(name)), "--out", str(model_dir(name)),
              "--config", str(QA_CONFIG), *args.overrides, log=log)
    write("train", {"commands": log, "overrides": args.overrides})


def stage_eval(args) -> None:
    sets = []
    for name in GRAPHS:
        sets += ["--set", f"{name}@zero-shot", "--set", f"{name}@{model_dir(name)}"]
    out = REPORTS / f"natural-{args.split}"
    log: list = []
    kgnlu("eval", "qa", *sets, "--natural-split", args.split, "--out", str(out), "--json", log=log)
    report = json.loads((out / "qa.json").read_text(encoding="utf-8"))
    write(f"natural-{args.split}", {"commands": log, "sets": report["sets"]})


def stage_generated(args) -> None:
    out = REPORTS / "generated"
    log: list = []
    kgnlu("eval", "qa", "--data", str(data_dir("default")), "--model", str(model_dir("default")),
          "--split", "test", "--split", "paraphrase_dev", "--out", str(out), "--json", log=log)
    report = json.loads((out / "qa.json").read_text(encoding="utf-8"))
    write("generated", {"commands": log, "splits": report["splits"], "latency_ms": report.get("latency_ms")})


def stage_timing(args) -> None:
    from kgnlu.kg import KnowledgeGraph

    graph = home() / "graphs" / "timing-geonames"
    log: list = []
    kgnlu("graph", "build", TIMING_SOURCE, "--out", str(graph), "--force", log=log)
    kg = KnowledgeGraph.load(graph, verify=False)
    data, model = home() / "qa" / "timing", home() / "qa" / "models" / "timing"
    make_qa = kgnlu("data", "make-qa", str(graph), "--out", str(data), log=log)
    train = kgnlu("qa", "train", str(graph), "--data", str(data), "--out", str(model), "--config", str(QA_CONFIG),
                  log=log)
    write("timing", {"commands": log, "graph": {"source": TIMING_SOURCE, "triples": kg.num_triples,
                                                 "entities": kg.num_entities, "relations": kg.num_relations},
                     "make_qa_seconds": round(make_qa, 1), "train_seconds": round(train, 1),
                     "total_minutes": round((make_qa + train) / 60, 2)})


def stage_summary(args) -> None:
    from kgnlu.io import atomic_write

    rows = []
    for split in ("dev", "test"):
        path = REPORTS / f"natural-{split}.json"
        if not path.is_file():
            continue
        for name, m in json.loads(path.read_text(encoding="utf-8"))["sets"].items():
            rows.append({"set": name, "split": split, "mode": m["mode"], "questions": m["questions"],
                         "hits@1": round(m["hits@1"], 3),
                         **{f"{h}-hop": round(v["hits@1"], 3) for h, v in m["by_hops"].items()},
                         "p50_ms": m["latency_ms"]["p50"]})
    summary = {"natural": rows}
    for extra in ("generated", "timing"):
        path = REPORTS / f"{extra}.json"
        if path.is_file():
            summary[extra] = json.loads(path.read_text(encoding="utf-8"))
    lines = ["# KGQA evidence", "", "Written by `python scripts/qa_evidence.py summary` from the stage reports beside it.",
             "", "| set | split | mode | questions | hits@1 | 1-hop | 2-hop | 3-hop | p50 ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['set']} | {r['split']} | {r['mode']} | {r['questions']} | {r['hits@1']:.3f} | "
                     + " | ".join(f"{r.get(f'{h}-hop', float('nan')):.3f}" for h in (1, 2, 3)) + f" | {r['p50_ms']} |")
    with atomic_write(REPORTS / "summary.json") as f:
        json.dump(summary, f, indent=2)
    with atomic_write(REPORTS / "summary.md") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


STAGES = {"graphs": stage_graphs, "data": stage_data, "train": stage_train, "eval": stage_eval,
          "generated": stage_generated, "timing": stage_timing, "summary": stage_summary}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=list(STAGES))
    ap.add_argument("--split", choices=("dev", "test"), default="dev", help="eval: the hand-written split")
    ap.add_argument("--make-qa", nargs="*", default=[], help="data: extra `kgnlu data make-qa` options")
    ap.add_argument("--overrides", nargs="*", default=[], help="train: key=value QAConfig overrides")
    args = ap.parse_args(argv)
    STAGES[args.stage](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
