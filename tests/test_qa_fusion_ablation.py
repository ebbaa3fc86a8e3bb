"""scripts/qa_fusion_ablation.py: the fused run and its control differ only in the fusion, and the report renders."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ablation():
    spec = importlib.util.spec_from_file_location("qa_fusion_ablation", ROOT / "scripts" / "qa_fusion_ablation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("qa_fusion_ablation", module)
    spec.loader.exec_module(module)
    return module


def test_fused_and_control_runs_differ_only_in_the_fusion(ablation, tmp_path, monkeypatch):
    monkeypatch.setenv("KGNLU_HOME", str(tmp_path))
    fused = yaml.safe_load(ablation.pretrain_config("fused", 120).read_text())
    control = yaml.safe_load(ablation.pretrain_config("control", 120).read_text())
    for config, name in ((fused, "fused"), (control, "control")):
        assert config["out_dir"] == str(tmp_path / "ablation" / "runs" / name)  # outside the repository
        assert config["trainer"]["max_steps"] == 120 and config["trainer"]["warmup_steps"] == 12
    assert fused["fusion"]["inject"] and not control["fusion"]["inject"]
    assert fused["fusion"]["entity_table"].endswith("embeddings/ablation-transe")  # this script's table
    strip = lambda c: {**c, "name": None, "out_dir": None,  # noqa: E731
                       "fusion": {k: v for k, v in c["fusion"].items() if k not in ("inject", "entity_table")}}
    assert strip(fused) == strip(control)  # same corpus, masks, seed, steps and schedule


def test_report_shows_every_encoder_and_the_commands(ablation):
    metrics = {"questions": 4, "hits@1": 0.5, "hits@5": 0.75, "mrr": 0.6,
               "by_hops": {"1": {"questions": 3, "hits@1": 2 / 3}, "2": {"questions": 1, "hits@1": 0.0}}}
    pretraining = {"config": "c.yaml", "run": "runs/x", "steps": 1000, "train_seconds": 1260.0,
                   "trainable_parameters": 5_650_000, "final_mlm_accuracy": 0.25}
    models = {name: {"command": f"kgnlu qa train G --out {name}", "training": {"seconds": 60.0, "dev": {
        "hits@1_with_gnn": 0.4, "hits@1_without_gnn": 0.5}}, "natural_default_dev": metrics,
        "pretraining": None if name == "minilm" else pretraining} for name in ablation.ENCODERS}
    result = {"note": "PRELIMINARY", "scored_on": {"set": "kgnlu/eval/natural/default_qa.jsonl", "split": "dev"},
              "graph": {"name": "default"}, "qa_options": {"overrides": ["qa.epochs=1"], "config": None},
              "data": {"path": "/tmp/qa"}, "command": "python scripts/qa_fusion_ablation.py qa --data /tmp/qa",
              "models": models}
    text = ablation.markdown(result)
    assert "**PRELIMINARY**" in text and "dev split only (4 questions" in text and "qa.epochs=1" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "0.500" in line]
    assert len(rows) == 3 and all("0.667 (3)" in row and "| 0.500 |" in row for row in rows)
    assert all(f"kgnlu qa train G --out {name}" in text for name in ablation.ENCODERS)
    assert "1000 steps in 21.0 min" in text
