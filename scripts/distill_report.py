"""Distillation report: teacher vs students — size, CPU speed, and quality retained on three tasks.

    python scripts/distill_report.py                      # teacher = packaged MiniLM, the two shipped students
    python scripts/distill_report.py --student 3-layer=runs/distill-3layer/student --wordnet-limit 500

Writes ``reports/distill/summary.json``, ``summary.md`` and ``distill.png``. Every figure:

- **parameters**: the encoder's distinct parameters (no heads).
- **CPU speed**: sentences/s encoding WordNet noun glosses in corpus order, batch 32, max length
  128, the teacher and each student in the same batches, alternated round by round
  (``bench/common.interleaved``, the policy of ``bench/encoder.py``), ``--threads`` torch threads.
  Only ratios measured in one run count on this shared machine.
- **(a) word senses**: the linker's WordNet word-sense evaluation (``kgnlu.eval.linking``, held-out
  synsets, ``open`` setting) in neural mode with the encoder under test as the linker's context
  encoder: ``accuracy`` with the default evidence weights (prior, lexical, neural, coherence ...)
  and ``neural_only`` with every weight but the encoder's cosine set to 0 (the encoder's own
  disambiguation power).
- **(b) supersense**: ``kgnlu.eval.supersense`` — gloss → 45 lexicographer files, fine-tuned with the
  fixed recipe (``finetune_supersense``) and, cheaper and budget-free, the frozen linear probe
  (``probe_supersense``). The TinyBERT student's task-distilled classifier (stage 2,
  ``runs/distill-2layer/task/task_summary.json``) is reported beside them when present.
- **(c) entity retrieval**: recall@10 (and @1, MRR) of retrieving a WordNet synset among a pool of
  ``--retrieval-pool`` synsets (seeded sample) by embedding similarity, query = one of the
  synset's example sentences (an alias in context), entity text = "lemma, lemma: definition"
  (the WordNet corpus's definition sentence). Mean-pooled, L2-normalised embeddings
  (the linker's ``TextEncoder``), cosine ranking over the whole pool.

Quality retained = student score / teacher score per task (word-sense accuracy, supersense
fine-tuned accuracy, retrieval recall@10); the goals are judged on their mean with each ratio
capped at 100% (a student beating its teacher on one task does not make up for a loss on
another), and the uncapped mean and the minimum are reported too. The students
were distilled on WordNet glosses and examples (unlabelled text): the evaluation texts are in
that corpus, their labels are not.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from kgnlu.io import atomic_write, save_png  # noqa: E402

NEURAL_ONLY = {"prior": 0.0, "lexical": 0.0, "coherence": 0.0, "case": 0.0, "label": 0.0, "match": 0.0}
HEADLINE = (("wsd", "accuracy"), ("supersense", "finetune_accuracy"), ("retrieval", "recall@10"))
GOALS = ({"speedup": 2.0, "retained": 0.97, "claim": "DistilBERT"}, {"speedup": 3.0, "retained": 0.95, "claim": "TinyBERT-4"})


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_model(path: str):
    from kgnlu.data.tokenizer import load_minilm_tokenizer
    from kgnlu.distill.student import load_student
    from kgnlu.encoders import load_minilm

    if path == "minilm":
        return load_minilm().eval(), load_minilm_tokenizer()
    encoder, tokenizer = load_student(path)
    return encoder.eval(), tokenizer


# ---------------------------------------------------------------------- speed
def speed(models: dict, sentences: int, rounds: int) -> dict:
    from bench.common import interleaved
    from bench.encoder import real_sentences

    texts = real_sentences(sentences)
    teacher_name = next(iter(models))
    teacher, tokenizer = models[teacher_name]
    batches = [tokenizer.encode_batch(texts[i:i + 32], max_length=128) for i in range(0, len(texts), 32)]

    def runner(encoder):
        def run() -> None:
            with torch.inference_mode():
                for b in batches:
                    encoder(b.input_ids, b.attention_mask, b.token_type_ids)
        return run

    out = {teacher_name: {"sentences_per_s": None, "speedup": 1.0}}
    teacher_rates = []
    for name, (encoder, _) in list(models.items())[1:]:
        teacher_s, student_s = interleaved(runner(teacher), runner(encoder), rounds=rounds, warmup=1)
        teacher_rates.append(len(texts) / teacher_s)
        out[name] = {"sentences_per_s": len(texts) / student_s, "speedup": teacher_s / student_s,
                     "teacher_sentences_per_s_same_run": len(texts) / teacher_s}
        log(f"speed {name}: {len(texts) / student_s:.1f} sent/s vs teacher {len(texts) / teacher_s:.1f} "
            f"({teacher_s / student_s:.2f}x)")
    out[teacher_name]["sentences_per_s"] = float(np.median(teacher_rates)) if teacher_rates else None
    return out


# ---------------------------------------------------------------------- (a) word senses
def word_senses(kg, encoder, tokenizer, limit: int, neural_only: bool) -> dict:
    from kgnlu.eval.linking import run_linking_eval
    from kgnlu.kg.linker.dense_index import TextEncoder

    text_encoder = TextEncoder(encoder, tokenizer)
    wn = run_linking_eval(kg, tasks=["wordnet"], modes=["neural"], wordnet_limit=limit,
                          encoder=text_encoder)["tasks"]["wordnet"]
    out = {"examples": wn["examples"], "accuracy": wn["neural"]["open"]["accuracy"],
           "pos_given_accuracy": wn["neural"]["pos_given"]["accuracy"],
           "mfs_accuracy": wn["neural"]["open"]["mfs_accuracy"],
           "random_accuracy": wn["neural"]["open"]["random_accuracy"], "seconds": wn["neural"]["seconds"]}
    if neural_only:  # a second linker (its index is rebuilt: minutes on the default graph)
        only = run_linking_eval(kg, tasks=["wordnet"], modes=["neural"], wordnet_limit=limit, encoder=text_encoder,
                                weights=NEURAL_ONLY)["tasks"]["wordnet"]
        out["neural_only_accuracy"] = only["neural"]["open"]["accuracy"]
        out["seconds"] += only["neural"]["seconds"]
    return out


# ---------------------------------------------------------------------- (b) supersense
def supersense(encoder, tokenizer, splits) -> dict:
    from kgnlu.eval.supersense import (
        FinetuneConfig,
        SupersenseProbeConfig,
        finetune_supersense,
        probe_supersense,
    )

    tuned = finetune_supersense(encoder, tokenizer, splits, FinetuneConfig())
    probe = probe_supersense(encoder, tokenizer, splits, SupersenseProbeConfig())
    return {"finetune_accuracy": tuned["accuracy"], "finetune_macro_f1": tuned["macro_f1"],
            "probe_accuracy": probe["accuracy"], "probe_macro_f1": probe["macro_f1"],
            "majority_baseline": tuned["majority_baseline"], "train_examples": tuned["train_examples"],
            "test_examples": tuned["test_examples"], "seconds": tuned["seconds"] + probe["seconds"]}


# ---------------------------------------------------------------------- (c) entity retrieval
def retrieval_set(pool_size: int, queries: int, seed: int = 0) -> tuple[list[str], list[str], list[int]]:
    """(entity texts of the pool, query texts, gold pool row per query): a seeded sample of synsets;
    queries = the first example sentence of pool synsets that have one."""
    from kgnlu.data.corpora.wordnet import synset_sentences
    from kgnlu.kg.sources.wordnet_format import read_synsets, split_gloss

    synsets = sorted((s for s in read_synsets("/usr/share/wordnet") if split_gloss(s.gloss)[0]), key=lambda s: s.id)
    rng = random.Random(seed)
    pool = rng.sample(synsets, min(pool_size, len(synsets)))
    texts, with_example = [], []
    for row, synset in enumerate(pool):
        sentences = synset_sentences(synset)
        texts.append(sentences[0][0])  # "lemma, lemma: Definition."
        if len(sentences) > 1:
            with_example.append((row, sentences[1][0]))
    chosen = rng.sample(with_example, min(queries, len(with_example)))
    return texts, [q for _, q in chosen], [row for row, _ in chosen]


def retrieval(encoder, tokenizer, data) -> dict:
    from kgnlu.kg.linker.dense_index import TextEncoder

    texts, queries, gold = data
    start = time.perf_counter()
    text_encoder = TextEncoder(encoder, tokenizer, batch_size=64)
    entities = torch.from_numpy(text_encoder.encode(texts))  # (P, H) unit rows
    asked = torch.from_numpy(text_encoder.encode(queries))  # (Q, H)
    scores = asked @ entities.T  # (Q, P) cosine
    gold_t = torch.tensor(gold)
    gold_score = scores[torch.arange(len(gold)), gold_t]
    rank = (scores > gold_score[:, None]).sum(1) + 1  # 1 = retrieved first
    return {"pool": len(texts), "queries": len(queries), "recall@1": float((rank <= 1).float().mean()),
            "recall@10": float((rank <= 10).float().mean()), "mrr": float((1.0 / rank.float()).mean()),
            "seconds": time.perf_counter() - start}


# ---------------------------------------------------------------------- the report
def cached(cache: Path, key: str, fn, *args):
    """``fn(*args)``, or its result saved by an earlier run under ``cache/key.json``."""
    path = cache / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text())
    value = fn(*args)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2))
    return value


def retained(summary: dict, teacher: str) -> None:
    base = summary["models"][teacher]
    for name, row in summary["models"].items():
        ratios = {}
        for task, metric in HEADLINE:
            if task in row and task in base and base[task].get(metric):
                ratios[f"{task}.{metric}"] = row[task][metric] / base[task][metric]
        row["retained"] = ratios
        row["retained_mean"] = float(np.mean(list(ratios.values()))) if ratios else None
        # the goal is judged on the mean with each task capped at 100%: beating the teacher on one
        # task must not hide a loss on another
        row["retained_mean_capped"] = float(np.mean([min(r, 1.0) for r in ratios.values()])) if ratios else None
        row["retained_min"] = float(min(ratios.values())) if ratios else None
        speedup = row.get("speed", {}).get("speedup")
        quality = row["retained_mean_capped"]
        row["goals"] = [{**goal, "met": bool(speedup is not None and quality is not None
                                              and speedup >= goal["speedup"] and quality >= goal["retained"])}
                        for goal in GOALS] if name != teacher else []


def _cell(row: dict, block: dict, key: str, ratio_key: str | None = None) -> str:
    """A score, with the share of the teacher's in brackets for students."""
    if key not in block:
        return "—"
    value = f"{block[key]:.3f}"
    if ratio_key and ratio_key in row.get("retained", {}) and row.get("goals"):
        value += f" ({row['retained'][ratio_key]:.1%})"
    return value


