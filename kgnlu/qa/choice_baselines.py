"""Two baselines for multiple choice, each returning what ``KGQA.choose`` returns (a ChoiceResult):

- :func:`lesk_choose`: simplified Lesk (Kilgarriff & Rosenzweig 2000) with the most frequent sense:
  the number of words the question (choices removed) shares with the gloss of each choice's most
  frequent sense. No senses are weighed, no graph is walked: what plain gloss overlap gets.
- :class:`MiniLMChooser`: cosine between the question and each choice's text with the packaged
  MiniLM, mean-pooled like sentence-transformers (:class:`~kgnlu.kg.linker.dense_index.TextEncoder`).
  What a sentence encoder knows without the graph.

Scores are normalised to sum to 1 without changing their order, so equal raw scores stay equal
and an evaluation can see the tie.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kgnlu.kg.linker.lexical import stem, words
from kgnlu.qa.answer import ChoiceResult, ChoiceScore
from kgnlu.qa.choice_text import choice_context, choice_name


def most_frequent_sense(kg, choice: str) -> int:
    """The entity the choice's name most often means (alias prior), trying a crude singular
    ("gloves" → "glove") when the name itself is no alias; -1 when neither is."""
    name = choice_name(choice)
    for form in dict.fromkeys((name, stem(name.casefold()))):
        found = kg.aliases(form) if form else []
        if found:
            return int(found[0][0])
    return -1


def lesk_choose(kg, question: str, choices: Sequence[str]) -> ChoiceResult:
    context = set(words(choice_context(question, choices)))
    out = []
    for c in choices:
        e = most_frequent_sense(kg, c)
        if e < 0:
            out.append(ChoiceScore(c, 0.0, None, ""))
            continue
        gloss = set(words(kg.entity_label(e) + " " + kg.entity_text(e)))
        shared = sorted(context & gloss)
        out.append(ChoiceScore(c, float(len(shared)), kg.entity_id(e), kg.entity_label(e),
                               matched=f"{kg.entity_label(e)} (shares: {', '.join(shared)})" if shared else ""))
    return ChoiceResult(question, _normalised(out))


class MiniLMChooser:
    """``chooser(question, choices)``; ``encoder`` is a TextEncoder (default: the packaged MiniLM)."""

    def __init__(self, encoder=None):
        if encoder is None:
            from kgnlu.kg.linker.dense_index import TextEncoder

            encoder = TextEncoder.minilm()
        self.encoder = encoder

    def __call__(self, question: str, choices: Sequence[str]) -> ChoiceResult:
        vectors = self.encoder.encode([question, *choices])  # unit rows: dot = cosine
        cosines = vectors[1:] @ vectors[0]
        return ChoiceResult(question, _normalised([ChoiceScore(c, float(s), None, "")
                                                   for c, s in zip(choices, cosines, strict=True)]))


def _normalised(scores: list[ChoiceScore]) -> list[ChoiceScore]:
    """Shift to ≥ 0 and divide by the sum (uniform when all are equal): order and ties kept."""
    raw = np.array([s.score for s in scores], dtype=np.float64)
    raw = raw - raw.min() if len(raw) else raw
    total = raw.sum()
    probs = raw / total if total > 0 else np.full(len(raw), 1.0 / max(1, len(raw)))
    return [ChoiceScore(s.choice, float(p), s.entity, s.label, s.evidence, s.matched)
            for s, p in zip(scores, probs, strict=True)]
