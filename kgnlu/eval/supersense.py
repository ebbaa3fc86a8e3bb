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
  The whole encoder is fine-tuned with AdamW through :class:`kgnlu.training.trainer.Trainer`, on a copy, so
  the caller's encoder is left as it was.
- Frozen probe (:func:`probe_supersense`): the same mean-pooled features from the frozen encoder,
  standardised, then a multinomial logistic regression fit to convergence (full-batch L-BFGS,
  L2 penalty). Forward passes only, so it costs a fraction of fine-tuning, and it has no
  optimisation budget to run out of: it reads what pretraining put into the representations.
"""

from __future__ import annotations

import copy
import math
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

# The task's data, recipe, scorer and classifier live below distill (which fine-tunes on them too);
# re-exported here, where the evaluation has always offered them.
from kgnlu.data.supersense import (  # noqa: F401
    DEFAULT_WORDNET,
    LABELS,
    FinetuneConfig,
    SupersenseExample,
    SupersenseSplits,
    macro_f1,
    supersense_splits,
)
from kgnlu.data.supersense import SupersenseCollate as _Collate
from kgnlu.encoders.classifier import SupersenseClassifier, predict
from kgnlu.errors import ConfigError
from kgnlu.training.trainer import Trainer, TrainerConfig


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
