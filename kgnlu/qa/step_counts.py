"""Stated step counts: "two levels up", "three steps above", "grandparent", and the prior they give.

A sentence embedding barely tells "two levels up" from "three levels up", so the learned path
scorer miscounts repeated steps on wordings it has not seen: on the held-out-template check
(`kgnlu qa train --holdout-templates`) "Going two levels up from X" was answered three levels up
or one level short almost every time. Yet such a question states how often a relation repeats, and
a path's longest run of one step is what it counts (hypernym → hypernym → part holonym: 2).

:func:`stated_steps` reads the count from the question — a number word or digit before a step
noun ("two levels", "3 steps"), or kinship terms ("grandparent" 2, "great-grandparent" 3) — and
:class:`StepCountPrior`, estimated on the training questions that state one, turns agreement into
a log-odds prior over paths: paths whose longest run differs from the stated count lose
``log((agree + 1) / (disagree + 1))`` nats. With no counted training question (a user's own data
without such wordings) the prior is off. A bare number ("Name two countries …") states no step
count and gets no prior.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch

from kgnlu.errors import QAError

MIN_QUESTIONS = 20  # fewer counted training questions than this: too little evidence, prior off

_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}
_COUNTED = re.compile(r"\b(" + "|".join(_NUMBERS) + r")[\s-]+(?:levels?|steps?|hops?|generations?|tiers?|rungs?)\b",
                      re.IGNORECASE)
_KIN = re.compile(r"\b((?:great[\s-]*)*)grand[\s-]?(?:parent|child|father|mother|son|daughter)s?\b", re.IGNORECASE)
_TWICE = {"twice": 2, "thrice": 3}
_TWICE_RE = re.compile(r"\b(twice|thrice)\b", re.IGNORECASE)


def stated_steps(text: str) -> int | None:
    """The repetition count ``text`` states (>= 2), or None: none stated, or statements that disagree."""
    counts = {_NUMBERS[m.group(1).lower()] for m in _COUNTED.finditer(text)}
    counts |= {2 + m.group(1).lower().count("great") for m in _KIN.finditer(text)}
    counts |= {_TWICE[m.group(1).lower()] for m in _TWICE_RE.finditer(text)}
    return counts.pop() if len(counts) == 1 else None


def longest_runs(table: torch.Tensor, pad: int) -> torch.Tensor:
    """(P, MAX_HOPS) step symbols padded with ``pad`` → (P,) long: the longest run of one symbol."""
    best = torch.ones(table.shape[0], dtype=torch.long)
    run = torch.ones_like(best)
    for i in range(1, table.shape[1]):
        same = (table[:, i] == table[:, i - 1]) & (table[:, i] != pad)
        run = torch.where(same, run + 1, torch.ones_like(run))
        best = torch.maximum(best, run)
    return best


@dataclass
class StepCountPrior:
    """How often the training questions that state a step count walk a path whose longest run equals it."""

    agree: int = 0
    total: int = 0

    @classmethod
    def fit(cls, stated: list[int | None], runs: list[int]) -> StepCountPrior:
        pairs = [(s, r) for s, r in zip(stated, runs, strict=True) if s is not None]
        return cls(sum(s == r for s, r in pairs), len(pairs))

    @property
    def penalty(self) -> float:
        """Nats a disagreeing path loses: Laplace-smoothed log-odds of agreement; 0 when off."""
        if self.total < MIN_QUESTIONS or self.agree <= self.total - self.agree:
            return 0.0
        return math.log((self.agree + 1) / (self.total - self.agree + 1))

    def adjust(self, stated: torch.Tensor, runs: torch.Tensor) -> torch.Tensor:
        """``stated`` (B,) long (0: no count stated), ``runs`` (P,) → (B, P) additive log-prior."""
        disagree = (stated[:, None] > 0) & (runs[None, :] != stated[:, None])
        return -self.penalty * disagree.float()

    def to_dict(self) -> dict:
        return {"agree": self.agree, "total": self.total}

    @classmethod
    def from_dict(cls, data: dict | None, where: str = "qa.json") -> StepCountPrior:
        """From :meth:`to_dict`'s form; None (a model saved before the prior) is an empty, off prior.
        ``where`` names the file in the error a malformed entry raises."""
        if data is None:
            return cls()
        try:
            prior = cls(int(data["agree"]), int(data["total"]))
        except (KeyError, TypeError, ValueError):
            prior = None
        if prior is None or not 0 <= prior.agree <= prior.total:
            raise QAError(f"{where}: step_counts must be {{\"agree\": A, \"total\": T}} with 0 <= A <= T, got {data!r}; "
                          "retrain the model or restore its qa.json")
        return prior