def markdown(summary: dict) -> str:
    teacher = summary["teacher"]
    lines = ["| model | layers × width | parameters | CPU sentences/s | speedup | word senses acc (neural mode) | "
             "same, encoder only | supersense acc (fine-tuned) | supersense acc (frozen probe) | "
             "retrieval R@10 | quality retained (mean of 3, each ≤ 100%) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in summary["models"].items():
        wsd, ss, rt = row.get("wsd", {}), row.get("supersense", {}), row.get("retrieval", {})
        sp = row.get("speed", {})
        rate = f"{sp['sentences_per_s']:.0f}" if sp.get("sentences_per_s") else "—"
        ret = (f"{row['retained_mean_capped']:.1%} (min {row['retained_min']:.1%})"
               if name != teacher and row.get("retained_mean_capped") else "—")

        lines.append(f"| {name} | {row['layers']} × {row['hidden_size']} | {row['parameters'] / 1e6:.1f} M | {rate} | "
                     f"{sp.get('speedup', 1.0):.2f}× | {_cell(row, wsd, 'accuracy', 'wsd.accuracy')} | "
                     f"{_cell(row, wsd, 'neural_only_accuracy')} | "
                     f"{_cell(row, ss, 'finetune_accuracy', 'supersense.finetune_accuracy')} | "
                     f"{_cell(row, ss, 'probe_accuracy')} | {_cell(row, rt, 'recall@10', 'retrieval.recall@10')} | {ret} |")
    task = summary.get("task_distillation")
    if task:
        lines += ["", f"TinyBERT stage 2 (supersense, prediction-layer distillation, {task['train_examples']} train / "
                      f"{task['test_examples']} test glosses): teacher classifier accuracy {task['teacher']['accuracy']:.3f}, "
                      f"2-layer student {task['student']['accuracy']:.3f} ({task['retained_accuracy']:.1%} retained)."]
    for name, row in summary["models"].items():
        for goal in row.get("goals", []):
            lines.append(f"- {name}: goal ≥ {goal['speedup']:.0f}× and ≥ {goal['retained']:.0%} ({goal['claim']}): "
                         f"{'met' if goal['met'] else 'not met'}")
    return "\n".join(lines)


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    teacher = summary["teacher"]
    students = [n for n in summary["models"] if n != teacher]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for goal, color in zip(GOALS, ("tab:green", "tab:purple"), strict=True):
        left.axvline(goal["speedup"], color=color, ls=":", lw=1)
        left.axhline(goal["retained"] * 100, color=color, ls=":", lw=1,
                     label=f"goal {goal['claim']}: ≥{goal['speedup']:.0f}×, ≥{goal['retained']:.0%}")
    for name in students:
        row = summary["models"][name]
        x, y = row.get("speed", {}).get("speedup"), row.get("retained_mean_capped")
        if x is not None and y is not None:
            left.scatter([x], [y * 100], s=60)
            left.annotate(name, (x, y * 100), textcoords="offset points", xytext=(6, 4))
    left.set_xlabel("CPU speedup over the teacher (×)")
    left.set_ylabel("quality retained, mean of 3 tasks, each ≤ 100% (%)")
    left.set_title(f"students of {teacher}")
    left.legend(fontsize=8, loc="lower left")
    keys = [f"{t}.{m}" for t, m in HEADLINE]
    width = 0.8 / max(1, len(students))
    for i, name in enumerate(students):
        values = [summary["models"][name].get("retained", {}).get(k, np.nan) * 100 for k in keys]
        right.bar(np.arange(len(keys)) + i * width, values, width, label=name)
    right.axhline(100, color="black", lw=0.8)
    right.set_xticks(np.arange(len(keys)) + width * (len(students) - 1) / 2)
    right.set_xticklabels(["word senses\n(neural linker)", "supersense\n(fine-tuned)", "retrieval\nrecall@10"])
    right.set_ylabel("% of the teacher's score")
    right.set_ylim(0, 120)
    right.legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default="minilm", help="minilm or an encoder folder with its tokenizer")
    parser.add_argument("--student", action="append", default=None, metavar="NAME=PATH",
                        help="a student folder (repeatable); default: the two shipped configs' students")
    parser.add_argument("--graph", default=str(Path("~/.cache/kgnlu/graphs/default").expanduser()))
    parser.add_argument("--wordnet-limit", type=int, default=600, help="word-sense examples (held-out split)")
    parser.add_argument("--neural-only", action="store_true",
                        help="also score word senses with the encoder's cosine as the only evidence")
    parser.add_argument("--retrieval-pool", type=int, default=5000)
    parser.add_argument("--retrieval-queries", type=int, default=1000)
    parser.add_argument("--speed-sentences", type=int, default=512)
    parser.add_argument("--speed-rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: least disturbed on a shared CPU)")
    parser.add_argument("--task-summary", default="runs/distill-2layer/task/task_summary.json")
    parser.add_argument("--skip", action="append", default=[], choices=["speed", "wsd", "supersense", "retrieval"])
    parser.add_argument("--only", action="append", default=None, metavar="NAME",
                        help="evaluate only these models (the others' cached results are still read); "
                             "lets the models run as parallel processes")
    parser.add_argument("--cache", default="runs/distill-report", help="per-model results, reused on rerun")
    parser.add_argument("--out", default="reports/distill")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    students = args.student or ["3-layer=runs/distill-3layer/student", "2-layer=runs/distill-2layer/student"]
    paths = {f"teacher ({args.teacher})" if args.teacher == "minilm" else "teacher": args.teacher}
    paths.update(dict(s.split("=", 1) for s in students))
    models = {name: load_model(path) for name, path in paths.items()}
    teacher = next(iter(models))
    cache = Path(args.cache)
    summary: dict = {"teacher": teacher, "paths": paths, "threads": args.threads, "models": {},
                     "date": time.strftime("%Y-%m-%d"), "settings": {k: v for k, v in vars(args).items() if k != "student"}}
    for name, (encoder, _) in models.items():
        summary["models"][name] = {"parameters": encoder.num_parameters(), "layers": encoder.config.num_layers,
                                   "hidden_size": encoder.config.hidden_size}
    if "speed" not in args.skip:
        log("speed")
        for name, row in speed(models, args.speed_sentences, args.speed_rounds).items():
            summary["models"][name]["speed"] = row
    kg = splits = data = None
    for name, (encoder, tokenizer) in models.items():
        key = name.replace(" ", "_").replace("(", "").replace(")", "")
        row = summary["models"][name]
        if args.only and name not in args.only:
            for task, file in (("retrieval", f"retrieval-{args.retrieval_pool}-{args.retrieval_queries}"),
                               ("wsd", f"wsd-{args.wordnet_limit}{'-n' if args.neural_only else ''}"),
                               ("supersense", "supersense")):
                if (cache / f"{key}-{file}.json").is_file():
                    row[task] = json.loads((cache / f"{key}-{file}.json").read_text())
            continue
        if "retrieval" not in args.skip:
            log(f"retrieval {name}")
            data = data or retrieval_set(args.retrieval_pool, args.retrieval_queries)
            row["retrieval"] = cached(cache, f"{key}-retrieval-{args.retrieval_pool}-{args.retrieval_queries}",
                                      retrieval, encoder, tokenizer, data)
        if "wsd" not in args.skip:
            log(f"word senses {name}")
            if kg is None:
                from kgnlu.kg import KnowledgeGraph

                kg = KnowledgeGraph.load(args.graph, verify=False)
            row["wsd"] = cached(cache, f"{key}-wsd-{args.wordnet_limit}{'-n' if args.neural_only else ''}",
                                word_senses, kg, encoder, tokenizer, args.wordnet_limit, args.neural_only)
        if "supersense" not in args.skip:
            log(f"supersense {name}")
            if splits is None:
                from kgnlu.eval.supersense import supersense_splits

                splits = supersense_splits(seed=0)
            row["supersense"] = cached(cache, f"{key}-supersense", supersense, encoder, tokenizer, splits)
    task = Path(args.task_summary)
    if task.is_file():
        summary["task_distillation"] = json.loads(task.read_text())
    retained(summary, teacher)
    out = Path(args.out)
    with atomic_write(out / "summary.json") as f:
        json.dump(summary, f, indent=2)
    table = markdown(summary)
    with atomic_write(out / "summary.md") as f:
        f.write(table + "\n")
    plot(summary, out / "distill.png")
    print(table)


if __name__ == "__main__":
    main()
