"""TinyBERT's task-specific distillation on kgnlu's task: WordNet supersenses (gloss → 45 labels).

1. The teacher's classifier (:class:`~kgnlu.encoders.classifier.SupersenseClassifier`: mean-pooled last
   hidden states → linear) is fine-tuned on gold labels with the task's fixed recipe, on a copy of
   the teacher (the frozen teacher is left as it was).
2. The train examples are augmented (TinyBERT's Algorithm 1, :mod:`kgnlu.distill.augmentation`):
   the originals plus ``augment.copies`` (N_a) copies each.
3. Intermediate-layer distillation on the augmented examples: the general stage's losses
   (embedding, hidden states through W_e/W_h, attention scores) between the *fine-tuned* teacher
   encoder and the student (:class:`~kgnlu.distill.tinybert.TinyBertDistiller`).
4. Prediction-layer distillation on the augmented examples: the student's fresh classifier learns
   the teacher classifier's logits as its only targets
   (:class:`~kgnlu.distill.tinybert.PredictionDistiller`; gold labels enter only through
   ``hard_weight``, 0 by default, as in TinyBERT).
5. Both classifiers are scored on the held-out test split (split by synset) with the task's scorer.

Steps 3 and 4 are the paper's two steps in its order; ``intermediate_steps: 0`` and ``augment.copies: 0``
give kgnlu's earlier prediction-only stage. Everything but the distillation is the task's own,
shared with :mod:`kgnlu.eval.supersense`: splits, recipe, collation and macro F1 from
:mod:`kgnlu.data.supersense`, classifier and prediction from :mod:`kgnlu.encoders.classifier`.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from kgnlu.config import from_dict
from kgnlu.distill.config import TaskSpec
from kgnlu.distill.tinybert import PredictionDistiller, TinyBertDistiller
from kgnlu.io import atomic_write
from kgnlu.progress import note
from kgnlu.training.trainer import Trainer, TrainerConfig


def _trainer_config(out_dir: Path, steps: int, lr: float, recipe) -> TrainerConfig:
    return TrainerConfig(out_dir=str(out_dir), max_steps=steps, lr=lr, weight_decay=recipe.weight_decay,
                         schedule="linear", warmup_steps=round(recipe.warmup_ratio * steps),
                         log_every=max(1, steps // 10), checkpoint_every=0, resume=False, tensorboard=False,
                         seed=recipe.seed, device=recipe.device)


def task_steps(recipe, train_examples: int, spec: TaskSpec) -> int:
    """Steps of the teacher's fine-tuning and of prediction-layer distillation: the recipe's epochs
    over the (original) train examples, or ``spec.prediction_steps``; at most ``spec.max_steps``
    (``kgnlu distill --max-steps``)."""
    steps = recipe.epochs * math.ceil(train_examples / recipe.batch_size)
    return steps if spec.max_steps is None else max(1, min(steps, spec.max_steps))


def _cap(steps: int, spec: TaskSpec) -> int:
    return steps if spec.max_steps is None else min(steps, spec.max_steps)


class WithoutLabels:
    """A collate function minus ``labels``: intermediate-layer distillation reads text only (and
    :class:`TinyBertDistiller` would take class labels for MLM labels)."""

    def __init__(self, collate):
        self.collate = collate

    def __call__(self, examples) -> dict[str, torch.Tensor]:
        batch = self.collate(examples)
        batch.pop("labels")
        return batch


def augment(train: list, teacher: nn.Module, tokenizer: Any, spec: TaskSpec) -> list:
    """The train examples plus ``spec.augment.copies`` copies each (unchanged when copies is 0)."""
    aug = spec.augment
    if aug.copies == 0:
        return list(train)
    from kgnlu.distill.augmentation import CandidateSource, augment_examples
    from kgnlu.distill.mlm_head import load_mlm_head
    from kgnlu.distill.teacher import base_encoder

    encoder = base_encoder(teacher)
    head = load_mlm_head(aug.mlm_head, encoder).eval() if aug.mlm_head else None
    source = CandidateSource(tokenizer, encoder, head, aug.candidates, aug.neighbours)
    chosen = train if aug.max_examples is None else train[:aug.max_examples]
    note(f"distill task stage: augmenting {len(chosen)} of {len(train)} train examples × {aug.copies} copies "
         f"(p_t={aug.p_replace}, K={aug.candidates}, MLM {'head' if head is not None else 'off'}, {aug.neighbours})")
    return augment_examples(chosen, source, aug.copies, aug.p_replace, aug.seed) + list(train[len(chosen):])


def _score(classifier: nn.Module, tokenizer: Any, examples, max_length: int) -> dict[str, float]:
    from kgnlu.data.supersense import macro_f1
    from kgnlu.encoders.classifier import predict

    predicted = predict(classifier, tokenizer, examples, max_length)
    gold = [e.label for e in examples]
    return {"accuracy": sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold),
            "macro_f1": macro_f1(gold, predicted)}


def run_task_distillation(teacher: nn.Module, student: nn.Module, tokenizer: Any, spec: TaskSpec,
                          out_dir: str | Path, losses: Mapping[str, float] | None = None,
                          layer_map: list[int] | None = None, attention_loss: str = "scores") -> dict[str, Any]:
    """Fine-tune the teacher's classifier, augment, distil (intermediate layers, then prediction
    layer) into the student's, score both on test. ``losses``/``layer_map``/``attention_loss``:
    the general stage's, reused by the intermediate step (TinyBERT's defaults when None)."""
    from kgnlu.data.supersense import LABELS, FinetuneConfig, SupersenseCollate, supersense_splits
    from kgnlu.encoders.classifier import SupersenseClassifier

    out = Path(out_dir)
    recipe = from_dict(FinetuneConfig, spec.finetune, "task.finetune")
    splits = supersense_splits(seed=spec.seed)
    train, test = splits.train[:recipe.train_examples], splits.test[:recipe.test_examples]
    tune_steps = task_steps(recipe, len(train), spec)
    predict_steps = tune_steps if spec.prediction_steps is None else _cap(spec.prediction_steps, spec)
    middle_steps = predict_steps if spec.intermediate_steps is None else _cap(spec.intermediate_steps, spec)
    collate = SupersenseCollate(tokenizer, recipe.max_length)

    def loader(examples, collate_fn=collate) -> DataLoader:
        torch.manual_seed(recipe.seed)  # the same shuffled batches for teacher and student
        return DataLoader(examples, batch_size=recipe.batch_size, shuffle=True, collate_fn=collate_fn)

    torch.manual_seed(recipe.seed)
    tuned = copy.deepcopy(teacher)
    for parameter in tuned.parameters():
        parameter.requires_grad_(True)
    teacher_classifier = SupersenseClassifier(tuned, len(LABELS), recipe.head_dropout)
    note(f"distill task stage: fine-tuning the teacher's {spec.name} classifier ({tune_steps} steps), then "
         f"intermediate-layer ({middle_steps}) and prediction-layer ({predict_steps}) distillation")
    Trainer(teacher_classifier, _trainer_config(out / "teacher", tune_steps, recipe.lr, recipe), loader(train)).fit()
    teacher_scores = _score(teacher_classifier, tokenizer, test, recipe.max_length)

    start = time.perf_counter()
    augmented = augment(train, teacher, tokenizer, spec)
    stages = [{"stage": "augmentation", "examples": len(augmented), "seconds": round(time.perf_counter() - start, 1)}]

    weights = dict(losses) if losses is not None else {"embedding": 1.0, "hidden": 1.0, "attention": 1.0}
    if middle_steps > 0 and any(weights.values()):
        start = time.perf_counter()
        middle = TinyBertDistiller(tuned, student, weights, layer_map, attention_loss)
        result = Trainer(middle, _trainer_config(out / "intermediate", middle_steps, spec.intermediate_lr, recipe),
                         loader(augmented, WithoutLabels(collate))).fit()
        stages.append({"stage": "intermediate", "steps": result.step, "metrics": result.train_metrics,
                       "seconds": round(time.perf_counter() - start, 1)})

    start = time.perf_counter()
    torch.manual_seed(recipe.seed)
    student_classifier = SupersenseClassifier(student, len(LABELS), recipe.head_dropout)
    distiller = PredictionDistiller(teacher_classifier, student_classifier, spec.temperature, spec.hard_weight)
    result = Trainer(distiller, _trainer_config(out / "student", predict_steps, spec.student_lr, recipe),
                     loader(augmented)).fit()
    stages.append({"stage": "prediction", "steps": result.step, "metrics": result.train_metrics,
                   "seconds": round(time.perf_counter() - start, 1)})
    student_scores = _score(student_classifier, tokenizer, test, recipe.max_length)
    result = {"task": spec.name, "train_examples": len(train), "augmented_examples": len(augmented),
              "test_examples": len(test), "steps": predict_steps, "teacher_steps": tune_steps,
              "intermediate_steps": middle_steps, "stages": stages, "split": "test",
              "teacher": teacher_scores, "student": student_scores,
              "retained_accuracy": student_scores["accuracy"] / max(teacher_scores["accuracy"], 1e-9),
              "augmented_sample": [e.text for e in augmented[len(train):len(train) + 5]]}
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "task_summary.json") as f:
        f.write(json.dumps(result, indent=2) + "\n")
    return result
