"""``kgnlu data``: data sets built from a graph (``make-qa``: MetaQA-style multi-hop questions)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Build data sets from a knowledge graph.", no_args_is_help=True)


@app.command("make-qa")
def make_qa(
    graph: Annotated[Path, typer.Argument(help="Any graph kgnlu built (kgnlu graph build).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (replaced atomically).")],
    per_path: Annotated[int, typer.Option(help="Questions per relation path over all splits (x4 for one step, "
                                               "x0.5 for three).")] = 150,
    max_questions: Annotated[int, typer.Option(help="Questions over all paths.")] = 60000,
    max_answers: Annotated[int, typer.Option(help="Skip questions with more answers than this.")] = 20,
    max_hops: Annotated[int, typer.Option(min=1, max=3, help="Longest relation path asked about.")] = 3,
    min_prior: Annotated[float, typer.Option(
        help="Share of p(entity|label) the topic (with its owl:sameAs twins) needs; below it the label is ambiguous.")] = 0.9,
    templates: Annotated[bool, typer.Option(
        "--templates/--no-templates", help="Add kgnlu's WordNet/GeoNames question templates as extra wording.")] = True,
    seed: Annotated[int, typer.Option(help="Seed for topic order, wordings and splits.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print meta.json's summary as JSON.")] = False,
) -> None:
    """Generate 1-, 2- and 3-hop questions on any graph, answers walked from the graph.

    The relation paths are the graph's own (those that exist with small answer sets), worded from
    its relation labels or IRI local names, answer types from kinds and rdf:type. Writes
    OUT/{train,dev,test,paraphrase_dev}.jsonl (one question a line) and OUT/meta.json. Splits are by
    topic; paraphrase_dev rewords the dev questions with wordings never used in training.
    """
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.qa.data.files import write_dataset
    from kgnlu.qa.data.generate import MakeQAConfig, generate_questions

    kg = KnowledgeGraph.load(graph, verify=False)
    config = MakeQAConfig(per_path=per_path, max_questions=max_questions, max_answers=max_answers,
                          max_hops=max_hops, min_prior=min_prior, templates=templates, seed=seed)
    dataset = generate_questions(kg, config)
    write_dataset(dataset, out)
    meta = dataset.meta
    summary = {"out": str(out), "seconds": meta["seconds"], "paths": meta["paths"], "skipped": meta["skipped"],
               "warnings": meta["warnings"],
               "counts": {split: {"total": c["total"], "by_hops": c["by_hops"], "topics": c["topics"]}
                          for split, c in meta["counts"].items()}}
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    for warning in meta["warnings"]:
        sys.stderr.write(f"warning: {warning}\n")
    sys.stdout.write(f"wrote {out} in {meta['seconds']:.1f} s ({meta['paths']} relation paths)\n")
    sys.stdout.write("| split | questions | 1-hop | 2-hop | 3-hop | topics |\n|---|---|---|---|---|---|\n")
    for split, c in summary["counts"].items():
        hops = [c["by_hops"].get(str(h), 0) for h in (1, 2, 3)]
        sys.stdout.write(f"| {split} | {c['total']:,} | " + " | ".join(f"{n:,}" for n in hops) + f" | {c['topics']:,} |\n")
