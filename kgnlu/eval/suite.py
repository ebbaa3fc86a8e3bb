"""``kgnlu eval all``: every evaluation that has what it needs, one summary table.

Each task writes its own folder under ``out`` (the same files its single command writes); this
module only decides what can run, runs it, and collects one headline row per task into
``summary.json``, ``summary.md`` (README's results table is pasted from it) and ``summary.png``.
A task whose model is missing is listed as skipped with the command that makes it, never faked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kgnlu.io import atomic_write, save_png


@dataclass
class SuiteConfig:
    graph: Path
    out: Path
    tasks: tuple[str, ...] = ("link", "kge", "qa", "probe", "fewshot")
    link_wordnet_limit: int = 1000  # examples; the full sets take ~10 minutes on 2 cores
    link_geonames_limit: int = 400
    qa_model: Path | None = None  # default: $KGNLU_HOME/qa/models/default
    qa_data: Path | None = None  # default: $KGNLU_HOME/qa/default
    qa_limit: int = 1000  # questions per split
    probe_runs: tuple[Path, ...] = ()  # `kgnlu pretrain` runs with an MLM head (fused and control)
    probe_facts: Path | None = None  # probe_facts.jsonl or the linked-corpus folder holding it
    causal_lm: Path | None = None  # a GPT-2-shaped kgnlu run or a local HF causal LM folder
    fewshot_limit: int = 0


@dataclass
class TaskResult:
    task: str
    status: str  # "ok", "skipped" or "failed"
    headline: dict[str, float] = field(default_factory=dict)  # metric → value, for the summary table
    reason: str = ""  # why skipped or failed, and what to run
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"task": self.task, "status": self.status, "headline": self.headline, "reason": self.reason,
                "seconds": round(self.seconds, 1)}


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _link(cfg: SuiteConfig) -> TaskResult:
    from kgnlu.commands.eval import link

    out = cfg.out / "link"
    link(graph=cfg.graph, task=None, mode=None, split="test", wordnet_limit=cfg.link_wordnet_limit,
         geonames_limit=cfg.link_geonames_limit, out=out, encoder=None)
    report = _read(out / "linking.json")
    headline = {}
    wordnet, geonames = report["tasks"].get("wordnet", {}), report["tasks"].get("geonames", {})
    for mode in ("fast", "neural"):
        if mode in wordnet:
            headline[f"WordNet senses accuracy ({mode})"] = wordnet[mode]["open"]["accuracy"]
    if "fast" in wordnet:
        headline["WordNet senses, most frequent sense"] = wordnet["fast"]["open"]["mfs_accuracy"]
    for mode in ("fast", "neural", "prior"):
        if mode in geonames:
            headline[f"GeoNames linking F1 ({mode})"] = geonames[mode]["linking"]["f1"]
    return TaskResult("link", "ok", headline)


def _kge(cfg: SuiteConfig) -> TaskResult:
    import numpy as np

    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge.storage import list_embeddings

    if not list_embeddings(cfg.graph):
        return TaskResult("kge", "skipped", reason=f"no embeddings under {cfg.graph}/embeddings; run "
                                                   f"`kgnlu kge train {cfg.graph} --model rotate`")
    if not np.any(np.asarray(KnowledgeGraph.load(cfg.graph, verify=False).triple_split) == 2):
        return TaskResult("kge", "skipped", reason=f"{cfg.graph} has no test triples (its sources carry no split); "
                                                   "`kgnlu eval kge` a PyKEEN or WordNet-benchmark graph instead")
    from kgnlu.commands.eval_suite import kge

    kge(graph=cfg.graph, name=None, split="test", out=cfg.out / "kge", as_json=False)
    report = _read(cfg.out / "kge" / "kge.json")
    headline = {}
    for row in report["embeddings"]:
        headline[f"{row['name']} MRR"] = row["mrr"]
        headline[f"{row['name']} Hits@10"] = row["hits@10"]
    return TaskResult("kge", "ok", headline)


def _qa(cfg: SuiteConfig) -> TaskResult:
    from kgnlu.qa.default import default_data_dir, default_model_dir

    model, data = cfg.qa_model or default_model_dir(), cfg.qa_data or default_data_dir()
    if not (model / "config.json").is_file() and not any(model.glob("*.json")):
        return TaskResult("qa", "skipped", reason=f"no QA model at {model}; run `make run` or "
                                                  f"`kgnlu qa train {cfg.graph} --data {data} --out {model}`")
    from kgnlu.commands.eval import qa

    qa(pred=None, gold=None, data=data, model=model, graph=cfg.graph, split=None, limit=cfg.qa_limit,
       out=cfg.out / "qa", as_json=False)
    report = _read(cfg.out / "qa" / "qa.json")
    headline = {}
    for split, metrics in report["splits"].items():
        headline[f"{split} hits@1"] = metrics["hits@1"]
        for hops, m in sorted(metrics.get("by_hops", {}).items()):
            headline[f"{split} {hops}-hop hits@1"] = m["hits@1"]
    if "latency_ms" in report:
        headline["latency p50 (ms)"] = report["latency_ms"]["p50"]
    return TaskResult("qa", "ok", headline)


def _probe(cfg: SuiteConfig) -> TaskResult:
    if not cfg.probe_runs or cfg.probe_facts is None:
        return TaskResult("probe", "skipped", reason="give --probe-run (fused and control runs of "
                                                     "`kgnlu pretrain --config configs/fusion-*.yaml`) and --probe-facts")
    from kgnlu.commands.eval import probe

    probe(runs=list(cfg.probe_runs), facts=cfg.probe_facts, out=cfg.out / "probe", max_facts=0, templates=0,
          batch_size=64, entities=True, ablate_entities=False, as_json=False)
    report = _read(cfg.out / "probe" / "probe.json")
    headline = {}
    for run in report.get("runs", []):
        overall = run.get("overall", {})
        for key in ("p@1", "p@10", "mrr"):
            if key in overall:
                headline[f"{Path(run['run']).name} {key}"] = overall[key]
    return TaskResult("probe", "ok", headline)


def _fewshot(cfg: SuiteConfig) -> TaskResult:
    if cfg.causal_lm is None:
        return TaskResult("fewshot", "skipped", reason="give --causal-lm (a `kgnlu pretrain` GPT-2 run, e.g. "
                                                       "runs/evidence/gpt2-mini, or a local HF causal LM folder)")
    from kgnlu.commands.eval import fewshot

    fewshot(model=cfg.causal_lm, kind="auto", shots=None, normalize=None, graph=cfg.graph, facts=False,
            limit=cfg.fewshot_limit, seed=0, batch_size=16, out=cfg.out / "fewshot", as_json=False)
    report = _read(cfg.out / "fewshot" / "fewshot.json")
    headline = {}
    for row in report.get("results", []):
        headline[f"{row['shots']}-shot accuracy ({row['normalize']})"] = row["accuracy"]
    return TaskResult("fewshot", "ok", headline)


TASKS: Mapping[str, Callable[[SuiteConfig], TaskResult]] = {
    "link": _link, "kge": _kge, "qa": _qa, "probe": _probe, "fewshot": _fewshot}


def run_suite(cfg: SuiteConfig, report: Callable[[str], None] = print) -> dict:
    """Run the configured tasks in order; a failing task is recorded (with its error) and the rest go on."""
    from kgnlu.errors import KgnluError

    results = []
    for task in cfg.tasks:
        start = time.perf_counter()
        report(f"== eval {task}")
        try:
            result = TASKS[task](cfg)
        except KgnluError as err:  # a user-fixable problem: record it, keep evaluating the rest
            result = TaskResult(task, "failed", reason=str(err))
        result.seconds = time.perf_counter() - start
        results.append(result)
    summary = {"graph": str(cfg.graph), "tasks": [r.to_json() for r in results]}
    with atomic_write(cfg.out / "summary.json") as f:
        json.dump(summary, f, indent=2)
    with atomic_write(cfg.out / "summary.md") as f:
        f.write(markdown_summary(summary))
    plot_summary(summary, cfg.out / "summary.png")
    return summary


def markdown_summary(summary: Mapping) -> str:
    lines = ["| task | metric | value |", "|---|---|---|"]
    for task in summary["tasks"]:
        if task["status"] != "ok":
            lines.append(f"| {task['task']} | {task['status']} | {task['reason']} |")
            continue
        for metric, value in task["headline"].items():
            lines.append(f"| {task['task']} | {metric} | {value:.3f} |" if isinstance(value, float)
                         else f"| {task['task']} | {metric} | {value} |")
    return "\n".join(lines) + "\n"


def plot_summary(summary: Mapping, path: Path) -> Path:
    """One horizontal bar per headline score in [0, 1] (latencies and counts are left to the tables)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(f"{t['task']}: {m}", v) for t in summary["tasks"] if t["status"] == "ok"
            for m, v in t["headline"].items() if isinstance(v, int | float) and 0.0 <= v <= 1.0]
    fig, ax = plt.subplots(figsize=(8, 0.32 * max(len(rows), 3) + 1))
    if rows:
        ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1], color="#4477aa")
        ax.set_xlim(0, 1)
    else:
        ax.text(0.5, 0.5, "no task produced scores", ha="center", va="center")
    ax.set_title("kgnlu eval all")
    fig.tight_layout()
    save_png(fig, path, dpi=110)
    return path
