"""Embeddings beside the graph, faiss similarity, the CLI, and DDP under torchrun."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from kgnlu.cli import main
from kgnlu.kge import KGEData, LossConfig, ModelConfig, TrainConfig, evaluate, train
from kgnlu.kge.similarity import similar
from kgnlu.kge.storage import list_embeddings, load_embeddings, save_embeddings


def test_save_load_roundtrip_and_similar(kinships_graph):
    data = KGEData.from_graph(kinships_graph)
    result = train(data, TrainConfig(model=ModelConfig("complex", dim=8), epochs=1, threads=1,
                                     loss=LossConfig("softplus")))
    path = save_embeddings(result.model, kinships_graph.path, "tiny", {"note": "test"})
    assert path == kinships_graph.path / "embeddings" / "tiny"
    assert "tiny" in list_embeddings(kinships_graph.path)
    stored = load_embeddings(kinships_graph.path, "tiny")
    assert stored.entity.shape == (kinships_graph.num_entities, 16)
    assert stored.config["note"] == "test" and stored.model_name == "complex"
    reloaded = stored.to_model()
    assert evaluate(reloaded, data).mrr == pytest.approx(evaluate(result.model, data).mrr)
    hits = similar(kinships_graph, 0, k=5, name="tiny")
    assert len(hits) == 5 and all(e != 0 for e, _ in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # brute-force cosine agrees with the faiss index
    x = torch.nn.functional.normalize(stored.entity, dim=1)
    sims = x @ x[0]
    sims[0] = -2
    assert hits[0][0] == int(sims.argmax())
    assert (path / "index.faiss").is_file()
    # the query by external id (what the removed KnowledgeGraph.similar() took) finds the same
    assert similar(kinships_graph, kinships_graph.entity_id(0), k=5, name="tiny") == hits
    assert not hasattr(kinships_graph, "similar")  # graph layer no longer reaches up into kge


def test_cli_train_eval_similar(kinships_graph, capsys):
    g = str(kinships_graph.path)
    assert main(["kge", "train", g, "--model", "rotate", "--dim", "8", "--epochs", "2", "--name", "cli",
                 "--eval-every", "1", "--checkpoint-every", "1", "--adversarial", "threads=1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["epochs_run"] == 2 and 0 < summary["test"]["mrr"] <= 1
    assert main(["kge", "train", g, "--model", "rotate", "--dim", "8", "--epochs", "3", "--name", "cli",
                 "--checkpoint-every", "1", "--resume", "threads=1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["epochs_run"] == 3
    assert main(["kge", "eval", g, "--name", "cli", "--json"]) == 0
    ev = json.loads(capsys.readouterr().out.strip())
    assert set(ev) >= {"mrr", "hits@1", "hits@3", "hits@10"}
    assert main(["kge", "similar", g, kinships_graph.entity_id(0), "-k", "3", "--name", "cli", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out.strip())) == 3
    assert main(["kge", "train", g, "--model", "nosuch"]) == 2  # UnknownNameError → exit 2


def test_cli_config_file(kinships_graph, tmp_path, capsys):
    cfg = tmp_path / "kge.yaml"
    cfg.write_text("model: {name: transe, dim: 8, p: 1}\nloss: {name: margin, margin: 1.0}\nepochs: 1\nthreads: 1\n")
    assert main(["kge", "train", str(kinships_graph.path), "--config", str(cfg), "--name", "yaml", "lr=0.01",
                 "--json"]) == 0
    stored = load_embeddings(kinships_graph.path, "yaml")
    assert stored.config["train"]["lr"] == 0.01 and stored.config["model"]["name"] == "transe"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ddp_two_gloo_processes(kinships_graph):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1",
           "KGNLU_PROGRESS": "0"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "kgnlu.cli", "kge", "train", str(kinships_graph.path),
           "--model", "distmult", "--dim", "8", "--epochs", "2", "--name", "ddp", "--loss", "softplus",
           "--eval-every", "1", "--device", "cpu", "--json"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stored = load_embeddings(kinships_graph.path, "ddp")
    assert stored.config["world_size"] == 2
    assert stored.config["epochs_run"] == 2 and stored.config["test"]["mrr"] > 0


def test_inverse_relations_roundtrip(kinships_graph):
    # the stored relation table has 2R rows; reloading must rebuild R relations, not 2R
    data = KGEData.from_graph(kinships_graph)
    model_config = ModelConfig("transe", dim=8, p=1, normalize_entities=False, inverse_relations=True)
    result = train(data, TrainConfig(model=model_config, mode="1-n", loss=LossConfig("ce"), epochs=1, threads=1))
    save_embeddings(result.model, kinships_graph.path, "inverse", {})
    stored = load_embeddings(kinships_graph.path, "inverse")
    assert stored.relation.shape == (2 * kinships_graph.num_relations, 8)
    reloaded = stored.to_model()
    assert reloaded.num_relations == kinships_graph.num_relations
    assert evaluate(reloaded, data).mrr == pytest.approx(evaluate(result.model, data).mrr)
