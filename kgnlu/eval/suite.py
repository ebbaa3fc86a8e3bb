"""``kgnlu eval all``: every evaluation that has what it needs, one summary table.

Each task is an :class:`~kgnlu.eval.tasks.EvalTask` of the registry, run in-process: it writes its own
folder under ``out`` (the same files its single command writes); this module asks each task what
it needs (or why it is skipped), runs it, and collects one headline row per task into
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
    tasks: tuple[str, ...] = field(default_factory=lambda: default_tasks())  # names in kgnlu.eval.tasks.EVAL_TASKS
    link_wordnet_limit: int = 1000  # examples; the full sets take ~10 minutes on 2 cores
    link_geonames_limit: int = 400
    qa_model: Path | None = None  # default: $KGNLU_HOME/qa/models/default
    qa_data: Path | None = None  # default: $KGNLU_HOME/qa/default
    qa_limit: int = 1000  # questions per split
    probe_runs: tuple[Path, ...] = ()  # `kgnlu pretrain` runs with an MLM head (fused and control)
    probe_facts: Path | None = None  # probe_facts.jsonl or the linked-corpus folder holding it
    causal_lm: Path | None = None  # a GPT-2-shaped kgnlu run or a local HF causal LM folder
    fewshot_limit: int = 0
    supersense_model: Path | None = None  # a `kgnlu pretrain` run folder (task supersense, not run by default)


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


def default_tasks() -> tuple[str, ...]:
    """The registered tasks ``kgnlu eval all`` runs without ``--task``, in registration order."""
    from kgnlu.eval.task_runs import eval_tasks

    return tuple(name for name, task in eval_tasks().in_order() if task.default)


def run_task(name: str, cfg: SuiteConfig) -> TaskResult:
    """One registered task, in-process: its suite arguments (or why it is skipped), its run, its headline."""
    from kgnlu.eval.task_runs import eval_tasks

    task = eval_tasks().get(name)
    args = task.suite_args(cfg)
    if isinstance(args, str):
        return TaskResult(name, "skipped", reason=args)
    return TaskResult(name, "ok", task.run(**args).metrics)


def run_suite(cfg: SuiteConfig, report: Callable[[str], None] = print) -> dict:
    """Run the configured tasks in order; a failing task is recorded (with its error) and the rest go on."""
    from kgnlu.errors import KgnluError

    results = []
    for task in cfg.tasks:
        start = time.perf_counter()
        report(f"== eval {task}")
        try:
            result = run_task(task, cfg)
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
