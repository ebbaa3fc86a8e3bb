"""The supersense task's data: WordNet glosses labelled with their lexicographer file (45 classes).

The examples, the seeded split by synset, the batch collator, the task's fixed fine-tuning recipe
and its macro-F1 scorer live in the data layer so that both :mod:`kgnlu.eval.supersense` (the
evaluation) and :mod:`kgnlu.distill.task` (task distillation) use them without distill importing
eval; the classifier itself is :class:`kgnlu.encoders.classifier.SupersenseClassifier`. See
:mod:`kgnlu.eval.supersense` for the task's choices and why.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from kgnlu.errors import ConfigError, DataMissingError
from kgnlu.kg.sources.wordnet_format import LEXNAMES, read_synsets, split_gloss

DEFAULT_WORDNET = Path("/usr/share/wordnet")
LABELS: tuple[str, ...] = LEXNAMES  # label i is lexicographer file i


@dataclass(frozen=True, slots=True)
class SupersenseExample:
    synset: str  # wn:02084071-n
    text: str  # the definition
    label: int  # index into LABELS

    @property
    def lexname(self) -> str:
        return LABELS[self.label]


@dataclass(frozen=True)
class SupersenseSplits:
    train: list[SupersenseExample]
    dev: list[SupersenseExample]
    test: list[SupersenseExample]


def supersense_splits(wordnet_dir: str | Path | None = None, seed: int = 0, limit: int | None = None,
                      test_fraction: float = 0.1, dev_fraction: float = 0.05) -> SupersenseSplits:
    """All synsets with a definition, shuffled by ``seed`` and cut into train / dev / test.

    ``limit`` keeps a seeded random sample of that many synsets before splitting (tests, quick runs).
    """
    if not (0.0 < test_fraction < 1.0 and 0.0 <= dev_fraction < 1.0 and test_fraction + dev_fraction < 1.0):
        raise ConfigError(f"need 0 < test_fraction, 0 <= dev_fraction and their sum < 1 "
                          f"(got {test_fraction}, {dev_fraction})")
    if limit is not None and limit < 3:
        raise ConfigError(f"limit must be >= 3 (one example per split), got {limit}")
    directory = Path(wordnet_dir) if wordnet_dir is not None else DEFAULT_WORDNET
    if not all((directory / f"data.{pos}").is_file() for pos in ("noun", "verb", "adj", "adv")):
        raise DataMissingError(f"no WordNet data files in {directory}; install them with `sudo apt-get install "
                               "--no-install-recommends wordnet-base` or pass wordnet_dir=")
    examples = []
    for synset in read_synsets(directory):
        definition = split_gloss(synset.gloss)[0]
        if definition:
            examples.append(SupersenseExample(synset.id, definition, synset.lexfile))
    examples.sort(key=lambda e: e.synset)  # independent of file order before the seeded shuffle
    random.Random(seed).shuffle(examples)
    if limit is not None:
        examples = examples[:limit]
    n_test = max(1, round(test_fraction * len(examples)))
    n_dev = round(dev_fraction * len(examples))
    if n_test + n_dev >= len(examples):
        raise ConfigError(f"{len(examples)} synsets are too few for test_fraction {test_fraction} and "
                          f"dev_fraction {dev_fraction}")
    return SupersenseSplits(train=examples[n_test + n_dev:], dev=examples[n_test:n_test + n_dev],
                            test=examples[:n_test])


@dataclass
class FinetuneConfig:
    """The one fine-tuning recipe every model gets (sized for a shared 2-core CPU)."""

    train_examples: int | None = 4000  # first N of the shuffled train split; None = all (~100k)
    test_examples: int | None = 2000  # first N of the test split; None = all (~11.8k)
    epochs: int = 1
    batch_size: int = 32
    lr: float = 5e-4  # small models from short pretraining runs: BERT's 2e-5..5e-5 barely moves them
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_length: int = 64  # definitions are short: 99% of them fit
    head_dropout: float = 0.1
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("train_examples", "test_examples"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"FinetuneConfig.{name} must be a positive integer or None, got {value!r}")
        for name in ("epochs", "batch_size", "max_length"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"FinetuneConfig.{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.max_length < 4:
            raise ConfigError(f"FinetuneConfig.max_length must be >= 4, got {self.max_length}")
        if not self.lr > 0 or self.weight_decay < 0:
            raise ConfigError(f"FinetuneConfig needs lr > 0 and weight_decay >= 0 (got {self.lr}, {self.weight_decay})")
        if not 0.0 <= self.warmup_ratio < 1.0 or not 0.0 <= self.head_dropout < 1.0:
            raise ConfigError("FinetuneConfig.warmup_ratio and head_dropout must be in [0, 1)")


class SupersenseCollate:
    """Examples → the tokenized batch with ``labels`` (B,) that :class:`SupersenseClassifier` takes."""

    def __init__(self, tokenizer: Any, max_length: int):
        self.tokenizer, self.max_length = tokenizer, max_length

    def __call__(self, examples: Sequence[SupersenseExample]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer.encode_batch([e.text for e in examples], max_length=self.max_length)
        return {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask,
                "token_type_ids": batch.token_type_ids,
                "labels": torch.tensor([e.label for e in examples], dtype=torch.long)}


def macro_f1(gold: Sequence[int], predicted: Sequence[int]) -> float:
    """Unweighted mean of per-label F1 over the labels that occur in ``gold``."""
    labels = sorted(set(gold))
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


