"""A bag-of-words sentence encoder for tests: cosine = word overlap, so which description or path a
question matches is known by reading it. As a numpy ``encode`` (texts → unit rows) and as an
Encoder-shaped torch module with a word-level tokenizer, for KGQA."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

WORD = re.compile(r"[a-z0-9]+|\?")
DIM = 512


class Vocabulary:
    """Words → rows, assigned on first sight (no collisions while under ``DIM`` words)."""

    def __init__(self):
        self.rows: dict[str, int] = {}

    def row(self, word: str) -> int:
        if word not in self.rows:
            if len(self.rows) >= DIM - 1:
                raise ValueError("bag-of-words vocabulary full")
            self.rows[word] = len(self.rows) + 1  # row 0: padding and special tokens
        return self.rows[word]

    def encode(self, texts) -> np.ndarray:
        """float32 [N, DIM] unit rows of word counts."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in WORD.findall(text.lower()):
                out[i, self.row(w)] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class BagOfWordsEncoder(nn.Module):
    """Encoder-shaped: ``forward(input_ids, attention_mask)`` → ``.last_hidden_state`` (B, S, DIM),
    one-hot rows, so mean pooling + L2 is the normalised word-count vector."""

    def __init__(self):
        super().__init__()
        self.config = SimpleNamespace(hidden_size=DIM)
        self.register_buffer("eye", torch.eye(DIM))
        self.eye[0, 0] = 0.0

    def forward(self, input_ids, attention_mask=None, **_):
        return SimpleNamespace(last_hidden_state=self.eye[input_ids])


class WordTokenizer:
    """The tokenizer the encoder reads: each word its vocabulary row; ``encode_batch`` as kgnlu's."""

    def __init__(self, vocabulary: Vocabulary):
        self.vocabulary = vocabulary

    def encode_batch(self, texts, pairs=None, max_length: int = 128):
        rows = [[self.vocabulary.row(w) for w in WORD.findall(t.lower())][:max_length] or [0] for t in texts]
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return _Batch(ids, mask)


class _Batch(SimpleNamespace):
    def __init__(self, input_ids, attention_mask):
        super().__init__(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=torch.zeros_like(input_ids))

    def to(self, device):
        return self
