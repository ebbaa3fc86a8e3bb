"""Masked-LM corruption (BERT 80/10/10) with five ways to pick what to mask.

- ``token``: independent tokens (BERT as published);
- ``whole_word``: all pieces of a word together (BERT's whole-word-masking release);
- ``span``: contiguous word spans with geometric lengths, p=0.2 clipped at 10 words (SpanBERT);
- ``ngram``: n-grams of whole words, n <= ``max_n`` (3) drawn with p(n) ∝ 1/n (ALBERT §4.1; its
  create_pretraining_data.py: start words in random order, n renormalised where fewer words are left,
  shortened while it overshoots the budget, skipped if it touches a chosen word);
- ``entity``: entity mention spans first (ERNIE 1.0's entity-level masking), the rest of the
  budget filled with whole words.

The budget is ``round(rate × maskable tokens)`` (at least 1), maskable meaning not a special token;
units are taken in random order and one that would overshoot the budget is skipped, as in BERT.
Each chosen token is then, independently, replaced by [MASK] (``mask_prob``), by a random
non-special token (``random_prob``) or kept; its label is the original id either way, and every
other position is labelled -100. Deterministic given the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from kgnlu.errors import ConfigError

IGNORE = -100
STRATEGIES = ("token", "whole_word", "span", "entity", "ngram")


@dataclass
class MaskingConfig:
    rate: float = 0.15  # BERT's 15%; RoBERTa-large and later work find 15-40% all fine
    # the library default keeps whole words (no "##ing" giveaways); the BERT presets set "token" (the paper)
    strategy: Literal["token", "whole_word", "span", "entity", "ngram"] = "whole_word"
    mask_prob: float = 0.8  # share of chosen tokens shown as [MASK]
    random_prob: float = 0.1  # share replaced by a random token; the rest (0.1) stay unchanged
    span_p: float = 0.2  # SpanBERT: span length in words ~ Geometric(0.2), mean 3.8 after clipping
    max_span: int = 10  # SpanBERT's clip
    max_n: int = 3  # ngram: ALBERT's longest n-gram (its --ngram flag)
    max_predictions: int | None = None  # cap per sequence (BERT used 20 at length 128); None = no cap

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"masking strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if not 0.0 < self.rate < 1.0:
            raise ConfigError(f"masking rate must be in (0, 1), got {self.rate}")
        if self.mask_prob < 0 or self.random_prob < 0 or self.mask_prob + self.random_prob > 1:
            raise ConfigError("mask_prob and random_prob must be >= 0 and sum to at most 1 "
                              f"(got {self.mask_prob} + {self.random_prob})")
        if not 0.0 < self.span_p <= 1.0 or self.max_span < 1 or self.max_n < 1:
            raise ConfigError("span_p must be in (0, 1], and max_span and max_n >= 1")


class Masker:
    """Applies :class:`MaskingConfig` to sequences of one vocabulary."""

    def __init__(self, config: MaskingConfig, mask_id: int, vocab_size: int, special: frozenset[int]):
        self.config, self.mask_id, self.special = config, mask_id, special
        # random replacements are drawn from the non-special ids only
        self.replacements = np.setdiff1d(np.arange(vocab_size, dtype=np.int64),
                                         np.fromiter(special, dtype=np.int64, count=len(special)))
        if len(self.replacements) == 0:
            raise ConfigError("the vocabulary has no non-special tokens to use as random replacements")

    def __call__(self, ids: np.ndarray, word_starts: np.ndarray, entities: list[tuple[int, int]],
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """ids (L,) → (corrupted ids (L,), labels (L,) with -100 where not chosen)."""
        maskable = ~np.isin(ids, np.fromiter(self.special, dtype=np.int64, count=len(self.special)))
        chosen = self.choose(maskable, word_starts, entities, rng)
        labels = np.full(len(ids), IGNORE, dtype=np.int64)
        labels[chosen] = ids[chosen]
        corrupted = ids.copy()
        draw = rng.random(len(ids))
        to_mask = chosen & (draw < self.config.mask_prob)
        to_random = chosen & (draw >= self.config.mask_prob) & (draw < self.config.mask_prob + self.config.random_prob)
        corrupted[to_mask] = self.mask_id
        corrupted[to_random] = rng.choice(self.replacements, size=int(to_random.sum()))
        return corrupted, labels

    def choose(self, maskable: np.ndarray, word_starts: np.ndarray, entities: list[tuple[int, int]],
               rng: np.random.Generator) -> np.ndarray:
        """(L,) bool: the positions to predict."""
        n = int(maskable.sum())
        chosen = np.zeros(len(maskable), dtype=bool)
        if n == 0:
            return chosen
        budget = max(1, round(self.config.rate * n))
        if self.config.max_predictions is not None:
            budget = min(budget, self.config.max_predictions)
        words = _words(maskable, word_starts)  # list of index arrays, one per maskable word
        strategy = self.config.strategy
        if strategy == "token":
            units = [np.array([i]) for i in np.flatnonzero(maskable)]
        elif strategy == "whole_word":
            units = words
        elif strategy == "span":
            units = self._spans(words, budget, rng)
        elif strategy == "ngram":
            units = self._ngrams(words, budget, rng)
        else:
            spans = [np.arange(a, b) for a, b in entities if b > a and maskable[a:b].all()]
            order = rng.permutation(len(spans))
            taken = _take([spans[i] for i in order], budget, chosen)
            units = words if taken < budget else []
        _take([units[i] for i in rng.permutation(len(units))], budget, chosen)
        if not chosen.any() and words:  # every unit overshoots (one long word, tiny budget): take the shortest
            chosen[min(words, key=len)] = True
        return chosen

    def _spans(self, words: list[np.ndarray], budget: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Random word spans (SpanBERT), sampled until they cover the budget or words run out."""
        units, used, covered = [], np.zeros(len(words), dtype=bool), 0
        for _ in range(4 * len(words)):  # bounded: dense sampling can keep hitting used words
            if covered >= budget or used.all():
                break
            length = min(int(rng.geometric(self.config.span_p)), self.config.max_span, len(words))
            start = int(rng.integers(0, len(words) - length + 1))
            if used[start:start + length].any():
                continue
            unit = np.concatenate(words[start:start + length])
            if covered + len(unit) > budget and covered > 0:
                continue  # rejected: its words stay free for a later, shorter span
            used[start:start + length] = True
            units.append(unit)
            covered += len(unit)
        return units

    def _ngrams(self, words: list[np.ndarray], budget: int, rng: np.random.Generator) -> list[np.ndarray]:
        """ALBERT's n-gram units (lists of positions), disjoint and within the budget together: for each
        start word in random order, n ~ p(n) ∝ 1/n over the words left, shortened while it overshoots."""
        units, used, covered = [], np.zeros(len(words), dtype=bool), 0
        for start in rng.permutation(len(words)):
            if covered >= budget:
                break
            n = ngram_length(rng, self.config.max_n, len(words) - int(start))
            unit = np.concatenate(words[start:start + n])
            while covered + len(unit) > budget and n > 1:  # ALBERT: try shorter n-grams before giving up
                n -= 1
                unit = np.concatenate(words[start:start + n])
            if covered + len(unit) > budget or used[start:start + n].any():
                continue
            used[start:start + n] = True
            units.append(unit)
            covered += len(unit)
        return units


