from __future__ import annotations

import pytest

from kgnlu.encoders import EncoderConfig
from kgnlu.errors import ConfigError


@pytest.mark.parametrize("field, value", [
    ("hidden_size", 0), ("num_layers", -1), ("activation", "tanh"), ("sharing", "some"),
    ("norm_placement", "middle"), ("position_scheme", "rotary"), ("attention_backend", "flash9"),
    ("hidden_dropout", 1.0), ("init_scheme", "xavier"), ("type_vocab_size", -1), ("pad_token_id", 10**6),
])
def test_bad_values_raise_config_error_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        EncoderConfig(**{field: value})


def test_heads_must_divide_hidden():
    with pytest.raises(ConfigError, match="divisible"):
        EncoderConfig(hidden_size=100, num_heads=12)


def test_factorised_embedding_requires_projection():
    with pytest.raises(ConfigError, match="projection"):
        EncoderConfig(embedding_size=128, embedding_projection=False)
    assert EncoderConfig(embedding_size=128).embedding_projection is True
    assert EncoderConfig().embedding_projection is False


def test_seed_shapes_carry_their_published_choices():
    albert, gpt2, electra = EncoderConfig.albert(), EncoderConfig.gpt2(), EncoderConfig.electra()
    assert (albert.embedding_size, albert.sharing, albert.vocab_size) == (128, "all", 30_000)
    assert (gpt2.causal, gpt2.norm_placement, gpt2.init_scheme, gpt2.type_vocab_size) == (True, "pre", "gpt2", 0)
    assert electra.pooler is False
    assert EncoderConfig.bert().num_attention_blocks == 12
    assert EncoderConfig(sharing="attention").num_attention_blocks == 1
    assert EncoderConfig(sharing="attention").num_ffn_blocks == 12


def test_dict_round_trip_and_replace():
    config = EncoderConfig.albert(num_layers=2)
    assert EncoderConfig.from_dict(config.to_dict()) == config
    wider = EncoderConfig(hidden_size=64, num_heads=4).replace(hidden_size=128)
    assert wider.embedding_size == 128 and not wider.embedding_projection
    with pytest.raises(ConfigError, match="unknown EncoderConfig fields"):
        EncoderConfig.from_dict({"hiden_size": 3})
