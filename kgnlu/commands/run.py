"""``kgnlu run``: the main job on the default graph (what `make run` does)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run(
    graph: Annotated[Path | None, typer.Option(help="Graph directory (default: $KGNLU_HOME/graphs/default).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild the default graph even if it exists.")] = False,
    entity: Annotated[str, typer.Option(help="Entity whose neighbourhood is shown.")] = "dog",
    qa: Annotated[bool, typer.Option("--qa/--no-qa", help="Answer the sample questions (default graph only).")] = True,
) -> None:
    """The main job: bring your own graph (the example in examples/, answered zero-shot), then the
    default graph: build it if missing, show it, link a text, answer questions with evidence.

    Everything lands under $KGNLU_HOME (the graphs, the QA data and model, the evidence PNGs) and is
    reused on the next run.
    """
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import DEFAULT_SOURCES, build_graph, default_graph_path
    from kgnlu.kg.graph_files import graph_exists
    from kgnlu.kg.summary import graph_summary, print_graph_summary

    if qa:
        _own_graph_tour()
    path = graph or default_graph_path()
    if rebuild or not graph_exists(path):
        print(f"building the default graph from {', '.join(DEFAULT_SOURCES)} into {path} ...")
        build_graph(list(DEFAULT_SOURCES), path, force=True, name="default")
    kg = KnowledgeGraph.load(path)
    print_graph_summary(graph_summary(kg))
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
    if not qa:
        return
    if path.resolve() != default_graph_path().resolve():  # the default QA model belongs to the default graph
        print(f"\nquestion answering: the demo model is trained on the default graph; for {path} run "
              f"`kgnlu data make-qa {path} --out QA_DATA` and `kgnlu qa train {path} --data QA_DATA --out MODEL`")
        return
    _answer_questions(path)


EXAMPLE_GRAPH = Path(__file__).resolve().parents[2] / "examples" / "inventors.ttl"  # in a source checkout
EXAMPLE_QUESTIONS = ("Where was Nikola Tesla born?", "Who invented the telephone?")


def _own_graph_tour() -> None:
    """Build the example graph (a Turtle file of inventors, their inventions, employers and
    birthplaces) and answer two questions on it zero-shot: no template, no training."""
    from kgnlu.integrity import source_checksum
    from kgnlu.kg.build import build_graph, kgnlu_home
    from kgnlu.kg.graph_files import graph_exists, read_manifest
    from kgnlu.qa.api import KGQA

    if not EXAMPLE_GRAPH.is_file():
        print(f"(the example graph {EXAMPLE_GRAPH} is not here: run from a source checkout for the tour)")
        return
    out = kgnlu_home() / "graphs" / "inventors"
    fresh = graph_exists(out) and source_checksum(EXAMPLE_GRAPH) in {s.get("checksum") for s in read_manifest(out)["sources"]}
    print(f"bring your own graph: {EXAMPLE_GRAPH.name} → {out}")
    if not fresh:
        build_graph([str(EXAMPLE_GRAPH)], out, force=True, name="inventors")
    qa = KGQA.from_graph(out, report=print)
    print("question answering on it, zero-shot (relation paths and types read from the graph itself):")
    for question in EXAMPLE_QUESTIONS:
        answers = qa.answer(question, k=2)
        print(f"  Q: {question}")
        if not answers:
            print(f"     no answer: {answers.reason}")
            continue
        best = answers[0]
        print(f"     A: {best.label} (score {best.score:.2f})")
        for path in best.evidence[:1]:
            print(f"        evidence: {path.text}")
    print()


FACTOID_QUESTIONS = (
    "What is the capital of France?",
    "Which continent is the country of Lyon in?",
    "Which country is Kyoto in?",
    "What is a dog a kind of?",
)
# The text alone does not say which tool fits: the graph does (a shovel is a hand tool used in
# gardening; an excavator digs foundations).
CHOICE_QUESTIONS = (
    ("We dug the ground to plant flowers. Which tool did we need?", ("a shovel", "an excavator")),
    ("We dug the ground to lay the foundations of a house. Which tool did we need?", ("a shovel", "an excavator")),
)


def _answer_questions(graph_path: Path) -> None:
    """Load (or train once, a few minutes) the default QA model; answer factoid and multiple-choice
    questions, printing each answer's evidence path and drawing the evidence subgraphs."""
    from kgnlu.kg.build import kgnlu_home
    from kgnlu.kg.plot import plot_subgraph
    from kgnlu.qa.answer import AnswerList
    from kgnlu.qa.default import ensure_default_qa

    qa = ensure_default_qa(graph_path)
    out = kgnlu_home() / "run"
    print("\nquestion answering (default QA model; evidence = the graph path behind each answer):")
    for number, question in enumerate(FACTOID_QUESTIONS, 1):
        answers = qa.answer(question, k=3)
        print(f"  Q: {question}")
        if not answers:
            print(f"     no answer: {answers.reason}")
            continue
        for a in answers[:1]:
            print(f"     A: {a.label} ({a.entity}, score {a.score:.2f})")
            for path in a.evidence[:1]:
                print(f"        evidence: {path.text}")
        png = plot_subgraph(qa.kg, qa.evidence_subgraph(AnswerList(answers[:1], topic=answers.topic)),
                            out / f"evidence-{number}.png", title=question)
        print(f"        evidence subgraph: {png}")
    for number, (question, choices) in enumerate(CHOICE_QUESTIONS, 1):
        result = qa.choose(question, list(choices))
        print(f"  Q: {question} ({' or '.join(choices)})")
        if result.best is None:
            print(f"     no answer: {result.reason}")
            continue
        for choice in sorted(result.choices, key=lambda c: -c.score):
            print(f"     {choice.score:.2f}  {choice.choice}: {choice.matched}")
        for path in result.best.evidence[:2]:
            print(f"        evidence: {path.text}")
        if result.best.evidence:
            png = plot_subgraph(qa.kg, qa.evidence_subgraph(AnswerList([result.best])),
                                out / f"choice-{number}.png", title=question)
            print(f"        evidence subgraph: {png}")
