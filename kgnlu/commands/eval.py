"""``kgnlu eval``: evaluation tasks with JSON and markdown reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from kgnlu.errors import ConfigError
from kgnlu.io import atomic_write

app = typer.Typer(help="Evaluate kgnlu components; each task writes JSON and a markdown report.",
                  no_args_is_help=True)


@app.command("link")
def link(
    graph: Annotated[Path, typer.Argument(help="A graph with WordNet and/or GeoNames sources.")],
    task: Annotated[list[str] | None, typer.Option(help="wordnet and/or geonames (default both).")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="fast and/or neural (default both).")] = None,
    split: Annotated[str, typer.Option(help="test (held out) or dev (for tuning).")] = "test",
    wordnet_limit: Annotated[int, typer.Option(help="Examples evaluated (0 = all).")] = 2000,
    geonames_limit: Annotated[int, typer.Option(help="Sentences evaluated (0 = all).")] = 600,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for linking.json and linking.md.")] = Path("eval-link"),
) -> None:
    """Entity linking: WordNet word senses (vs most frequent sense) and GeoNames ambiguity (P/R/F1)."""
    from kgnlu.eval.linking import markdown_report, run_linking_eval
    from kgnlu.kg import KnowledgeGraph

    tasks = task or ["wordnet", "geonames"]
    modes = mode or ["fast", "neural"]
    for t in tasks:
        if t not in ("wordnet", "geonames"):
            raise ConfigError(f"--task must be wordnet or geonames, got {t!r}")
    for m in modes:
        if m not in ("fast", "neural"):
            raise ConfigError(f"--mode must be fast or neural, got {m!r}")
    kg = KnowledgeGraph.load(graph, verify=False)
    report = run_linking_eval(kg, tasks=tasks, modes=modes, split=split,
                              wordnet_limit=wordnet_limit or None, geonames_limit=geonames_limit or None)
    with atomic_write(out / "linking.json") as f:
        json.dump(report, f, indent=2)
    md = markdown_report(report)
    with atomic_write(out / "linking.md") as f:
        f.write(md)
    sys.stdout.write(md + "\n")
