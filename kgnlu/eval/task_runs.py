"""Every ``kgnlu eval`` task as a library function, registered in :data:`kgnlu.eval.tasks.EVAL_TASKS`.

Each ``run_*`` does the whole evaluation, writes its files under ``out`` (the names its command has
always written) and returns an :class:`~kgnlu.eval.tasks.EvalResult`; each ``*_suite`` turns
``kgnlu eval all``'s :class:`~kgnlu.eval.suite.SuiteConfig` into ``run``'s arguments, or says why the
task is skipped and what to run; each ``*_headline`` picks the summary table's rows from a report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from kgnlu.errors import ConfigError
from kgnlu.eval.tasks import EVAL_TASKS, EvalResult, EvalTask, register, write_report
from kgnlu.io import atomic_write
from kgnlu.registry import Registry


def _result(task: str, report: dict, markdown: str, plots: Sequence[Path] = (), headline=None,
            also: Sequence[EvalResult] = ()) -> EvalResult:
    return EvalResult(task, report, markdown, tuple(plots), headline(report) if headline else {}, tuple(also))


# ---------------------------------------------------------------------------------------------- link
def run_link(graph: Path | None = None, tasks: Sequence[str] | None = None, modes: Sequence[str] | None = None,
             split: str = "test", wordnet_limit: int = 2000, geonames_limit: int = 600,
             natural: Sequence[str] | None = None, natural_split: str = "dev", out: Path = Path("eval-link"),
             encoder: Path | None = None, sense_model: Path | None = None,
             report: Callable[[str], None] | None = None) -> EvalResult:
    """WordNet senses and GeoNames linking on sets built from ``graph`` (linking.json/.md/.png) and the
    hand-written sets ``natural`` (natural-SPLIT.json/.md/.png)."""
    modes = list(modes or ["fast", "neural"])
    for m in modes:
        if m not in ("fast", "neural"):
            raise ConfigError(f"--mode must be fast or neural, got {m!r}")
    text_encoder = senses = None
    if encoder is not None:
        from kgnlu.kg.linker.dense_index import TextEncoder

        text_encoder = TextEncoder.from_pretrained(encoder)
    if sense_model is not None:
        from kgnlu.kg.linker.sense_model import SenseModel

        senses = SenseModel.from_pretrained(sense_model)
    natural_result = None
    if natural:
        from kgnlu.eval.link_natural_scoring import evaluate_natural_sets, markdown_natural
        from kgnlu.eval.report_plots import plot_natural_linking

        nat = evaluate_natural_sets(list(natural), natural_split, modes, default_graph=graph, encoder=text_encoder,
                                    sense_model=senses, report=report or (lambda s: None))
        md = markdown_natural(nat)
        write_report(out, f"natural-{natural_split}", nat, md)
        natural_result = _result("link", nat, md, [plot_natural_linking(nat, out / f"natural-{natural_split}.png")])
        if tasks is None:
            return natural_result
    if graph is None:
        raise ConfigError("give GRAPH (sets built from it) or --set NAME (a hand-written set)")
    from kgnlu.eval.linking import markdown_report, run_linking_eval
    from kgnlu.eval.report_plots import plot_linking
    from kgnlu.kg import KnowledgeGraph

    tasks = list(tasks or ["wordnet", "geonames"])
    for t in tasks:
        if t not in ("wordnet", "geonames"):
            raise ConfigError(f"--task must be wordnet or geonames, got {t!r}")
    kg = KnowledgeGraph.load(graph, verify=False)
    rep = run_linking_eval(kg, tasks=tasks, modes=modes, split=split, wordnet_limit=wordnet_limit or None,
                           geonames_limit=geonames_limit or None, encoder=text_encoder, sense_model=senses)
    md = markdown_report(rep)
    write_report(out, "linking", rep, md)
    plot_linking(rep, out / "linking.png")
    return _result("link", rep, md, [out / "linking.png"], link_headline, [natural_result] if natural_result else [])


def link_headline(report: Mapping) -> dict[str, float]:
    headline = {}
    wordnet, geonames = report["tasks"].get("wordnet", {}), report["tasks"].get("geonames", {})
    for mode in ("fast", "neural"):
        if mode in wordnet:
            headline[f"WordNet senses accuracy ({mode})"] = wordnet[mode]["open"]["accuracy"]
    if "fast" in wordnet:
        headline["WordNet senses, most frequent sense"] = wordnet["fast"]["open"]["mfs_accuracy"]
    for mode in ("fast", "neural", "prior"):
        if mode in geonames:
            headline[f"GeoNames linking F1 ({mode})"] = geonames[mode]["linking"]["f1"]
    return headline


def link_suite(cfg) -> dict | str:
    return {"graph": cfg.graph, "split": "test", "wordnet_limit": cfg.link_wordnet_limit,
            "geonames_limit": cfg.link_geonames_limit, "out": cfg.out / "link"}


# ----------------------------------------------------------------------------------------------- kge
def run_kge(graph: Path, names: Sequence[str] | None = None, split: str = "test", out: Path = Path("eval-kge"),
            filtered: bool = True, batch_size: int = 256) -> EvalResult:
    """:func:`kgnlu.eval.kge.evaluate_embeddings` → kge.json, kge.md, kge.png."""
    from kgnlu.eval.kge import evaluate_embeddings, markdown_report, plot_kge

    rep = evaluate_embeddings(graph, names, split, filtered=filtered, batch_size=batch_size)
    md = markdown_report(rep)
    write_report(out, "kge", rep, md)
    plot_kge(rep["embeddings"], out / "kge.png")
    return _result("kge", rep, md, [out / "kge.png"], kge_headline)


def kge_headline(report: Mapping) -> dict[str, float]:
    headline = {}
    for row in report["embeddings"]:
        headline[f"{row['name']} MRR"] = row["mrr"]
        headline[f"{row['name']} Hits@10"] = row["hits@10"]
    return headline


def kge_suite(cfg) -> dict | str:
    import numpy as np

    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge.storage import list_embeddings

    if not list_embeddings(cfg.graph):
        return f"no embeddings under {cfg.graph}/embeddings; run `kgnlu kge train {cfg.graph} --model rotate`"
    if not np.any(np.asarray(KnowledgeGraph.load(cfg.graph, verify=False).triple_split) == 2):
        return (f"{cfg.graph} has no test triples (its sources carry no split); "
                "`kgnlu eval kge` a PyKEEN or WordNet-benchmark graph instead")
    return {"graph": cfg.graph, "split": "test", "out": cfg.out / "kge"}


# ------------------------------------------------------------------------------------------------ qa
def run_qa(pred: Path | None = None, gold: Path | None = None, data: Path | None = None, model: Path | None = None,
           graph: Path | None = None, splits: Sequence[str] | None = None, natural: Sequence[str] | None = None,
           natural_split: str = "dev", limit: int = 0, latency_samples: int = 200,
           out: Path | None = Path("eval-qa")) -> EvalResult:
    """KGQA hits@1/hits@5/MRR per split, hop and relation path (predictions PRED against GOLD, or
    ``model`` run on ``data``'s splits), the hand-written sets, and latency. ``out=None`` writes nothing."""
    from kgnlu.eval.qa import markdown_report, plot_by_hops

    report: dict = {"splits": {}}
    if natural:
        report["sets"] = _natural_sets(natural, natural_split)
    source = gold or data
    if source is not None:
        report.update(_generated(pred, source, model, graph, splits, limit, latency_samples, out))
    elif not natural:
        raise ConfigError("give PRED GOLD, --data DIR --model DIR, or --set NAME")
    md = markdown_report(report["splits"]) if report["splits"] else "# KGQA\n"
    lat = report.get("latency_ms", {})
    if "p50" in lat:
        md += f"\nLatency per question: p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms.\n"
    if natural:
        from kgnlu.eval.natural_qa import markdown_sets

        md += "\n" + markdown_sets(report["sets"])
    plots = []
    if out is not None:
        write_report(out, "qa", report, md)
        hops = {**report["splits"], **{f"{k} ({v['split']})": v for k, v in report.get("sets", {}).items()}}
        plots.append(plot_by_hops(hops, out / "qa_hits_by_hops.png"))
    return _result("qa", report, md, plots, qa_headline)


def qa_headline(report: Mapping) -> dict[str, float]:
    headline = {}
    for split, metrics in report["splits"].items():
        headline[f"{split} hits@1"] = metrics["hits@1"]
        for hops, m in sorted(metrics.get("by_hops", {}).items()):
            headline[f"{split} {hops}-hop hits@1"] = m["hits@1"]
    if "p50" in report.get("latency_ms", {}):
        headline["latency p50 (ms)"] = report["latency_ms"]["p50"]
    return headline


def qa_suite(cfg) -> dict | str:
    from kgnlu.qa.default import default_data_dir, default_model_dir

    model, data = cfg.qa_model or default_model_dir(), cfg.qa_data or default_data_dir()
    if not (model / "config.json").is_file() and not any(model.glob("*.json")):
        return f"no QA model at {model}; run `make run` or `kgnlu qa train {cfg.graph} --data {data} --out {model}`"
    return {"data": data, "model": model, "graph": cfg.graph, "limit": cfg.qa_limit, "out": cfg.out / "qa"}


def _natural_sets(entries: Sequence[str], split: str) -> dict:
    """Each ``NAME[@zero-shot|@MODEL]`` entry scored on ``split``, with p50/p95 latency."""
    from kgnlu.eval.natural_qa import evaluate_set, graph_for, set_path
    from kgnlu.eval.qa import latency
    from kgnlu.qa import default

    results = {}
    for entry in entries:
        name, _, how = entry.partition("@")
        path = set_path(name)
        qa = default.open_qa(graph_for(name), None if how in ("", "zero-shot") else Path(how), zero_shot=how == "zero-shot")
        start = time.perf_counter()
        metrics = evaluate_set(qa, path, split)
        metrics["seconds"] = round(time.perf_counter() - start, 2)
        metrics["split"], metrics["mode"] = split, "zero-shot" if qa.zero_shot else f"model {how or 'default'}"
        questions = [a["question"] for a in metrics["answers"]]
        metrics["latency_ms"] = latency(qa, questions, samples=min(100, len(questions)))
        if split == "test":  # scored once per release, never read: no per-question answers in the report
            metrics.pop("answers")
        results[entry] = metrics
    return results


def _read_jsonl(path: Path) -> list[dict]:
    from kgnlu.io import iter_json_lines

    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    return [record for _, record in iter_json_lines(path)]


def _generated(pred, source: Path, model, graph, splits, limit: int, latency_samples: int, out: Path | None) -> dict:
    """Metrics of predictions (or of ``model`` run: :func:`kgnlu.eval.qa.evaluate_kgqa`) on make-qa splits."""
    from kgnlu.eval.qa import evaluate_kgqa, load_kgqa, qa_metrics
    from kgnlu.qa.data.files import load_split

    splits = list(splits or ["test", "paraphrase_dev"])
    golds = {s: load_split(source, s) for s in splits} if source.is_dir() else {source.stem: _read_jsonl(source)}
    if limit:  # spread over hops, relation paths and wordings: a split's first lines are one or two paths
        from kgnlu.qa.dataset import sample_evenly

        golds = {s: sample_evenly(qs, limit) for s, qs in golds.items()}
    if pred is not None:
        predictions = _read_jsonl(pred)
        return {"predictions": str(pred), "splits": {name: qa_metrics(predictions, qs) for name, qs in golds.items()}}
    model = _qa_model_or_default(model)
    report, predictions = evaluate_kgqa(load_kgqa(model, graph), golds, latency_samples=latency_samples)
    if out is not None:
        with atomic_write(out / "predictions.jsonl") as f:
            f.writelines(json.dumps(p) + "\n" for p in predictions)
    return {"model": str(model), **report}


def _qa_model_or_default(model: Path | None) -> Path:
    """``model``, else the default QA model."""
    from kgnlu.qa.default import default_model_dir
    from kgnlu.qa.storage import CONFIG_FILE

    if model is not None:
        return model
    default = default_model_dir()
    if not (default / CONFIG_FILE).is_file():
        raise ConfigError(f"no --model given and no default QA model at {default}; give a predictions file "
                          "(PRED), --model DIR (`kgnlu qa train`), or run `make run` to train the default one")
    return default


# ------------------------------------------------------------------------------------------- fewshot
def run_fewshot(model: Path, kind: str = "auto", shots: Sequence[int] | None = None,
                normalize: Sequence[str] | None = None, graph: Path | None = None, facts: bool = False,
                limit: int = 0, seed: int = 0, batch_size: int = 16, out: Path = Path("eval-fewshot")) -> EvalResult:
    """Few-shot country → capital multiple choice → fewshot.json, fewshot.md, fewshot_shots.png."""
    from kgnlu.eval.fewshot import markdown_report, open_scorer, plot_shots, run_fewshot_eval
    from kgnlu.qa.fewshot import FewShotExample, country_capital_examples

    if facts and graph is None:
        raise ConfigError("--facts retrieves facts from a graph: give --graph too")
    kg = None
    if graph is not None:
        from kgnlu.kg import KnowledgeGraph

        kg = KnowledgeGraph.load(graph, verify=False)
    # GPT-3: demonstrations come from a training split held out of the task; --limit caps the rest
    from kgnlu.eval.fewshot import DEMO_POOL_SIZE
    from kgnlu.qa.fewshot_prompts import split_demonstration_pool

    items = country_capital_examples(kg, seed=seed)
    pool, examples = split_demonstration_pool(items, min(DEMO_POOL_SIZE, len(items) // 2), seed)
    examples = examples[:limit] if limit else examples
    if facts:
        from kgnlu.qa import KGQA

        retriever = KGQA(kg)
        examples, pool = ([FewShotExample(e.question, e.choices, e.answer_index, tuple(retriever.facts(e.question)),
                                          e.id) for e in part] for part in (examples, pool))
    scorer = open_scorer(model, kind, batch_size=batch_size)
    rep = run_fewshot_eval(scorer, examples, list(shots or [0, 1, 5]), list(normalize or ["length"]), seed,
                           task="country capitals", facts=[False, True] if facts else [False], pool=pool)
    rep["model"] = str(model)
    md = markdown_report(rep)
    write_report(out, "fewshot", rep, md)
    plot_shots(rep, out / "fewshot_shots.png")
    return _result("fewshot", rep, md, [out / "fewshot_shots.png"], fewshot_headline)


def fewshot_headline(report: Mapping) -> dict[str, float]:
    return {f"{row['shots']}-shot accuracy ({row['normalize']})": row["accuracy"] for row in report.get("results", [])}


def fewshot_suite(cfg) -> dict | str:
    if cfg.causal_lm is None:
        return ("give --causal-lm (a `kgnlu pretrain` GPT-2 run, e.g. runs/evidence/gpt2-mini, or a local HF "
                "causal LM folder)")
    return {"model": cfg.causal_lm, "graph": cfg.graph, "limit": cfg.fewshot_limit, "out": cfg.out / "fewshot"}


# --------------------------------------------------------------------------------------------- probe
def run_probe(runs: Sequence[Path], facts: Path, out: Path = Path("eval-probe"), max_facts: int = 0,
              templates: int = 0, batch_size: int = 64, entities: bool = True,
              ablate_entities: bool = False) -> EvalResult:
    """LAMA-style cloze probe of pretraining runs → probe.json, probe.md, probe.png."""
    from kgnlu.eval.probe import ProbeConfig, markdown_report, plot_report, probe_runs
    from kgnlu.fusion.corpus import read_probe_facts

    config = ProbeConfig(templates=templates or None, max_facts=max_facts or None, batch_size=batch_size,
                         use_entities=entities)
    rep = probe_runs([str(r) for r in runs], read_probe_facts(facts), config, ablate_entities=ablate_entities)
    md = markdown_report(rep)
    write_report(out, "probe", rep, md)
    plot_report(rep, out / "probe.png")
    return _result("probe", rep, md, [out / "probe.png"], probe_headline)


def probe_headline(report: Mapping) -> dict[str, float]:
    headline = {}
    for run in report.get("runs", []):
        overall = run.get("overall", {})
        for key in ("p@1", "p@10", "mrr"):
            if key in overall:
                headline[f"{Path(run['run']).name} {key}"] = overall[key]
    return headline


def probe_suite(cfg) -> dict | str:
    if not cfg.probe_runs or cfg.probe_facts is None:
        return ("give --probe-run (fused and control runs of `kgnlu pretrain --config configs/fusion-*.yaml`) "
                "and --probe-facts")
    return {"runs": list(cfg.probe_runs), "facts": cfg.probe_facts, "out": cfg.out / "probe"}


# ---------------------------------------------------------------------------------------- supersense
def run_supersense(model: Path, mode: str = "both", train_examples: int = 4000, test_examples: int = 2000,
                   seed: int = 0, wordnet_dir: Path = Path("/usr/share/wordnet"),
                   out: Path | None = None) -> EvalResult:
    """WordNet gloss → supersense, fine-tuned and/or probed → supersense.json and supersense.png when ``out``."""
    from kgnlu.data.tokenizer import Tokenizer
    from kgnlu.encoders import Encoder
    from kgnlu.eval.supersense import (
        FinetuneConfig,
        SupersenseProbeConfig,
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
    rep: dict = {"model": str(model), "train_split": len(splits.train), "test_split": len(splits.test)}
    if mode in ("finetune", "both"):
        rep["finetune"] = finetune_supersense(encoder, tokenizer, splits, FinetuneConfig(
            train_examples=train, test_examples=test, seed=seed))
    if mode in ("probe", "both"):
        rep["probe"] = probe_supersense(encoder, tokenizer, splits, SupersenseProbeConfig(train_examples=train,
                                                                                test_examples=test))
    md = "".join(f"{name}: accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}  (majority class "
                 f"{r['majority_baseline']:.3f}; {r['train_examples']} train / {r['test_examples']} test, "
                 f"{r['seconds']:.0f} s)\n" for name in ("finetune", "probe") if (r := rep.get(name)))
    plots = []
    if out is not None:
        from kgnlu.eval.report_plots import plot_supersense

        with atomic_write(out / "supersense.json") as f:
            json.dump(rep, f, indent=2)
        plot_supersense(rep, out / "supersense.png")
        plots.append(out / "supersense.png")
    return _result("supersense", rep, md, plots, supersense_headline)


def supersense_headline(report: Mapping) -> dict[str, float]:
    return {f"{name} accuracy": report[name]["accuracy"] for name in ("finetune", "probe") if name in report}


def supersense_suite(cfg) -> dict | str:
    if getattr(cfg, "supersense_model", None) is None:
        return "give --supersense-model (a `kgnlu pretrain` run folder or an encoder folder with its tokenizer)"
    return {"model": cfg.supersense_model, "out": cfg.out / "supersense"}


# ----------------------------------------------------------------------------------------------- pos
def run_pos(split: str = "dev", out: Path = Path("eval-pos")) -> EvalResult:
    """kgnlu's tagger vs a WordNet lexicon baseline on the hand-tagged set → pos.json, pos.md."""
    from kgnlu.eval.pos import evaluate_tagging, lexicon_baseline, markdown_report, read_tagged
    from kgnlu.text import load_tagger

    sentences = read_tagged(split)
    tagger = load_tagger()
    reports = {"kgnlu tagger": evaluate_tagging(tagger.tag, sentences),
               "lexicon baseline (no context)": evaluate_tagging(lexicon_baseline(), sentences)}
    rep = {"split": split, "taggers": reports}
    md = markdown_report(reports, split)
    write_report(out, "pos", rep, md)
    return _result("pos", rep, md, (), pos_headline)


def pos_headline(report: Mapping) -> dict[str, float]:
    return {f"{name} accuracy": r["accuracy"] for name, r in report["taggers"].items()
            if isinstance(r, Mapping) and isinstance(r.get("accuracy"), int | float)}


def pos_suite(cfg) -> dict | str:
    return {"split": "dev", "out": cfg.out / "pos"}


# -------------------------------------------------------------------------------------------- choice
def run_choice(graph: Path, out: Path = Path("eval-choice"), splits: Sequence[str] | None = None,
               methods: Sequence[str] | None = None, questions: Path | None = None) -> EvalResult:
    """Commonsense multiple choice from WordNet: KGQA.choose vs Lesk and MiniLM → choice.json, choice.md."""
    from kgnlu.eval.choice import (
        CHOICE_SET,
        METHODS,
        choosers,
        evaluate_choices,
        markdown_report,
        read_choice_set,
    )
    from kgnlu.kg import KnowledgeGraph

    items = read_choice_set(questions or CHOICE_SET, list(splits or ["dev", "test"]))
    kg = KnowledgeGraph.load(Path(graph).expanduser(), verify=False)
    rep = evaluate_choices(items, choosers(kg, list(methods or METHODS)))
    rep["graph"] = str(graph)
    md = markdown_report(rep)
    write_report(out, "choice", rep, md)
    return _result("choice", rep, md, (), choice_headline)


def choice_headline(report: Mapping) -> dict[str, float]:
    out = {}
    for method, r in report["methods"].items():
        for split, m in r["splits"].items():
            out[f"{method} {split} accuracy"] = m["accuracy"]
    return out


def choice_suite(cfg) -> dict | str:
    return {"graph": cfg.graph, "out": cfg.out / "choice"}


# ------------------------------------------------------------------------------------------ registry
for _task in (
    EvalTask("link", run_link, link_headline, link_suite, help="entity linking: WordNet senses, GeoNames"),
    EvalTask("kge", run_kge, kge_headline, kge_suite, help="graph embeddings: filtered MRR, Hits@k"),
    EvalTask("qa", run_qa, qa_headline, qa_suite, help="KGQA: hits@1/5, MRR per hop and path, latency"),
    EvalTask("probe", run_probe, probe_headline, probe_suite, help="LAMA-style cloze probe"),
    EvalTask("fewshot", run_fewshot, fewshot_headline, fewshot_suite, help="few-shot country capitals"),
    EvalTask("supersense", run_supersense, supersense_headline, supersense_suite, default=False,
             help="WordNet supersense classification"),
    EvalTask("pos", run_pos, pos_headline, pos_suite, default=False, help="part-of-speech tagging"),
    EvalTask("choice", run_choice, choice_headline, choice_suite, default=False,
             help="commonsense multiple choice from WordNet"),
):
    register(_task)



def eval_tasks() -> Registry[EvalTask]:
    """The evaluation registry, every task above registered."""
    return EVAL_TASKS
