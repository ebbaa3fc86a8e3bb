"""The question side: safe truncation, topic masking and frozen-encoder embeddings.

The encoder is anything with kgnlu's Encoder forward (``forward(input_ids, attention_mask)``
returning ``.last_hidden_state`` (B, S, H)) — a plain :class:`~kgnlu.encoders.Encoder`, the
packaged MiniLM, or a fused ``KGEncoder``, which (given the graph's linker) also reads each text's
linked entities. Embeddings are mean-pooled and L2-normalised
(:class:`~kgnlu.kg.linker.dense_index.TextEncoder`, sentence-transformers' pooling).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from kgnlu.errors import QAError

_SPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_question(question: object, max_chars: int) -> str:
    """Questions are text, nothing else: non-str raises QAError; lone surrogates become U+FFFD.
    A question over ``max_chars`` is refused (QAError, E090), not cut: a cut question is another
    question, answered as if it were the one asked; the bound keeps linking and encoding small."""
    if not isinstance(question, str):
        raise QAError(f"a question must be a str, got {type(question).__name__}")
    if len(question) > max_chars:
        raise QAError(f"a question of {len(question):,} characters is over the limit of {max_chars:,} "
                      "(max_question_chars): ask a shorter question, or raise max_question_chars in the "
                      "QA config (QAConfig(max_question_chars=N))")
    return _SURROGATE.sub("\ufffd", question)


def mask_span(question: str, start: int, end: int, placeholder: str) -> str:
    """``question`` with [start, end) replaced by ``placeholder``, whitespace normalised."""
    return _SPACE.sub(" ", f"{question[:start]}{placeholder}{question[end:]}").strip()


class QuestionEncoder:
    """Texts → float32 [N, H] unit rows with a frozen encoder (eval mode, no gradients).

    A plain encoder embeds the text alone (:class:`~kgnlu.kg.linker.dense_index.TextEncoder`).
    A fused encoder (one that ``accepts_entities``, i.e. a ``KGEncoder``) given a ``linker`` reads
    the text's linked entities too, built exactly as fusion pretraining builds them
    (:mod:`kgnlu.fusion.data`): the linker's links → :class:`~kgnlu.fusion.alignment.Aligner`
    (wordpiece spans, link confidences, candidates; rows = the graph's internal ids) → the
    encoder's ``entities=``. Without a linker a KGEncoder is its plain encoder.
    """

    def __init__(self, encoder, tokenizer, max_length: int = 128, batch_size: int = 64, linker=None):
        """``linker``: the graph's EntityLinker, for encoders that read linked entities (a KGEncoder)."""
        from kgnlu.kg.linker.dense_index import TextEncoder

        if not hasattr(encoder, "config") or not hasattr(encoder.config, "hidden_size"):
            raise QAError("the QA encoder needs .config.hidden_size and Encoder's forward "
                          "(a kgnlu Encoder, the packaged MiniLM or a KGEncoder)")
        self.encoder, self.tokenizer = encoder, tokenizer
        self.text = TextEncoder(encoder, tokenizer, max_length=max_length, batch_size=batch_size)
        self.dim = self.text.dim
        self.linker = linker if getattr(encoder, "accepts_entities", False) else None
        self.aligner = None if self.linker is None else _aligner(encoder, tokenizer, self.linker, max_length)

    @property
    def fused(self) -> bool:
        """Whether texts are embedded with their linked entities."""
        return self.aligner is not None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if not self.fused:
            return self.text.encode(list(texts))
        return self._encode_fused(list(texts))

    def _encode_fused(self, texts: list[str]) -> np.ndarray:
        """TextEncoder's loop (length-sorted batches, mean pooling, L2) with entity inputs beside the tokens."""
        import torch

        texts = [t or " " for t in texts]  # TextEncoder's rule: an empty text still gets [CLS] [SEP]
        links = list(self.linker.link_batch(texts))
        text, out = self.text, np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for lo in range(0, len(order), text.batch_size):
                idx = order[lo:lo + text.batch_size]
                tokens, entities = self.aligner([texts[i] for i in idx], [links[i] for i in idx])
                tokens, entities = tokens.to(text.device), entities.to(text.device)
                hidden = self.encoder(tokens.input_ids, tokens.attention_mask,
                                      entities=entities).last_hidden_state  # (B, S, H), words only
                mask = tokens.attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, S, 1)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, H)
                out[idx] = torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy()
        return out


def _aligner(encoder, tokenizer, linker, max_length: int):
    """The pretraining Aligner over the linker's graph; the entity table must have a row per entity."""
    from kgnlu.fusion.alignment import Aligner
    from kgnlu.fusion.data import FusionDataConfig
    from kgnlu.pretrain.fused import entity_rows  # pretraining's rows: the graph's internal ids

    kg = linker.kg
    rows = encoder.entity_embeddings.num_embeddings
    if rows != kg.num_entities:
        raise QAError(f"the fused question encoder's entity table has {rows} rows but graph {kg.name!r} has "
                      f"{kg.num_entities} entities; use an encoder pretrained over this graph's table "
                      "(`kgnlu kge train GRAPH`, then `kgnlu pretrain` with fusion.entity_table)")
    data = FusionDataConfig()  # pretraining's defaults: up to 24 mentions a text, 8 candidates each
    return Aligner(tokenizer, entity_rows(kg), max_length, data.max_entities, data.max_candidates)
