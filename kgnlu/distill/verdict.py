"""Judging a distilled student against its goal (issue 22): strict retention, speed with its noise.

- **Retention, strict headline**: the *uncapped* mean of student/teacher ratios over the tasks
  that are not built from the distillation corpus (:data:`FROM_DISTILLATION_CORPUS` names those
  left out: entity retrieval ranks the corpus's own sentences by embedding similarity, the very
  quantity the student was trained to copy on those sentences). The old figure — every task,
  each ratio capped at 100% — is kept beside it, labelled.
- **Noise of retention**: each ratio's binomial standard error, s/t·√(se_s²/s² + se_t²/t²) with
  se = √(p(1−p)/n), combined over the k tasks of the mean as √Σse_i² / k.
- **Speed**: per round, the teacher's and the student's seconds on the same batches, alternated
  (``bench.common.interleaved_samples``); the speed-up of a round is its own ratio. Reported:
  median, min, max over rounds, and the teacher's own run-to-run spread (max − min) / median of
  its rates. The speed noise is the larger of half the spread of the ratios and the median times
  the teacher's spread.
- **Verdict**: a goal is *met* only when both margins exceed their noise (median speed-up − noise
  ≥ goal and strict retention − se ≥ goal); a non-negative margin inside the noise is reported as
  "not met (within noise)".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

FROM_DISTILLATION_CORPUS = frozenset({"retrieval"})


def speed_summary(teacher_seconds: Sequence[float], student_seconds: Sequence[float], sentences: int) -> dict:
    """Per-round seconds of the teacher and the student (same rounds, alternated) → the speed record."""
    if len(teacher_seconds) != len(student_seconds) or not teacher_seconds:
        raise ValueError("need the same positive number of teacher and student rounds")
    ratios = [t / s for t, s in zip(teacher_seconds, student_seconds, strict=True)]
    teacher_rates = [sentences / t for t in teacher_seconds]
    median = statistics.median(ratios)
    teacher_spread = (max(teacher_rates) - min(teacher_rates)) / statistics.median(teacher_rates)
    return {"rounds": len(ratios), "speedup": median, "speedup_min": min(ratios), "speedup_max": max(ratios),
            "speedups": ratios, "teacher_sentences_per_s": statistics.median(teacher_rates),
            "teacher_spread": teacher_spread,
            "sentences_per_s": statistics.median(sentences / s for s in student_seconds),
            "speedup_noise": max((max(ratios) - min(ratios)) / 2, median * teacher_spread)}


def binomial_se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1.0 - p), 0.0) / n) if n > 0 else float("inf")


def ratio_se(student: float, teacher: float, n_student: int, n_teacher: int) -> float:
    """Standard error of student/teacher for two accuracies on n examples each (first-order)."""
    if student <= 0 or teacher <= 0:
        return float("inf")
    rel = math.hypot(binomial_se(student, n_student) / student, binomial_se(teacher, n_teacher) / teacher)
    return student / teacher * rel


def retention(scores: Mapping[str, tuple[float, float, int]],
              excluded: frozenset[str] = FROM_DISTILLATION_CORPUS) -> dict:
    """task → (student score, teacher score, examples) → ratios, the strict headline (uncapped,
    ``excluded`` tasks left out) with its standard error, and the old capped all-task mean."""
    ratios = {task: s / t for task, (s, t, _) in scores.items() if t > 0}
    ses = {task: ratio_se(s, t, n, n) for task, (s, t, n) in scores.items() if t > 0}
    strict = [task for task in ratios if task not in excluded]
    out = {"ratios": ratios, "ratio_se": ses, "strict_tasks": strict,
           "excluded_tasks": sorted(set(ratios) & excluded),
           "strict": statistics.fmean(ratios[t] for t in strict) if strict else None,
           "strict_se": math.sqrt(sum(ses[t] ** 2 for t in strict)) / len(strict) if strict else None,
           "all_capped": statistics.fmean(min(r, 1.0) for r in ratios.values()) if ratios else None,
           "all_uncapped": statistics.fmean(ratios.values()) if ratios else None,
           "min": min(ratios.values()) if ratios else None}
    return out


def judge(goal_speedup: float, goal_retained: float, speed: Mapping | None, kept: Mapping) -> dict:
    """The verdict on one goal: met only when each margin clears its noise."""
    if kept.get("strict") is None:
        return {"met": False, "verdict": "not met: retention not measured"}
    quality_margin = kept["strict"] - goal_retained
    checks = [("retention", quality_margin, kept["strict_se"])]
    speed_margin = None
    if speed is not None:
        speed_margin = speed["speedup"] - goal_speedup
        checks.insert(0, ("speed-up", speed_margin, speed["speedup_noise"]))
    reasons = [] if speed is not None else ["no per-round speed record to judge the speed margin against its noise"]
    for name, margin, noise in checks:
        if margin < 0:
            reasons.append(f"{name} missed by {abs(margin):.3g}")
        elif margin < noise:
            reasons.append(f"{name} margin {margin:.3g} within noise {noise:.3g}")
    met = not reasons
    return {"met": met, "verdict": "met" if met else "not met: " + "; ".join(reasons),
            "speed_margin": speed_margin, "quality_margin": quality_margin}
