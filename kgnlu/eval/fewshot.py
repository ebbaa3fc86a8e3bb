"""Few-shot evaluation report: accuracy of a causal LM on multiple-choice questions, zero-, one-
and few-shot, per normalisation, optionally with retrieved graph facts in the prompt.

    scorer = open_scorer("runs/gpt2-mini")                 # kgnlu run folder or local HF folder
    report = run_fewshot_eval(scorer, country_capital_examples(), shots=(0, 1, 5))

Demonstrations follow GPT-3: drawn from a training split, never from the evaluated items. Without
``pool``, ``DEMO_POOL_SIZE`` of the examples are held out as that split (seeded,
:func:`~kgnlu.qa.fewshot_prompts.split_demonstration_pool`) and the rest are evaluated; a given
``pool`` must share no question with the examples.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from kgnlu.errors import ConfigError
from kgnlu.qa.fewshot import CausalLMScorer, FewShotExample, evaluate_fewshot
from kgnlu.qa.fewshot_prompts import split_demonstration_pool

KINDS = ("auto", "kgnlu", "hf")
DEMO_POOL_SIZE = 32  # held-out demonstrations: several times the largest shot count (5) GPT-3-style evals use here


def open_scorer(model: str | Path, kind: str = "auto", batch_size: int = 16, device: str = "cpu") -> CausalLMScorer:
    """``kind`` "auto": a folder with ``encoder/`` or a kgnlu tokenizer (kgnlu_tokenizer.json) beside
    it is a kgnlu run; anything else is opened as a Hugging Face causal LM."""
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    path = Path(model).expanduser()
    if kind == "auto":
        is_kgnlu = (path / "encoder").is_dir() or (path / "tokenizer" / "kgnlu_tokenizer.json").is_file() \
            or (path.parent / "tokenizer" / "kgnlu_tokenizer.json").is_file()
        kind = "kgnlu" if is_kgnlu else "hf"
    if kind == "kgnlu":
        return CausalLMScorer.from_kgnlu(path, batch_size=batch_size, device=device)
    return CausalLMScorer.from_hf(path, batch_size=batch_size, device=device)


def run_fewshot_eval(scorer: CausalLMScorer, examples: Sequence[FewShotExample], shots: Sequence[int] = (0, 1, 5),
                     normalizations: Sequence[str] = ("length",), seed: int = 0, task: str = "",
                     facts: Sequence[bool] = (False,), pool: Sequence[FewShotExample] | None = None,
                     pool_size: int = DEMO_POOL_SIZE) -> dict:
    """One accuracy per (shots, normalisation, facts on/off); predictions are left out of the report.
    Demonstrations come from ``pool`` (default: ``pool_size`` examples held out of ``examples``)."""
    start = time.perf_counter()
    examples, pool = demonstration_split(examples, pool, pool_size, seed)
    rows = []
    for with_facts in facts:
        for normalize in normalizations:
            for k in shots:
                r = evaluate_fewshot(scorer, examples, int(k), seed, normalize, with_facts=with_facts, pool=pool)
                rows.append({"shots": int(k), "normalize": normalize, "facts": with_facts,
                             "accuracy": r["accuracy"], "correct": r["correct"], "seconds": r["seconds"]})
    return {"task": task, "examples": len(examples), "seed": seed, "demonstration_pool": len(pool),
            "demonstrations_from": "a training split disjoint from the evaluated examples (GPT-3)",
            "chance": sum(1 / len(e.choices) for e in examples) / max(1, len(examples)),
            "max_positions": scorer.max_positions, "results": rows, "seconds": round(time.perf_counter() - start, 3)}


def demonstration_split(examples: Sequence[FewShotExample], pool: Sequence[FewShotExample] | None, pool_size: int,
                        seed: int) -> tuple[list[FewShotExample], list[FewShotExample]]:
    """(evaluated examples, demonstration pool), disjoint by question and id."""
    if pool is None:
        pool, evaluated = split_demonstration_pool(examples, pool_size, seed)
        return evaluated, pool
    shared = {e.question for e in pool} & {e.question for e in examples}
    shared |= {e.id for e in pool if e.id} & {e.id for e in examples if e.id}
    if shared:
        raise ConfigError(f"the demonstration pool shares {len(shared)} items with the evaluated examples "
                          f"(e.g. {sorted(shared)[0]!r}); draw demonstrations from a separate training split")
    return list(examples), list(pool)


def markdown_report(report: dict, title: str = "Few-shot") -> str:
    lines = [f"# {title}: {report['task']}", "",
             f"{report['examples']:,} questions, chance {report['chance']:.3f}, seed {report['seed']}; "
             f"demonstrations from {report.get('demonstration_pool', 0):,} held-out training items.", "",
             "| shots | normalisation | facts | accuracy |", "|---|---|---|---|"]
    for r in report["results"]:
        lines.append(f"| {r['shots']} | {r['normalize']} | {'yes' if r['facts'] else 'no'} | {r['accuracy']:.3f} |")
    return "\n".join(lines) + "\n"


def plot_shots(report: dict, path: str | Path) -> Path:
    """Accuracy against the number of demonstrations, one line per (normalisation, facts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kgnlu.io import save_png

    fig, ax = plt.subplots(figsize=(5, 3.5))
    series: dict[str, list[tuple[int, float]]] = {}
    for r in report["results"]:
        name = r["normalize"] + (" + facts" if r["facts"] else "")
        series.setdefault(name, []).append((r["shots"], r["accuracy"]))
    for name, points in series.items():
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    ax.axhline(report["chance"], color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_xlabel("demonstrations in the prompt (shots)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"few-shot: {report['task']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, Path(path), dpi=120)
    return Path(path)
