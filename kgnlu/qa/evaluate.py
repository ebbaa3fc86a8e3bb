"""Evaluating a KGQA model on a QA split: hits@1/hits@5/MRR overall and per hop
(:func:`kgnlu.eval.qa.qa_metrics`), and per-question latency (p50/p95 of single ``answer`` calls)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

import numpy as np

from kgnlu.qa.dataset import QAExample


def gold_records(examples: Sequence[QAExample]) -> list[dict]:
    """The examples as the question records :func:`~kgnlu.eval.qa.qa_metrics` reads."""
    return [{"id": ex.id, "question": ex.question, "answers": list(ex.answers), "hops": ex.hops,
             "relations": list(ex.relations)} for ex in examples]


def evaluate_split(qa, examples: Sequence[QAExample], k: int = 5, batch_size: int = 64,
                   on_progress: Callable[[int], None] | None = None) -> dict:
    """:func:`~kgnlu.eval.qa.qa_metrics` of ``qa.answer_batch`` over ``examples``, plus seconds."""
    from kgnlu.eval.qa import qa_metrics

    start = time.perf_counter()
    predictions = []
    for lo in range(0, len(examples), batch_size):
        chunk = examples[lo:lo + batch_size]
        for ex, res in zip(chunk, qa.answer_batch([ex.question for ex in chunk], k), strict=True):
            predictions.append({"id": ex.id, "answers": [a.entity for a in res]})
        if on_progress:
            on_progress(len(chunk))
    metrics = qa_metrics(predictions, gold_records(examples))
    metrics["seconds"] = round(time.perf_counter() - start, 2)
    return metrics


def latency(qa, questions: Sequence[str], samples: int = 200, seed: int = 0, warmup: int = 5) -> dict:
    """Wall milliseconds of one ``qa.answer(question)`` call (linking, encoding, search, scoring)."""
    rng = random.Random(seed)
    picked = rng.sample(list(questions), min(samples, len(questions)))
    for q in picked[:warmup]:
        qa.answer(q)
    times = []
    for q in picked:
        t0 = time.perf_counter()
        qa.answer(q)
        times.append((time.perf_counter() - t0) * 1000.0)
    arr = np.asarray(times)
    return {"questions": len(arr), "p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p95_ms": round(float(np.percentile(arr, 95)), 2), "mean_ms": round(float(arr.mean()), 2)}
