"""Supersense classification: a WordNet gloss → the lexicographer file of its synset (45 classes).

A downstream task made of real labelled data that installs offline: each of WordNet's 117,659
synsets is filed by a lexicographer into one of 45 files (``noun.animal``, ``verb.motion``,
``adj.all`` ...), and its gloss is a one-sentence definition written by hand. Every encoder is
fine-tuned here with one fixed recipe, so the score compares the pretraining, not the tuning.

    splits = supersense_splits(seed=0)                       # split by synset, deterministic
    report = finetune_supersense(encoder, tokenizer, splits, FinetuneConfig())
    report["accuracy"], report["macro_f1"]
    probe = probe_supersense(encoder, tokenizer, splits, SupersenseProbeConfig())   # frozen encoder, linear probe

Choices, and why:

- Text = the definition only (the gloss before its quoted examples), as written. Examples repeat
  the lemma in use and are absent for most synsets; definitions are the one field every synset has.
- Label = index into :data:`LABELS` (WordNet's ``lex_filenum``, so the 45 names of lexnames(5WN)).
- Split by synset: one synset is one example, so no synset is on both sides; a seeded shuffle of
  all synsets puts ``test_fraction`` in test and ``dev_fraction`` in dev (held out; the fixed
  recipe is never tuned on test).
- The recipe (:class:`FinetuneConfig`) is a subsample sized for a 2-core CPU budget: the first
  ``train_examples`` of the shuffled train split and the first ``test_examples`` of test.
- Head: mean of the last hidden states over real tokens (every shape has them: ELECTRA and GPT-2
  have no pooler, and a causal model's first token sees nothing) → dropout → linear over 45 labels.
  The whole encoder is fine-tuned with AdamW through :class:`kgnlu.train.Trainer`, on a copy, so
  the caller's encoder is left as it was.
- Frozen probe (:func:`probe_supersense`): the same mean-pooled features from the frozen encoder,
  standardised, then a multinomial logistic regression fit to convergence (full-batch L-BFGS,
  L2 penalty). Forward passes only, so it costs a fraction of fine-tuning, and it has no
  optimisation budget to run out of: it reads what pretraining put into the representations.
"""

from __future__ import annotations

import copy
import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from kgnlu.errors import ConfigError, DataMissingError
from kgnlu.kg.sources.wordnet_format import LEXNAMES, read_synsets, split_gloss
from kgnlu.train import Trainer, TrainerConfig

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


class SupersenseClassifier(nn.Module):
    """Encoder → mean over real tokens (B, H) → dropout → linear (B, 45); returns the Trainer's mapping."""

    def __init__(self, encoder: nn.Module, num_labels: int = len(LABELS), dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)
        nn.init.normal_(self.classifier.weight, std=0.02)
        nn.init.zeros_(self.classifier.bias)
        self.use_token_types = getattr(encoder.config, "type_vocab_size", 2) > 0

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
               token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        types = token_type_ids if self.use_token_types else None
        hidden = self.encoder(input_ids, attention_mask, types).last_hidden_state  # (B, S, H)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, S, 1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, H)
        return self.classifier(self.dropout(pooled))  # (B, C)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.logits(input_ids, attention_mask, token_type_ids)
        loss = F.cross_entropy(logits.float(), labels)
        return {"loss": loss, "accuracy": (logits.detach().argmax(-1) == labels).float().mean()}


class _Collate:
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


@torch.no_grad()
def predict(model: SupersenseClassifier, tokenizer: Any, examples: Sequence[SupersenseExample], max_length: int,
            batch_size: int = 128) -> list[int]:
    model.eval()
    device = next(model.parameters()).device
    collate = _Collate(tokenizer, max_length)
    out: list[int] = []
    for start in range(0, len(examples), batch_size):
        batch = {k: v.to(device) for k, v in collate(examples[start:start + batch_size]).items()}
        out.extend(model.logits(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).argmax(-1).tolist())
    return out


