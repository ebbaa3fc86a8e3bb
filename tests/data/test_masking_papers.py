"""Masking against the papers (issue 23): ELECTRA's mask-only generator input, ALBERT's n-gram
masking (p(n) ∝ 1/n), and the span masker leaving a rejected span's words free."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kgnlu.data.instances import IGNORE, InstanceConfig, Masker, MaskingConfig, PretrainingDataset
from kgnlu.data.instances.config import ELECTRA_MASK_PROB
from kgnlu.data.instances.masking import ngram_length, ngram_probabilities
from kgnlu.errors import ConfigError
from tests.data.test_instances import corpus, tokenizer  # noqa: F401  (fixtures)

SPECIAL = frozenset({0, 1, 2, 3})
MASK_ID = 3
VOCAB = 1000


def within_binomial(successes: int, trials: int, p: float, z: float = 4.5) -> bool:
    """|k - np| within z standard deviations of a Binomial(n, p)."""
    return abs(successes - trials * p) <= z * math.sqrt(trials * p * (1 - p))


# ---------------------------------------------------------------------- ELECTRA (official pretrain_helpers.mask)
def test_electra_mask_only_input_is_85_percent_mask_and_no_random_tokens():
    masking = InstanceConfig(kind="electra", masking=MaskingConfig(strategy="token")).effective_masking()
    assert (masking.mask_prob, masking.random_prob) == (ELECTRA_MASK_PROB, 0.0) == (0.85, 0.0)
    rng = np.random.default_rng(0)
    masker = Masker(masking, MASK_ID, VOCAB, SPECIAL)
    ids = rng.integers(4, VOCAB, size=200_000)
    corrupted, labels = masker(ids, np.ones(len(ids), bool), [], rng)
    chosen = labels != IGNORE
    n = int(chosen.sum())
    as_mask = int((corrupted[chosen] == MASK_ID).sum())
    unchanged = int((corrupted[chosen] == ids[chosen]).sum())
    assert as_mask + unchanged == n  # every chosen token is [MASK] or itself: no random replacement at all
    assert within_binomial(as_mask, n, 0.85)
    assert (corrupted[~chosen] == ids[~chosen]).all()


def test_electra_builder_applies_the_generator_input(corpus, tokenizer):  # noqa: F811
    def shares(generator_input: str) -> tuple[int, int, int]:
        config = InstanceConfig(kind="electra", max_length=32, shuffle_buffer=1, generator_input=generator_input,
                                masking=MaskingConfig(strategy="token"))
        masked = kept = other = 0
        for epoch in range(12):
            dataset = PretrainingDataset(corpus, tokenizer, config)
            dataset.set_epoch(epoch)
            for instance in dataset.unshuffled():
                chosen = instance["labels"] != IGNORE
                shown = instance["input_ids"][chosen]
                masked += int((shown == dataset.special.mask).sum())
                kept += int((shown == instance["labels"][chosen]).sum())
                other += int(((shown != dataset.special.mask) & (shown != instance["labels"][chosen])).sum())
        return masked, kept, other

    masked, kept, other = shares("mask_only")
    assert other == 0 and within_binomial(masked, masked + kept, 0.85)
    masked, kept, other = shares("bert_80_10_10")  # the previous behaviour, still available by name
    total = masked + kept + other
    assert total > 1000 and within_binomial(masked, total, 0.8) and other > 0.05 * total


def test_electra_generator_input_is_validated():
    with pytest.raises(ConfigError, match="bert_80_10_10"):  # a custom mix needs the BERT-style option
        InstanceConfig(kind="electra", masking=MaskingConfig(mask_prob=0.9, random_prob=0.0))
    assert InstanceConfig(kind="electra", generator_input="bert_80_10_10",
                          masking=MaskingConfig(mask_prob=0.9, random_prob=0.0)).effective_masking().mask_prob == 0.9
    with pytest.raises(ConfigError, match="generator_input"):
        InstanceConfig(kind="electra", generator_input="mask")
    # other kinds keep BERT's corruption whatever generator_input says
    assert InstanceConfig(kind="mlm").effective_masking() == MaskingConfig()


# ---------------------------------------------------------------------- ALBERT n-gram masking
def test_ngram_probabilities_are_one_over_n():
    assert ngram_probabilities(3) == pytest.approx([6 / 11, 3 / 11, 2 / 11])  # (1, 1/2, 1/3) / (11/6)
    rng = np.random.default_rng(0)
    draws = np.array([ngram_length(rng, 3, 10) for _ in range(30_000)])
    for n, p in zip((1, 2, 3), (6 / 11, 3 / 11, 2 / 11), strict=True):
        assert within_binomial(int((draws == n).sum()), len(draws), p)
    # two words left: p renormalised over n <= 2, i.e. (1, 1/2) / (3/2) = (2/3, 1/3), as ALBERT's code does
    near_end = np.array([ngram_length(rng, 3, 2) for _ in range(20_000)])
    assert near_end.max() == 2 and within_binomial(int((near_end == 1).sum()), len(near_end), 2 / 3)


def test_ngram_masking_takes_whole_word_ngrams_up_to_three_words():
    # 60 words: word w has pieces [3w+4, 3w+5] (a start piece and a "##" piece), then one special token
    ids = np.arange(4, 4 + 120)
    starts = np.tile([True, False], 60)
    masker = Masker(MaskingConfig(rate=0.3, strategy="ngram"), MASK_ID, VOCAB, SPECIAL)
    lengths = []
    for seed in range(300):
        rng = np.random.default_rng(seed)
        chosen = masker.choose(np.ones(len(ids), bool), starts, [], rng)
        assert chosen.sum() <= 36  # round(0.3 · 120): never over the budget
        words = chosen.reshape(60, 2)
        assert (words[:, 0] == words[:, 1]).all()  # whole words only
        # runs of consecutive chosen words: each unit is 1-3 words, and touching units merge into a run
        padded = np.concatenate([[False], words[:, 0], [False]])
        edges = np.flatnonzero(np.diff(padded.astype(int)))
        lengths += list(edges[1::2] - edges[::2])
    assert min(lengths) >= 1 and any(length >= 2 for length in lengths)


# ---------------------------------------------------------------------- SpanBERT span masker
def test_a_rejected_span_leaves_its_words_free():
    # Seed 852 draws (geometric length, start) = (4, 2): words 2-5 taken (4 of the budget of 5);
    # then (3, 7): 4 + 3 > 5, rejected; then (1, 7): word 7 alone fits and is taken. Before the fix
    # the rejected span had marked words 7-9 used, so word 7 could not be taken.
    masker = Masker(MaskingConfig(rate=0.5, strategy="span"), MASK_ID, 50, SPECIAL)
    chosen = masker.choose(np.ones(10, bool), np.ones(10, bool), [], np.random.default_rng(852))
    assert np.flatnonzero(chosen).tolist() == [2, 3, 4, 5, 7]
