"""``kgnlu eval kge`` and ``kgnlu eval all`` (registered on the ``kgnlu eval`` group in kgnlu/cli.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from kgnlu.commands.eval import write_report
from kgnlu.errors import ConfigError
from kgnlu.io import save_png


def kge(
    graph: Annotated[Path, typer.Argument(help="A graph with stored embeddings (`kgnlu kge train`) and a test split.")],
    name: Annotated[list[str] | None, typer.Option(help="Embeddings to evaluate (repeatable; default: all stored).")] = None,
    split: Annotated[str, typer.Option(help="valid or test.")] = "test",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for kge.json, kge.md and kge.png.")] = Path("eval-kge"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """Graph embeddings: filtered MRR and Hits@1/3/10 (both sides, realistic ranks) of every stored model."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge import KGEData, evaluate
    from kgnlu.kge.storage import list_embeddings, load_embeddings

    kg = KnowledgeGraph.load(graph, verify=False)
    names = name or list_embeddings(kg.path)
    if not names:
        raise ConfigError(f"{graph} has no stored embeddings; run `kgnlu kge train {graph} --model rotate` first")
    data = KGEData.from_graph(kg)
    if len(data.split(split)) == 0:
        raise ConfigError(f"{graph} has no {split} triples to rank: its sources carry no split. Evaluate on a "
                          "graph that has one (pykeen:nations|kinships|umls, or a `kgnlu kge wordnet-benchmark` "
                          "folder built as TSV splits)")
    rows = []
    for n in names:
        stored = load_embeddings(kg.path, n)
        result = evaluate(stored.to_model(), data, split)
        rows.append({"name": n, "model": stored.model_name, "mrr": result.mrr,
                     **{f"hits@{k}": v for k, v in result.hits.items()}, "ranks": result.num_ranks,
                     "seconds": round(result.seconds, 3)})
    report = {"graph": str(kg.path), "split": split, "embeddings": rows}
    md = ["| embeddings | model | MRR | Hits@1 | Hits@3 | Hits@10 |", "|---|---|---|---|---|---|"]
    md += [f"| {r['name']} | {r['model']} | {r['mrr']:.3f} | {r['hits@1']:.3f} | {r['hits@3']:.3f} | "
           f"{r['hits@10']:.3f} |" for r in rows]
    text = f"# Graph embeddings on {kg.path.name} ({split})\n\n" + "\n".join(md) + "\n"
    write_report(out, "kge", report, text)
    _plot_kge(rows, out / "kge.png")
    sys.stdout.write((json.dumps(report) if as_json else text) + "\n")


def _plot_kge(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.6 * len(rows) + 2.5, 3.2))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r["mrr"] for r in rows], width=0.4, label="MRR")
    ax.bar([x + 0.2 for x in xs], [r["hits@10"] for r in rows], width=0.4, label="Hits@10")
    ax.set_xticks(list(xs), [r["name"] for r in rows])
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def all_(
    graph: Annotated[Path | None, typer.Argument(help="Graph (default: $KGNLU_HOME/graphs/default).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder: one sub-folder per task + summary.{json,md,png}.")] = Path("eval-all"),
    task: Annotated[list[str] | None, typer.Option(help="link, kge, qa, probe, fewshot (repeatable; default all).")] = None,
    qa_model: Annotated[Path | None, typer.Option(help="KGQA model (default: $KGNLU_HOME/qa/models/default).")] = None,
    qa_data: Annotated[Path | None, typer.Option(help="make-qa data (default: $KGNLU_HOME/qa/default).")] = None,
    qa_limit: Annotated[int, typer.Option(help="Questions per QA split (0 = all).")] = 1000,
    link_limit: Annotated[int, typer.Option(help="WordNet sense examples (GeoNames sentences: 40%).")] = 1000,
    probe_run: Annotated[list[Path] | None, typer.Option(help="Runs to probe (repeatable: fused and control).")] = None,
    probe_facts: Annotated[Path | None, typer.Option(help="probe_facts.jsonl or the linked-corpus folder.")] = None,
    causal_lm: Annotated[Path | None, typer.Option(help="Causal LM for the few-shot task.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Every evaluation that has its model: link, kge, qa, probe, fewshot → one summary table and chart."""
    from kgnlu.eval.suite import TASKS, SuiteConfig, markdown_summary, run_suite
    from kgnlu.kg.build import default_graph_path

    tasks = tuple(task or TASKS)
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ConfigError(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    cfg = SuiteConfig(graph=graph or default_graph_path(), out=out, tasks=tasks, qa_model=qa_model, qa_data=qa_data,
                      qa_limit=qa_limit, link_wordnet_limit=link_limit, link_geonames_limit=max(1, link_limit * 2 // 5),
                      probe_runs=tuple(probe_run or ()), probe_facts=probe_facts, causal_lm=causal_lm)
    summary = run_suite(cfg, report=lambda line: print(line, file=sys.stderr))
    sys.stdout.write((json.dumps(summary) if as_json else markdown_summary(summary)) + "\n")
