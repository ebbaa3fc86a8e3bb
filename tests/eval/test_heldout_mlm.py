"""Held-out masked-token accuracy (issue 22) and ELECTRA's discriminator against its base rate,
checked against counts made by hand on the same instances."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from kgnlu.data.corpora import open_corpus
from kgnlu.data.instances import IGNORE, PretrainingDataset
from kgnlu.encoders import Encoder, EncoderConfig
from kgnlu.encoders.objectives import PretrainingModel
from kgnlu.eval.heldout_mlm import base_rate_entropy, discriminator_trace, heldout_masked_lm
from kgnlu.pretrain.config import PretrainConfig
from tests.data.test_instances import make_documents, tokenizer  # noqa: F401  (fixture)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def heldout(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("heldout") / "heldout.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in make_documents(12, seed=5)) + "\n", encoding="utf-8")
    return path


def model_and_config(tok, objective: str, config_file: str, kind: str):
    config = PretrainConfig.load(CONFIGS / config_file, [f"data.instances.kind={kind}", "data.instances.max_length=32"])
    vocab = tok.get_vocab_size(with_added_tokens=True)
    shape = "electra" if objective == "rtd" else "bert"
    values = dict(vocab_size=vocab, hidden_size=32, num_layers=1, num_heads=4, ffn_size=64, max_positions=32,
                  pad_token_id=0)
    if shape == "electra":
        values["embedding_size"] = 16
    torch.manual_seed(0)
    encoder = Encoder(getattr(EncoderConfig, shape)(**values))
    options = {"rtd": {"generator_fraction": 0.5}} if objective == "rtd" else {}
    return PretrainingModel(encoder, {objective: 1.0}, options), config


def test_base_rate_entropy_by_hand():
    # H(0.15) = -(0.15 ln 0.15 + 0.85 ln 0.85) = 0.28457 + 0.13814
    assert base_rate_entropy(0.15) == pytest.approx(0.42271, abs=1e-4)
    assert base_rate_entropy(0.5) == pytest.approx(math.log(2)) and base_rate_entropy(0.0) == 0.0


def test_heldout_accuracy_counts_masked_tokens_of_the_same_instances(tokenizer, heldout):  # noqa: F811
    model, config = model_and_config(tokenizer, "mlm", "bert-mini.yaml", "mlm")
    # by hand: build the same instances (the run's masking config, seed 0) and count their masked labels
    instances = replace(config.data.instances, seed=0, shuffle_buffer=1)
    dataset = PretrainingDataset(open_corpus("text", paths=[heldout]), tokenizer, instances)
    labels = np.concatenate([i["labels"] for i in dataset.unshuffled()])
    masked = labels[labels != IGNORE]
    favourite = int(np.bincount(masked).argmax())
    bias = next(p for n, p in model.named_parameters() if n.endswith("decoder.bias"))
    with torch.no_grad():  # the head now always predicts `favourite`: accuracy = its share of the masked tokens
        bias[favourite] = 1e4
    result = heldout_masked_lm(model, tokenizer, config, heldout, max_instances=10_000, batch_size=3)
    assert result["masked_tokens"] == len(masked) > 50
    assert 0 < result["accuracy"] == pytest.approx(float((masked == favourite).mean()), abs=1e-6)
    assert result["masking"]["strategy"] == "token"  # the BERT preset's masking (the paper's)
    # batch size does not change a token-weighted accuracy
    again = heldout_masked_lm(model, tokenizer, config, heldout, max_instances=10_000, batch_size=7)
    assert again["accuracy"] == pytest.approx(result["accuracy"], abs=1e-6)


def test_electra_heldout_reports_the_discriminator_against_its_base_rate(tokenizer, heldout):  # noqa: F811
    model, config = model_and_config(tokenizer, "rtd", "electra-small.yaml", "electra")
    result = heldout_masked_lm(model, tokenizer, config, heldout, max_instances=64, batch_size=8)
    assert result["scored_by"] == "ELECTRA generator" and 0.0 <= result["accuracy"] <= 1.0
    assert result["masking"]["mask_prob"] == 0.85 and result["masking"]["random_prob"] == 0.0
    d = result["discriminator"]
    assert 0.0 < d["replaced_fraction"] < 0.2  # at most the ~15% masked, minus samples equal to the original
    assert d["base_rate_entropy"] == pytest.approx(base_rate_entropy(d["replaced_fraction"]))
    assert d["loss_over_base_rate"] == pytest.approx(d["loss"] / d["base_rate_entropy"])
    assert d["majority_accuracy"] == pytest.approx(1.0 - d["replaced_fraction"])


def test_discriminator_trace_by_hand():
    h = base_rate_entropy(0.2)
    rows = [{"step": 5, "rtd_discriminator_loss": 0.5 * h, "rtd_replaced_fraction": 0.2, "rtd_replaced_recall": 0.3},
            {"step": 10, "rtd_discriminator_loss": 1.5 * h, "rtd_replaced_fraction": 0.2, "rtd_replaced_recall": 0.0},
            {"step": 15, "rtd_discriminator_loss": 0.9 * h, "rtd_replaced_fraction": 0.2, "rtd_replaced_recall": 0.1},
            {"step": 15, "split": "eval", "loss": 1.0}]
    trace = discriminator_trace(rows)
    assert trace["loss_over_base_rate"] == pytest.approx([0.5, 1.5, 0.9])
    assert trace["share_of_steps_below_base_rate"] == pytest.approx(2 / 3)
    assert trace["first_step_at_or_above_base_rate"] == 10
    assert (trace["min_ratio"], trace["min_ratio_step"]) == (pytest.approx(0.5), 5)
    assert trace["final_tenth_mean_ratio"] == pytest.approx(0.9) and trace["final_tenth_mean_recall"] == 0.1
