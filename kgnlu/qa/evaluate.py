"""Evaluating a KGQA model on a QA split: hits@1/hits@5/MRR overall and per hop
(:func:`kgnlu.qa.metrics.qa_metrics`), and per-question latency (p50/p95 of single ``answer`` calls)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import numpy as np

from kgnlu.errors import QAError
from kgnlu.qa.dataset import QAExample


def gold_records(examples: Sequence[QAExample]) -> list[dict]:
    """The examples as the question records :func:`~kgnlu.qa.metrics.qa_metrics` reads."""
    return [{"id": ex.id, "question": ex.question, "answers": list(ex.answers), "hops": ex.hops,
             "relations": list(ex.relations)} for ex in examples]


def percentiles(values: Sequence[float], qs: Sequence[float] = (50, 95), ndigits: int = 2) -> dict[str, float]:
    """``{"p50": ..., "p95": ...}`` of ``values``: linear interpolation between the closest ranks
    (numpy's default; Excel's PERCENTILE.INC), so p50 of an even-length list is the mean of its middle
    two. The one percentile rule of every latency kgnlu reports."""
    if len(values) == 0:
        raise QAError("percentiles of an empty list")
    arr = np.asarray(values, dtype=float)
    return {f"p{q:g}": round(float(np.percentile(arr, q)), ndigits) for q in qs}


def latency(qa, questions: Sequence[str], samples: int = 200, seed: int = 0, warmup: int = 5) -> dict:
    """Wall milliseconds of one ``qa.answer(question)`` call (linking, encoding, search, scoring) over
    ``samples`` questions drawn with ``seed``, after ``warmup`` untimed calls:
    ``{"questions", "p50", "p95", "mean"}`` (:func:`percentiles`)."""
    picked = random.Random(seed).sample(list(questions), min(samples, len(questions)))
    for q in picked[:warmup]:
        qa.answer(q)
    times = []
    for q in picked:
        t0 = time.perf_counter()
        qa.answer(q)
        times.append((time.perf_counter() - t0) * 1000.0)
    if not times:
        return {"questions": 0}
    return {"questions": len(times), **percentiles(times), "mean": round(float(np.mean(times)), 2)}
