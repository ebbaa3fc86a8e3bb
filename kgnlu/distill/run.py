"""A distillation job from one config: teacher → student → Trainer → ``out_dir/student``.

    config = DistillConfig.load("configs/distill-3layer.yaml")
    summary = run_distillation(config)     # out_dir: student/, checkpoints/, metrics.jsonl, summary.json

The data pipeline is pretraining's (a corpus from ``kgnlu.data.corpora`` → MLM instances →
collator), tokenized with the teacher's tokenizer. ``mlm_head`` jobs write ``out_dir/mlm_head``;
``distilbert`` and ``tinybert`` jobs write the student (encoder + tokenizer + ``distill.json``,
:func:`~kgnlu.distill.student.save_student`), and a ``tinybert`` job with a ``task`` section also
runs task-specific distillation and writes ``out_dir/task/`` (:mod:`kgnlu.distill.task`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from kgnlu.config import save_config, to_dict
from kgnlu.data.corpora import open_corpus
from kgnlu.data.instances import PretrainingCollator, PretrainingDataset
from kgnlu.distill.config import DistillConfig
from kgnlu.distill.distilbert import DistilBertDistiller
from kgnlu.distill.mlm_head import head_info, load_mlm_head, save_mlm_head
from kgnlu.distill.student import build_student, save_student
from kgnlu.distill.teacher import load_teacher, load_tokenizer
from kgnlu.distill.tinybert import TinyBertDistiller
from kgnlu.encoders.objectives.model import PretrainingModel
from kgnlu.io import atomic_write
from kgnlu.pretrain.config import LimitedCorpus
from kgnlu.training import distributed as dist
from kgnlu.training.trainer import Trainer


def build_loader(config: DistillConfig, tokenizer) -> DataLoader:
    """MLM instances from the config's corpus (pretraining's pipeline, unchanged), or — with a
    ``linked`` corpus — fusion's linked sequences with their ``entity_*`` tensors."""
    data = config.data
    if config.linked.corpus:
        from kgnlu.config import from_dict
        from kgnlu.fusion.data import FusionCollator, FusionDataConfig, LinkedDataset
        from kgnlu.kg import KnowledgeGraph
        from kgnlu.pretrain.fused import entity_rows

        linked = from_dict(FusionDataConfig, config.linked.data, "linked.data")
        graph = KnowledgeGraph.load(Path(config.linked.graph).expanduser(), verify=False)
        dataset = LinkedDataset(Path(config.linked.corpus).expanduser(), tokenizer, linked, limit=data.max_documents)
        return DataLoader(dataset, batch_size=data.batch_size, num_workers=data.num_workers,
                          collate_fn=FusionCollator(tokenizer, entity_rows(graph), linked))
    corpus = LimitedCorpus(open_corpus(data.corpus, **data.corpus_options), data.max_documents)
    dataset = PretrainingDataset(corpus, tokenizer, data.instances)
    return DataLoader(dataset, batch_size=data.batch_size, num_workers=data.num_workers,
                      collate_fn=PretrainingCollator(dataset.special.pad, data.pad_to_multiple_of))


def make_student(teacher: nn.Module, config: DistillConfig) -> tuple[nn.Module, list[int] | None, dict[int, str]]:
    """(student, teacher layers copied into it, its injection map) — KG-fused teachers keep or drop injections."""
    torch.manual_seed(config.trainer.seed)  # fresh weights (heads, projections, narrow students) follow the seed
    if getattr(teacher, "accepts_entities", False):
        from kgnlu.distill.kg_student import build_kg_student

        return build_kg_student(teacher, config.student)
    student, copied = build_student(teacher, config.student)
    return student, copied, {}


def build_model(config: DistillConfig, teacher: nn.Module) -> tuple[nn.Module, dict[str, Any]]:
    """The Trainer module for ``config.method`` and what to record about its student."""
    if config.method == "mlm_head":
        return PretrainingModel(teacher, {"mlm": 1.0}), {}
    student, copied, injections = make_student(teacher, config)
    info = {"init_layers": copied, "injections": {str(k): v for k, v in injections.items()}}
    if config.method == "distilbert":
        from kgnlu.distill.teacher import base_encoder

        head = load_mlm_head(config.mlm_head, base_encoder(teacher))
        model = DistilBertDistiller(teacher, head, student, config.losses, config.temperature)
        return model, info
    model = TinyBertDistiller(teacher, student, config.losses, config.layer_map, config.attention_loss)
    info["layer_map"] = model.layer_map
    return model, info


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def last_logged(run_dir: Path) -> dict[str, Any]:
    """The last train metrics in ``metrics.jsonl`` (a rerun of a finished run logs none of its own)."""
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return {}
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    train = [line for line in lines if line.get("split") == "train"]
    return {k: v for k, v in train[-1].items() if k not in ("step", "split")} if train else {}


def run_distillation(config: DistillConfig) -> dict[str, Any]:
    """Train and save; returns the run summary (also written to ``out_dir/summary.json``)."""
    start = time.perf_counter()
    run_dir = Path(config.out_dir)
    teacher = load_teacher(config.teacher)
    tokenizer = load_tokenizer(config.tokenizer, config.teacher)
    if tokenizer.vocab_size != teacher.config.vocab_size:
        from kgnlu.errors import DistillationError

        raise DistillationError(f"the tokenizer has {tokenizer.vocab_size} tokens, the teacher's vocabulary "
                                f"{teacher.config.vocab_size}; point tokenizer: at the teacher's own")
    model, info = build_model(config, teacher)
    loader = build_loader(config, tokenizer)
    if dist.is_main():
        save_config(to_dict(config), run_dir / "distill_config.yaml")
    trainer = Trainer(model, config.trainer, loader)
    train_start = time.perf_counter()
    result = trainer.fit()
    summary: dict[str, Any] = {
        "name": config.name, "method": config.method, "out_dir": str(run_dir), "teacher": config.teacher,
        "teacher_parameters": parameter_count(teacher), "steps": result.step,
        "train_seconds": round(time.perf_counter() - train_start, 3),
        "metrics": result.train_metrics or last_logged(run_dir)}
    if not dist.is_main():
        return summary
    if config.method == "mlm_head":
        head = model.objectives["mlm"].head
        summary["mlm_head"] = str(save_mlm_head(head, run_dir / "mlm_head",
                                                head_info(teacher, config.teacher, result.train_metrics)))
    else:
        student = model.student
        provenance = {"method": config.method, "teacher": config.teacher, "steps": result.step,
                      "losses": config.losses, "temperature": config.temperature, **info,
                      "student": to_dict(config.student)}
        summary["student"] = str(save_student(student, tokenizer, run_dir / "student", provenance))
        summary["student_parameters"] = parameter_count(student)
        summary.update(info)
        if config.task is not None:
            from kgnlu.distill.task import run_task_distillation

            summary["task"] = run_task_distillation(teacher, student, tokenizer, config.task, run_dir / "task",
                                                    config.losses, config.layer_map, config.attention_loss)
    summary["total_seconds"] = round(time.perf_counter() - start, 3)
    with atomic_write(run_dir / "summary.json") as f:
        f.write(json.dumps(summary, indent=2) + "\n")
    return summary
