"""Few-shot evaluation report: accuracy of a causal LM on multiple-choice questions, zero-, one-
and few-shot, per normalisation, optionally with retrieved graph facts in the prompt.

    scorer = open_scorer("runs/gpt2-mini")                 # kgnlu run folder or local HF folder
    report = run_fewshot_eval(scorer, country_capital_examples(), shots=(0, 1, 5))
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from kgnlu.errors import ConfigError
from kgnlu.qa.fewshot import CausalLMScorer, FewShotExample, evaluate_fewshot

KINDS = ("auto", "kgnlu", "hf")


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
                     facts: Sequence[bool] = (False,)) -> dict:
    """One accuracy per (shots, normalisation, facts on/off); predictions are left out of the report."""
    start = time.perf_counter()
    rows = []
    for with_facts in facts:
        for normalize in normalizations:
            for k in shots:
                r = evaluate_fewshot(scorer, examples, int(k), seed, normalize, with_facts=with_facts)
                rows.append({"shots": int(k), "normalize": normalize, "facts": with_facts,
                             "accuracy": r["accuracy"], "correct": r["correct"], "seconds": r["seconds"]})
    return {"task": task, "examples": len(examples), "seed": seed,
            "chance": sum(1 / len(e.choices) for e in examples) / max(1, len(examples)),
            "max_positions": scorer.max_positions, "results": rows, "seconds": round(time.perf_counter() - start, 3)}


def markdown_report(report: dict, title: str = "Few-shot") -> str:
    lines = [f"# {title}: {report['task']}", "",
             f"{report['examples']:,} questions, chance {report['chance']:.3f}, seed {report['seed']}.", "",
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
