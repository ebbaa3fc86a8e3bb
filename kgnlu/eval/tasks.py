"""The evaluation registry: one :class:`EvalTask` per ``kgnlu eval`` task.

    task = EVAL_TASKS.get("qa")
    result = task.run(data=..., model=..., out=Path("eval-qa"))   # writes qa.json, qa.md, qa_hits_by_hops.png
    result.report, result.markdown, result.plots, result.metrics

``kgnlu eval TASK`` (kgnlu/commands/eval.py) parses options, calls ``run`` and prints; ``kgnlu eval all``
(:mod:`kgnlu.eval.suite`) asks each task for its suite options (``suite_args``: keyword arguments for
``run``, or why it is skipped) and runs it in-process. A run writes the same files its command always
wrote. The tasks are defined and registered in :mod:`kgnlu.eval.task_runs`; take the filled registry
from there (``from kgnlu.eval.task_runs import eval_tasks``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kgnlu.io import atomic_write
from kgnlu.registry import Registry


@dataclass
class EvalResult:
    """One evaluation: the JSON report (``out/STEM.json``), its markdown, the figures written and the
    headline metrics (metric → value) that ``kgnlu eval all`` puts in its summary table."""

    task: str
    report: dict
    markdown: str
    plots: tuple[Path, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    also: tuple[EvalResult, ...] = ()  # reports the same run wrote first (link: the hand-written sets)

    def to_json(self) -> dict:
        return self.report


@dataclass(frozen=True)
class EvalTask:
    name: str
    run: Callable[..., EvalResult]  # run(**options) → EvalResult; writes its files under options["out"]
    headline: Callable[[Mapping], dict[str, float]]  # report → headline metrics
    suite_args: Callable[..., dict | str]  # SuiteConfig → run's keyword arguments, or why it is skipped
    default: bool = True  # part of `kgnlu eval all` without --task
    help: str = ""


EVAL_TASKS: Registry[EvalTask] = Registry("evaluation task")


def register(task: EvalTask) -> EvalTask:
    return EVAL_TASKS.register(task.name)(task)


def write_report(out: Path, stem: str, report: dict, markdown: str) -> None:
    """``out/STEM.json`` (the report) and ``out/STEM.md`` (its markdown), each written atomically."""
    with atomic_write(out / f"{stem}.json") as f:
        json.dump(report, f, indent=2)
    with atomic_write(out / f"{stem}.md") as f:
        f.write(markdown)