def ngram_probabilities(max_n: int) -> np.ndarray:
    """(max_n,) p(n) ∝ 1/n for n = 1..max_n (ALBERT: 6/11, 3/11, 2/11 at max_n = 3)."""
    weights = 1.0 / np.arange(1, max_n + 1)
    return weights / weights.sum()


def ngram_length(rng: np.random.Generator, max_n: int, available: int) -> int:
    """One n-gram length: n ~ p(n) ∝ 1/n over n <= min(max_n, available), renormalised (ALBERT)."""
    p = ngram_probabilities(max(1, min(max_n, available)))
    return int(rng.choice(len(p), p=p)) + 1


def _words(maskable: np.ndarray, word_starts: np.ndarray) -> list[np.ndarray]:
    """Maskable positions grouped into words: a new word at each word start or after a non-maskable token."""
    positions = np.flatnonzero(maskable)
    if len(positions) == 0:
        return []
    breaks = word_starts[positions].copy()
    breaks[0] = True
    breaks[1:] |= np.diff(positions) != 1
    return np.split(positions, np.flatnonzero(breaks)[1:])


def _take(units: list[np.ndarray], budget: int, chosen: np.ndarray) -> int:
    """Mark units in order while they fit the budget (skipping ones that overshoot); return the count."""
    count = int(chosen.sum())
    for unit in units:
        if count >= budget:
            break
        fresh = unit[~chosen[unit]]
        if len(fresh) == 0 or count + len(fresh) > budget:
            continue
        chosen[fresh] = True
        count += len(fresh)
    return count
