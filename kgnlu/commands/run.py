"""``kgnlu run``: the main job on the default graph (what `make run` does)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run(
    graph: Annotated[Path | None, typer.Option(help="Graph directory (default: $KGNLU_HOME/graphs/default).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild the default graph even if it exists.")] = False,
    entity: Annotated[str, typer.Option(help="Entity whose neighbourhood is shown.")] = "dog",
) -> None:
    """Build the default graph (WordNet + GeoNames) if missing, then show its summary and a neighbourhood."""
    from kgnlu.commands.graph import _print_summary, _summary
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import DEFAULT_SOURCES, build_graph, default_graph_path
    from kgnlu.kg.storage import graph_exists

    path = graph or default_graph_path()
    if rebuild or not graph_exists(path):
        print(f"building the default graph from {', '.join(DEFAULT_SOURCES)} into {path} ...")
        build_graph(list(DEFAULT_SOURCES), path, force=True, name="default")
    kg = KnowledgeGraph.load(path)
    _print_summary(_summary(kg))
    e = kg.lookup(entity)
    print(f"\n{kg.entity_id(e)}  {kg.entity_label(e)}  [{kg.entity_kind(e)}]: {kg.entity_text(e)[:160]}")
    shown: dict[int, int] = {}
    for step in kg.neighbors(e):  # at most two edges per relation, so every relation shows
        if shown.get(step.relation, 0) < 2:
            shown[step.relation] = shown.get(step.relation, 0) + 1
            print(f"  {kg.describe_step(step)}")
    print("\n'Paris' by prior p(e|m), with cross-source equivalences:")
    for cand, prior in kg.aliases("Paris")[:5]:
        same = [kg.entity_id(s.tail if s.forward else s.head)
                for s in kg.neighbors(cand, relation="owl:sameAs")] if "owl:sameAs" in kg.relation_names else []
        print(f"  {prior:.3f}  {kg.entity_id(cand)}  {kg.entity_text(cand)[:60]}"
              + (f"  = {', '.join(same)}" if same else ""))
    print("\nsenses of 'bank' by prior p(e|m):")
    for cand, prior in kg.aliases("bank")[:5]:
        print(f"  {prior:.3f}  {kg.entity_id(cand)}  {kg.entity_text(cand)[:70]}")
    from kgnlu.kg.linker import EntityLinker

    text = "We drove from Dallas to Paris, Texas, and sat on the bank of the Red River."
    print(f"\nlinking (fast mode): {text}")
    for link in EntityLinker.from_graph(kg, mode="fast").link(text):
        print(f"  {link.surface!r:>14} [{link.start}:{link.end}] → {link.entity}  {link.score:.2f}  "
              f"{(kg.entity_text(kg.lookup(link.entity)) or '')[:60]}")
