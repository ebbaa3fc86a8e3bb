"""Parameter counts against closed forms written here, independently of the code (ALBERT Table 4)."""

from __future__ import annotations

import pytest
import torch

from kgnlu.encoders import Encoder, EncoderConfig

V, H, L, F, P, T = 30_000, 768, 12, 3072, 512, 2


def closed_form(embedding: int, sharing: str) -> int:
    E = embedding
    embeddings = V * E + P * E + T * E + 2 * E  # word, position, token type, LayerNorm(E)
    if E != H:
        embeddings += E * H + H  # ALBERT's E→H projection
    attention = (3 * H * H + 3 * H) + (H * H + H) + 2 * H  # Q, K, V; output; LayerNorm
    ffn = (H * F + F) + (F * H + H) + 2 * H  # up; down; LayerNorm
    pooler = H * H + H
    attention_sets = 1 if sharing in ("attention", "all") else L
    ffn_sets = 1 if sharing in ("ffn", "all") else L
    return embeddings + attention_sets * attention + ffn_sets * ffn + pooler


# ALBERT Table 4 (millions): E=768 / E=128
PAPER = {("none", 768): 108, ("attention", 768): 83, ("ffn", 768): 57, ("all", 768): 31,
         ("none", 128): 89, ("attention", 128): 64, ("ffn", 128): 38, ("all", 128): 12}


@pytest.mark.parametrize("sharing", ["none", "ffn", "attention", "all"])
@pytest.mark.parametrize("embedding", [128, 768])
def test_base_shape_counts_match_closed_form_and_paper(embedding, sharing):
    config = EncoderConfig(vocab_size=V, embedding_size=embedding, hidden_size=H, num_layers=L,
                           num_heads=12, ffn_size=F, sharing=sharing)
    with torch.device("meta"):  # no memory, no init time: only shapes matter here
        encoder = Encoder(config)
    expected = closed_form(embedding, sharing)
    assert encoder.num_parameters() == expected
    assert expected / 1e6 == pytest.approx(PAPER[sharing, embedding], rel=0.03)


def test_shared_blocks_are_stored_once():
    config = EncoderConfig(vocab_size=50, hidden_size=16, num_layers=4, num_heads=2, ffn_size=32, sharing="all")
    encoder = Encoder(config)
    keys = [k for k in encoder.state_dict() if k.startswith("layers.")]
    assert len(keys) == len(set(keys)) and all(".0." in k for k in keys)
    assert encoder.layers.blocks_of_layer(3)[0] is encoder.layers.blocks_of_layer(0)[0]
