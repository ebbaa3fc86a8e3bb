"""``run_kge_training``: the ``kgnlu kge train`` job called as a library function."""

from __future__ import annotations

import copy

import pytest

from kgnlu.config import to_dict
from kgnlu.kge import ModelConfig, TrainConfig
from kgnlu.kge.job import run_kge_training
from kgnlu.kge.storage import load_embeddings


def test_run_kge_training_saves_with_provenance(kinships_graph, tmp_path):
    cfg = TrainConfig(model=ModelConfig("distmult", dim=8), epochs=2, eval_every=1, threads=1)
    before = copy.deepcopy(cfg)
    run = run_kge_training(cfg, graph=kinships_graph.path, name="job", checkpoint_dir=tmp_path / "ckpt")
    assert run.path == kinships_graph.path / "embeddings" / "job"
    assert cfg == before  # the caller's settings are left alone
    assert run.info["graph"] == kinships_graph.name and run.info["train"] == to_dict(cfg)
    assert run.info["epochs_run"] == 2 and run.info["world_size"] == 1 and run.info["text_init"] is False
    assert run.test is not None and 0 < run.test.mrr <= 1
    assert run.summary["path"] == str(run.path) and run.summary["test"]["mrr"] == pytest.approx(run.test.mrr)
    assert "side" not in run.summary["test"]
    assert (tmp_path / "ckpt").is_dir()
    stored = load_embeddings(kinships_graph.path, "job")
    assert stored.model_name == "distmult" and stored.config["epochs_run"] == 2
    assert stored.config["test"]["mrr"] == pytest.approx(run.test.mrr)
