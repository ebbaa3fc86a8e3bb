"""Configs are checked against sane bounds before anything is allocated (issue 19, item 2): an
encoder config's parameter count is computed from its sizes (equal to what the model allocates)
and refused above a limit the user can raise; a QA config's allocating sizes have upper bounds."""

from __future__ import annotations

import json
import time

import pytest

from kgnlu.encoders import Encoder, EncoderConfig
from kgnlu.errors import ConfigError
from kgnlu.qa.config import UPPER_BOUNDS, QAConfig

SHAPES = [
    {"vocab_size": 120, "hidden_size": 32, "num_layers": 2, "num_heads": 2, "ffn_size": 64, "max_positions": 64},
    {"vocab_size": 120, "hidden_size": 32, "num_layers": 3, "num_heads": 2, "ffn_size": 64, "max_positions": 64,
     "sharing": "all", "embedding_size": 16},
    {"vocab_size": 120, "hidden_size": 32, "num_layers": 2, "num_heads": 4, "ffn_size": 48, "max_positions": 32,
     "sharing": "ffn", "pooler": False, "type_vocab_size": 0, "position_scheme": "sinusoidal"},
]


@pytest.mark.parametrize("shape", SHAPES, ids=["bert", "albert-all-factorised", "ffn-shared-sinusoidal"])
def test_the_estimate_is_what_the_model_allocates(shape):
    config = EncoderConfig(**shape)
    assert config.estimated_parameters == sum(p.numel() for p in Encoder(config).parameters())


@pytest.mark.parametrize("sizes", [{"num_layers": 10**7}, {"vocab_size": 10**12}, {"hidden_size": 2**20, "num_heads": 16}])
def test_an_absurd_encoder_config_is_refused_at_once(sizes):
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"E001.*KGNLU_MAX_PARAMETERS"):
        EncoderConfig(**sizes)
    assert time.perf_counter() - start < 1.0  # refused from the sizes, nothing allocated


def test_the_limit_can_be_raised_or_lowered(monkeypatch):
    small = EncoderConfig(**SHAPES[0])
    monkeypatch.setenv("KGNLU_MAX_PARAMETERS", str(small.estimated_parameters - 1))
    with pytest.raises(ConfigError, match="over the limit"):
        EncoderConfig(**SHAPES[0])
    monkeypatch.setenv("KGNLU_MAX_PARAMETERS", "1e13")
    assert EncoderConfig(num_layers=1000).num_layers == 1000  # ~7e9 parameters: allowed, not built here
    monkeypatch.setenv("KGNLU_MAX_PARAMETERS", "lots")
    with pytest.raises(ConfigError, match="not a number"):
        EncoderConfig(**SHAPES[0])


def test_a_hostile_hf_config_json_is_refused_before_any_weight_is_read(tmp_path):
    hf = {"model_type": "bert", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 10**7,
          "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 64}
    (tmp_path / "config.json").write_text(json.dumps(hf), encoding="utf-8")
    with pytest.raises(ConfigError, match="over the limit"):
        Encoder.from_pretrained(tmp_path)


@pytest.mark.parametrize("name", sorted(UPPER_BOUNDS))
def test_qa_sizes_over_their_bound_are_refused(name):
    QAConfig(**{name: UPPER_BOUNDS[name]})  # the bound itself is allowed
    with pytest.raises(ConfigError, match=rf"qa\.{name} .* over the sane bound"):
        QAConfig(**{name: UPPER_BOUNDS[name] + 1})
