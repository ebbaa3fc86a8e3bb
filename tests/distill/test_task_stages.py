"""TinyBERT's task stage in the paper's order (augment → intermediate layers → prediction layer), and its config."""

import json

import pytest
import torch

from kgnlu.distill import StudentSpec, build_student
from kgnlu.distill.config import AugmentSpec, DistillConfig, TaskSpec
from kgnlu.distill.mlm_head import head_info, save_mlm_head
from kgnlu.distill.task import run_task_distillation
from kgnlu.encoders import Encoder
from kgnlu.encoders.heads import MaskedLMHead
from kgnlu.errors import ConfigError
from tests.encoders.conftest import tiny


def test_task_stage_runs_intermediate_then_prediction_on_the_augmented_set(tmp_path):
    from kgnlu.data.tokenizer import load_minilm_tokenizer

    tokenizer = load_minilm_tokenizer()
    torch.manual_seed(0)
    teacher = Encoder(tiny("bert", num_layers=2, vocab_size=tokenizer.vocab_size, hidden_dropout=0.0,
                           attention_dropout=0.0)).eval()
    head = MaskedLMHead(teacher.config, teacher)
    save_mlm_head(head, tmp_path / "head", head_info(teacher, "tiny", {}))
    student, _ = build_student(teacher, StudentSpec(num_layers=1, init="random"))
    spec = TaskSpec(finetune={"train_examples": 6, "test_examples": 4, "batch_size": 3},
                    intermediate_steps=2, prediction_steps=2,
                    augment=AugmentSpec(copies=2, candidates=3, neighbours="embedding", mlm_head=str(tmp_path / "head")))
    before = [p.detach().clone() for p in student.parameters()]
    result = run_task_distillation(teacher, student, tokenizer, spec, tmp_path / "task")
    assert [s["stage"] for s in result["stages"]] == ["augmentation", "intermediate", "prediction"]
    assert result["augmented_examples"] == 6 * (1 + 2)
    intermediate = result["stages"][1]["metrics"]
    assert {"embedding_loss", "hidden_loss", "attention_loss"} <= set(intermediate)
    assert "prediction_loss" in result["stages"][2]["metrics"]
    # the intermediate step trained the student's encoder before the prediction step started
    first = [json.loads(line) for line in (tmp_path / "task" / "intermediate" / "metrics.jsonl").read_text().splitlines()]
    second = (tmp_path / "task" / "student" / "metrics.jsonl").stat().st_mtime
    assert first and (tmp_path / "task" / "intermediate" / "metrics.jsonl").stat().st_mtime <= second
    assert any(not torch.equal(a, b) for a, b in zip(before, student.parameters(), strict=True))
    assert json.loads((tmp_path / "task" / "task_summary.json").read_text())["intermediate_steps"] == 2


def test_tinybert_defaults_are_the_papers():
    config = DistillConfig(method="tinybert")
    assert config.student.init == "random"  # general distillation from scratch
    assert config.attention_loss == "scores"
    spec = TaskSpec()
    assert (spec.augment.copies, spec.augment.p_replace, spec.augment.candidates) == (20, 0.4, 15)
    assert spec.intermediate_steps is None  # as many intermediate steps as prediction steps
    copied = DistillConfig(method="tinybert", student=StudentSpec(init="teacher_layers"))
    assert copied.student.init == "teacher"
    assert DistillConfig(method="distilbert", mlm_head="x").student.init == "auto"  # DistilBERT still copies


@pytest.mark.parametrize("bad", [{"attention_loss": "logits"}, {"task": {"augment": {"p_replace": 1.5}}},
                                 {"task": {"augment": {"candidates": 0}}}])
def test_bad_tinybert_settings_say_what_to_do(bad):
    from kgnlu.config import from_dict

    with pytest.raises(ConfigError):
        from_dict(DistillConfig, {"method": "tinybert", **bad}, "distill")


def test_the_faithful_config_loads():
    config = DistillConfig.load("configs/distill-tinybert-4layer.yaml")
    assert (config.student.num_layers, config.student.init, config.attention_loss) == (4, "random", "scores")
    assert config.task.augment.copies == 20 and config.task.intermediate_steps > 0
