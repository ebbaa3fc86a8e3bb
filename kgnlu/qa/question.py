"""The question side: safe truncation, topic masking and frozen-encoder embeddings.

The encoder is anything with kgnlu's Encoder forward (``forward(input_ids, attention_mask)``
returning ``.last_hidden_state`` (B, S, H)) — a plain :class:`~kgnlu.encoders.Encoder`, the
packaged MiniLM, or a fused ``KGEncoder`` with no entities. Embeddings are mean-pooled and
L2-normalised (:class:`~kgnlu.kg.linker.dense_index.TextEncoder`, sentence-transformers' pooling).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from kgnlu.errors import QAError

_SPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_question(question: object, max_chars: int) -> str:
    """Questions are text, nothing else: non-str raises QAError; lone surrogates become U+FFFD;
    anything past ``max_chars`` is dropped (at a space when there is one near the cut)."""
    if not isinstance(question, str):
        raise QAError(f"a question must be a str, got {type(question).__name__}")
    text = _SURROGATE.sub("\ufffd", question)
    if len(text) > max_chars:
        cut = text.rfind(" ", max_chars // 2, max_chars)
        text = text[: cut if cut > 0 else max_chars]
    return text


def mask_span(question: str, start: int, end: int, placeholder: str) -> str:
    """``question`` with [start, end) replaced by ``placeholder``, whitespace normalised."""
    return _SPACE.sub(" ", f"{question[:start]}{placeholder}{question[end:]}").strip()


class QuestionEncoder:
    """Texts → float32 [N, H] unit rows with a frozen encoder (eval mode, no gradients)."""

    def __init__(self, encoder, tokenizer, max_length: int = 128, batch_size: int = 64):
        from kgnlu.kg.linker.dense_index import TextEncoder

        if not hasattr(encoder, "config") or not hasattr(encoder.config, "hidden_size"):
            raise QAError("the QA encoder needs .config.hidden_size and Encoder's forward "
                          "(a kgnlu Encoder, the packaged MiniLM or a KGEncoder)")
        self.encoder, self.tokenizer = encoder, tokenizer
        self.text = TextEncoder(encoder, tokenizer, max_length=max_length, batch_size=batch_size)
        self.dim = self.text.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.text.encode(list(texts))
