"""KGQA evaluation: the reports (markdown, plots) and running a trained model over a split.

The metrics themselves (hits@1, hits@5, MRR; overall, per hop and per relation path; what counts
as a hit) are defined and documented in :mod:`kgnlu.qa.metrics` and re-exported here:

    report = qa_metrics(predictions, gold)     # gold: question records of a make-qa split
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

# The one latency rule (timing and percentiles) lives beside the QA model it times.
from kgnlu.qa.evaluate import latency, percentiles

# The metrics live in the qa layer (QA training scores itself with them); re-exported here.
from kgnlu.qa.metrics import KS, path_key, qa_metrics, rank_of_first_hit, ranked_answers

__all__ = ["KS", "markdown_report", "path_key", "plot_by_hops", "qa_metrics", "rank_of_first_hit",
           "ranked_answers", "latency", "percentiles", "load_kgqa", "answer_questions", "evaluate_kgqa"]


# ---------------------------------------------------------------------- reports
def markdown_report(results: Mapping[str, Mapping], title: str = "KGQA") -> str:
    """``results``: split name → :func:`qa_metrics` output (e.g. test and paraphrase_dev)."""
    lines = [f"# {title}", "", "| split | hops | questions | hits@1 | hits@5 | MRR |", "|---|---|---|---|---|---|"]
    for split, m in results.items():
        for hop, row in [("all", m), *m["by_hops"].items()]:
            lines.append(f"| {split} | {hop} | {row['questions']:,} | {row['hits@1']:.3f} | {row['hits@5']:.3f} "
                         f"| {row['mrr']:.3f} |")
    for split, m in results.items():
        lines += ["", f"## {split}: per relation path", "", "| path | questions | hits@1 | hits@5 | MRR |",
                  "|---|---|---|---|---|"]
        for path, row in m["by_path"].items():
            lines.append(f"| {path} | {row['questions']:,} | {row['hits@1']:.3f} | {row['hits@5']:.3f} "
                         f"| {row['mrr']:.3f} |")
    return "\n".join(lines) + "\n"


def plot_by_hops(results: Mapping[str, Mapping], path: str | Path, title: str = "KGQA hits@1 by hops") -> Path:
    """A grouped bar chart: hits@1 per hop, one bar per split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kgnlu.io import save_png

    hop_names = sorted({h for m in results.values() for h in m["by_hops"]})
    width = 0.8 / max(1, len(results))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, (split, m) in enumerate(results.items()):
        xs = [j + i * width for j in range(len(hop_names))]
        ys = [m["by_hops"].get(h, {}).get("hits@1", 0.0) for h in hop_names]
        bars = ax.bar(xs, ys, width, label=split)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks([j + width * (len(results) - 1) / 2 for j in range(len(hop_names))])
    ax.set_xticklabels([f"{h}-hop" for h in hop_names])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("hits@1")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, Path(path), dpi=120)
    return Path(path)


def load_kgqa(model_dir: str | Path, graph=None):
    """A trained KGQA model (``kgnlu qa train``) on ``graph`` (default: the graph it was trained on)."""
    from kgnlu.qa import KGQA

    return KGQA.load(model_dir, graph=graph)


def answer_questions(qa, questions: Sequence[Mapping], k: int = 10, batch_size: int = 64) -> list[dict]:
    """``{"id", "question", "answers": [entity ids]}`` for each question, answered in batches."""
    predictions = []
    for lo in range(0, len(questions), batch_size):
        chunk = questions[lo:lo + batch_size]
        for q, res in zip(chunk, qa.answer_batch([q["question"] for q in chunk], k), strict=True):
            predictions.append({"id": q.get("id"), "question": q["question"], "answers": [a.entity for a in res]})
    return predictions


def evaluate_kgqa(qa, golds: Mapping[str, Sequence[Mapping]], k: int = 10, batch_size: int = 64,
                  latency_samples: int = 200) -> tuple[dict, list[dict]]:
    """The one KGQA evaluator (``kgnlu eval qa --model`` and its alias ``kgnlu qa eval``): each split's
    :func:`qa_metrics` (plus seconds) of the top-``k`` answers, and the latency of single questions
    (:func:`latency` over ``latency_samples`` of them; 0 skips it). Returns the report and the predictions."""
    import time

    report: dict = {"splits": {}}
    predictions: list[dict] = []
    for name, questions in golds.items():
        start = time.perf_counter()
        answered = answer_questions(qa, questions, k, batch_size)
        report["splits"][name] = {**qa_metrics(answered, questions), "seconds": round(time.perf_counter() - start, 2)}
        predictions += answered
    if latency_samples:
        report["latency_ms"] = latency(qa, [q["question"] for qs in golds.values() for q in qs], latency_samples)
    return report, predictions
