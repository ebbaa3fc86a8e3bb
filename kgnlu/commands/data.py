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
    graph: Annotated[Path, typer.Argument(help="A graph with WordNet and/or GeoNames (kgnlu graph build).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (replaced atomically).")],
    per_relation: Annotated[int, typer.Option(help="Questions per relation path, over all splits.")] = 1000,
    max_answers: Annotated[int, typer.Option(help="Skip questions with more answers than this.")] = 20,
    min_prior: Annotated[float, typer.Option(
        help="Share of p(entity|label) the topic (with its owl:sameAs twins) needs; below it the label is ambiguous.")] = 0.9,
    seed: Annotated[int, typer.Option(help="Seed for topic order, templates and splits.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print meta.json's summary as JSON.")] = False,
) -> None:
    """Generate 1-, 2- and 3-hop questions with answers walked from the graph.

    Writes OUT/{train,dev,test,paraphrase_test}.jsonl (one question a line) and OUT/meta.json.
    Splits are by topic; paraphrase_test rewords the test questions with templates never used in training.
    """
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.qa.data.files import write_dataset
    from kgnlu.qa.data.generate import MakeQAConfig, generate_questions

    kg = KnowledgeGraph.load(graph, verify=False)
    config = MakeQAConfig(per_relation=per_relation, max_answers=max_answers, min_prior=min_prior, seed=seed)
    dataset = generate_questions(kg, config)
    write_dataset(dataset, out)
    meta = dataset.meta
    summary = {"out": str(out), "seconds": meta["seconds"], "skipped": meta["skipped"],
               "counts": {split: {"total": c["total"], "by_hops": c["by_hops"], "topics": c["topics"]}
                          for split, c in meta["counts"].items()}}
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    sys.stdout.write(f"wrote {out} in {meta['seconds']:.1f} s\n")
    sys.stdout.write("| split | questions | 1-hop | 2-hop | 3-hop | topics |\n|---|---|---|---|---|---|\n")
    for split, c in summary["counts"].items():
        hops = [c["by_hops"].get(str(h), 0) for h in (1, 2, 3)]
        sys.stdout.write(f"| {split} | {c['total']:,} | " + " | ".join(f"{n:,}" for n in hops) + f" | {c['topics']:,} |\n")
    if meta["skipped_paths"]:
        sys.stdout.write(f"paths without their relations in the graph: {', '.join(meta['skipped_paths'])}\n")