def finetune_supersense(encoder: nn.Module, tokenizer: Any, splits: SupersenseSplits,
                        config: FinetuneConfig | None = None) -> dict[str, Any]:
    """Fine-tune a copy of ``encoder`` on the train split with the fixed recipe; score the test split."""
    config = config or FinetuneConfig()
    train = splits.train[:config.train_examples]
    test = splits.test[:config.test_examples]
    if not train or not test:
        raise ConfigError(f"supersense needs train and test examples (got {len(train)}, {len(test)})")
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    model = SupersenseClassifier(copy.deepcopy(encoder), len(LABELS), config.head_dropout)
    loader = DataLoader(train, batch_size=config.batch_size, shuffle=True, collate_fn=_Collate(tokenizer, config.max_length))
    steps = config.epochs * math.ceil(len(train) / config.batch_size)
    with tempfile.TemporaryDirectory(prefix="kgnlu-supersense-") as tmp:
        trainer_config = TrainerConfig(
            out_dir=tmp, max_steps=steps, lr=config.lr, weight_decay=config.weight_decay, schedule="linear",
            warmup_steps=round(config.warmup_ratio * steps), log_every=max(1, steps // 10), checkpoint_every=0,
            resume=False, tensorboard=False, plot=False, seed=config.seed, device=config.device)
        result = Trainer(model, trainer_config, loader).fit()
    predicted = predict(model, tokenizer, test, config.max_length)
    gold = [e.label for e in test]
    majority = Counter(e.label for e in train).most_common(1)[0][0]
    return {
        "accuracy": sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold),
        "macro_f1": macro_f1(gold, predicted),
        "majority_baseline": sum(g == majority for g in gold) / len(gold),  # always the commonest train label
        "train_examples": len(train), "test_examples": len(test), "steps": steps,
        "final_train_loss": result.train_metrics.get("loss"), "seconds": round(time.perf_counter() - start, 2),
        "recipe": {k: getattr(config, k) for k in ("epochs", "batch_size", "lr", "weight_decay", "warmup_ratio",
                                                   "max_length", "head_dropout", "seed")},
    }


@dataclass
class SupersenseProbeConfig:
    """The frozen-probe recipe: mean-pooled features of the frozen encoder → logistic regression."""

    train_examples: int | None = 4000  # as FinetuneConfig: first N of the shuffled train split
    test_examples: int | None = 2000
    max_length: int = 64
    l2: float = 1e-3  # weight of ½‖W‖² against the mean cross-entropy (features are standardised)
    max_iterations: int = 300  # L-BFGS iterations; the convex fit has converged well before on 4k × 256
    batch_size: int = 128  # encoding batch (no gradients)

    def __post_init__(self) -> None:
        for name in ("train_examples", "test_examples"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"SupersenseProbeConfig.{name} must be a positive integer or None, got {value!r}")
        for name in ("max_length", "max_iterations", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"SupersenseProbeConfig.{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.l2 < 0:
            raise ConfigError(f"SupersenseProbeConfig.l2 must be >= 0, got {self.l2}")


@torch.no_grad()
def encode_mean(encoder: nn.Module, tokenizer: Any, examples: Sequence[SupersenseExample], max_length: int,
                batch_size: int = 128) -> torch.Tensor:
    """(N, H) mean of the last hidden states over real tokens, encoder in eval mode."""
    pooler = SupersenseClassifier(encoder, len(LABELS), 0.0)
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    collate, rows = _Collate(tokenizer, max_length), []
    for start in range(0, len(examples), batch_size):
        batch = {k: v.to(device) for k, v in collate(examples[start:start + batch_size]).items()}
        types = batch["token_type_ids"] if pooler.use_token_types else None
        hidden = encoder(batch["input_ids"], batch["attention_mask"], types).last_hidden_state  # (B, S, H)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        rows.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)).float().cpu())
    encoder.train(was_training)
    return torch.cat(rows)


def probe_supersense(encoder: nn.Module, tokenizer: Any, splits: SupersenseSplits,
                     config: SupersenseProbeConfig | None = None) -> dict[str, Any]:
    """Frozen-encoder linear probe: features of train and test, logistic regression, test accuracy."""
    config = config or SupersenseProbeConfig()
    train = splits.train[:config.train_examples]
    test = splits.test[:config.test_examples]
    if not train or not test:
        raise ConfigError(f"supersense needs train and test examples (got {len(train)}, {len(test)})")
    start = time.perf_counter()
    x_train = encode_mean(encoder, tokenizer, train, config.max_length, config.batch_size)  # (N, H)
    x_test = encode_mean(encoder, tokenizer, test, config.max_length, config.batch_size)
    mean, std = x_train.mean(0), x_train.std(0).clamp(min=1e-6)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    y_train = torch.tensor([e.label for e in train])
    generator = torch.Generator().manual_seed(0)
    weight = (torch.randn(x_train.shape[1], len(LABELS), generator=generator) * 0.01).requires_grad_()
    bias = torch.zeros(len(LABELS), requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=config.max_iterations,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-6, tolerance_change=1e-9)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(x_train @ weight + bias, y_train) + 0.5 * config.l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        final_loss = float(F.cross_entropy(x_train @ weight + bias, y_train))
        predicted = (x_test @ weight + bias).argmax(-1).tolist()
    gold = [e.label for e in test]
    majority = Counter(e.label for e in train).most_common(1)[0][0]
    return {"accuracy": sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold),
            "macro_f1": macro_f1(gold, predicted),
            "majority_baseline": sum(g == majority for g in gold) / len(gold),
            "train_examples": len(train), "test_examples": len(test), "final_train_loss": final_loss,
            "seconds": round(time.perf_counter() - start, 2),
            "recipe": {k: getattr(config, k) for k in ("max_length", "l2", "max_iterations")}}
