"""Tiny encoder configs for every seed shape and sharing mode; HF stays offline."""

from __future__ import annotations

import os

import pytest
import torch

from kgnlu.encoders import EncoderConfig

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

TINY = dict(vocab_size=97, hidden_size=32, num_layers=3, num_heads=4, ffn_size=64, max_positions=40)


def tiny(shape: str, **overrides) -> EncoderConfig:
    """A seed shape at test size: H=32, 3 layers, 4 heads, V=97 (ALBERT/ELECTRA with E=16)."""
    values = dict(TINY)
    if shape in ("albert", "electra"):
        values["embedding_size"] = 16
    values.update(overrides)
    return getattr(EncoderConfig, shape)(**values)


SHAPES = ["bert", "albert", "electra", "gpt2"]
SHARING = ["none", "ffn", "attention", "all"]


def ragged_batch(vocab: int = 97, lengths=(9, 4, 7, 1), seed: int = 0, pad_id: int = 0):
    """input_ids (B, S) with real tokens in 1..vocab-1 and padding to the right; attention_mask (B, S)."""
    generator = torch.Generator().manual_seed(seed)
    seq = max(lengths)
    ids = torch.randint(1, vocab, (len(lengths), seq), generator=generator)
    mask = (torch.arange(seq)[None, :] < torch.tensor(lengths)[:, None]).long()
    return ids.masked_fill(mask == 0, pad_id), mask


@pytest.fixture
def batch():
    return ragged_batch()
