"""``kgnlu eval kge`` and ``kgnlu eval all`` (registered on the ``kgnlu eval`` group in kgnlu/cli.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from kgnlu.commands.eval import eval_task
from kgnlu.errors import ConfigError


def kge(
    graph: Annotated[Path, typer.Argument(help="A graph with stored embeddings (`kgnlu kge train`) and a test split.")],
    name: Annotated[list[str] | None, typer.Option(help="Embeddings to evaluate (repeatable; default: all stored).")] = None,
    split: Annotated[str, typer.Option(help="valid or test.")] = "test",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for kge.json, kge.md and kge.png.")] = Path("eval-kge"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """Graph embeddings: filtered MRR and Hits@1/3/10 (both sides, realistic ranks) of every stored model."""
    result = eval_task("kge").run(graph=graph, names=name, split=split, out=out)
    sys.stdout.write((json.dumps(result.report) if as_json else result.markdown) + "\n")


def all_(
    graph: Annotated[Path | None, typer.Argument(help="Graph (default: $KGNLU_HOME/graphs/default).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder: one sub-folder per task + summary.{json,md,png}.")] = Path("eval-all"),
    task: Annotated[list[str] | None, typer.Option(help="A registered task (repeatable; default link, kge, qa, probe, "
                                                        "fewshot; also supersense, pos, choice).")] = None,
    qa_model: Annotated[Path | None, typer.Option(help="KGQA model (default: $KGNLU_HOME/qa/models/default).")] = None,
    qa_data: Annotated[Path | None, typer.Option(help="make-qa data (default: $KGNLU_HOME/qa/default).")] = None,
    qa_limit: Annotated[int, typer.Option(help="Questions per QA split (0 = all).")] = 1000,
    link_limit: Annotated[int, typer.Option(help="WordNet sense examples (GeoNames sentences: 40%).")] = 1000,
    probe_run: Annotated[list[Path] | None, typer.Option(help="Runs to probe (repeatable: fused and control).")] = None,
    probe_facts: Annotated[Path | None, typer.Option(help="probe_facts.jsonl or the linked-corpus folder.")] = None,
    causal_lm: Annotated[Path | None, typer.Option(help="Causal LM for the few-shot task.")] = None,
    supersense_model: Annotated[Path | None, typer.Option(help="Pretraining run for the supersense task.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Every registered evaluation that has its model (default link, kge, qa, probe, fewshot) → one summary table
    and chart."""
    from kgnlu.eval.suite import SuiteConfig, default_tasks, markdown_summary, run_suite
    from kgnlu.eval.task_runs import eval_tasks
    from kgnlu.kg.build import default_graph_path

    tasks = tuple(task or default_tasks())
    unknown = [t for t in tasks if t not in eval_tasks()]
    if unknown:
        raise ConfigError(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(eval_tasks())}")
    cfg = SuiteConfig(graph=graph or default_graph_path(), out=out, tasks=tasks, qa_model=qa_model, qa_data=qa_data,
                      qa_limit=qa_limit, link_wordnet_limit=link_limit, link_geonames_limit=max(1, link_limit * 2 // 5),
                      probe_runs=tuple(probe_run or ()), probe_facts=probe_facts, causal_lm=causal_lm,
                      supersense_model=supersense_model)
    summary = run_suite(cfg, report=lambda line: print(line, file=sys.stderr))
    sys.stdout.write((json.dumps(summary) if as_json else markdown_summary(summary)) + "\n")
