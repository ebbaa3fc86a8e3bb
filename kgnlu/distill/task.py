"""TinyBERT's second stage on kgnlu's task: WordNet supersense classification (gloss → 45 labels).

1. The teacher's classifier (:class:`~kgnlu.encoders.classifier.SupersenseClassifier`: mean-pooled last
   hidden states → linear) is fine-tuned on gold labels with the task's fixed recipe, on a copy of
   the teacher (the frozen teacher is left as it was).
2. The student — after general distillation — gets a fresh classifier trained for the same number
   of steps on the same examples with the teacher classifier's logits as its only targets
   (:class:`~kgnlu.distill.tinybert.PredictionDistiller`; gold labels enter only through
   ``hard_weight``, 0 by default, as in TinyBERT).
3. Both are scored on the held-out test split (split by synset) with the task's own scorer.

Everything but the distillation step is the task's own, shared with :mod:`kgnlu.eval.supersense`:
splits, recipe, collation and macro F1 from :mod:`kgnlu.data.supersense`, classifier and prediction
from :mod:`kgnlu.encoders.classifier` (both below distill in the layers).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from kgnlu.config import from_dict
from kgnlu.distill.config import TaskSpec
from kgnlu.distill.tinybert import PredictionDistiller
from kgnlu.io import atomic_write
from kgnlu.progress import note
from kgnlu.training.trainer import Trainer, TrainerConfig


def _trainer_config(out_dir: Path, steps: int, lr: float, recipe) -> TrainerConfig:
    return TrainerConfig(out_dir=str(out_dir), max_steps=steps, lr=lr, weight_decay=recipe.weight_decay,
                         schedule="linear", warmup_steps=round(recipe.warmup_ratio * steps),
                         log_every=max(1, steps // 10), checkpoint_every=0, resume=False, tensorboard=False,
                         seed=recipe.seed, device=recipe.device)


def task_steps(recipe, train_examples: int, spec: TaskSpec) -> int:
    """Steps of each task stage: the recipe's epochs over the train examples, at most
    ``spec.max_steps`` (``kgnlu distill --max-steps``)."""
    steps = recipe.epochs * math.ceil(train_examples / recipe.batch_size)
    return steps if spec.max_steps is None else max(1, min(steps, spec.max_steps))


def _score(classifier: nn.Module, tokenizer: Any, examples, max_length: int) -> dict[str, float]:
    from kgnlu.data.supersense import macro_f1
    from kgnlu.encoders.classifier import predict

    predicted = predict(classifier, tokenizer, examples, max_length)
    gold = [e.label for e in examples]
    return {"accuracy": sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold),
            "macro_f1": macro_f1(gold, predicted)}


def run_task_distillation(teacher: nn.Module, student: nn.Module, tokenizer: Any, spec: TaskSpec,
                          out_dir: str | Path) -> dict[str, Any]:
    """Fine-tune the teacher's classifier, distil it into the student's, score both on test."""
    from kgnlu.data.supersense import LABELS, FinetuneConfig, SupersenseCollate, supersense_splits
    from kgnlu.encoders.classifier import SupersenseClassifier

    out = Path(out_dir)
    recipe = from_dict(FinetuneConfig, spec.finetune, "task.finetune")
    splits = supersense_splits(seed=spec.seed)
    train, test = splits.train[:recipe.train_examples], splits.test[:recipe.test_examples]
    steps = task_steps(recipe, len(train), spec)

    def loader() -> DataLoader:
        torch.manual_seed(recipe.seed)  # the same shuffled batches for teacher and student
        return DataLoader(train, batch_size=recipe.batch_size, shuffle=True,
                          collate_fn=SupersenseCollate(tokenizer, recipe.max_length))

    torch.manual_seed(recipe.seed)
    tuned = copy.deepcopy(teacher)
    for parameter in tuned.parameters():
        parameter.requires_grad_(True)
    teacher_classifier = SupersenseClassifier(tuned, len(LABELS), recipe.head_dropout)
    note(f"distill task stage: fine-tuning the teacher's {spec.name} classifier ({steps} steps), then "
         f"distilling it into the student's ({steps} steps)")
    Trainer(teacher_classifier, _trainer_config(out / "teacher", steps, recipe.lr, recipe), loader()).fit()
    teacher_scores = _score(teacher_classifier, tokenizer, test, recipe.max_length)

    torch.manual_seed(recipe.seed)
    student_classifier = SupersenseClassifier(student, len(LABELS), recipe.head_dropout)
    distiller = PredictionDistiller(teacher_classifier, student_classifier, spec.temperature, spec.hard_weight)
    Trainer(distiller, _trainer_config(out / "student", steps, spec.student_lr, recipe), loader()).fit()
    student_scores = _score(student_classifier, tokenizer, test, recipe.max_length)
    result = {"task": spec.name, "train_examples": len(train), "test_examples": len(test), "steps": steps,
              "teacher": teacher_scores, "student": student_scores,
              "retained_accuracy": student_scores["accuracy"] / max(teacher_scores["accuracy"], 1e-9)}
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "task_summary.json") as f:
        f.write(json.dumps(result, indent=2) + "\n")
    return result
