"""Documents → token ids, with what masking needs: word starts and entity token spans.

Any tokenizer works: a kgnlu :class:`~kgnlu.data.tokenizer.Tokenizer`, a Hugging Face
``tokenizers.Tokenizer``, a ``transformers`` fast tokenizer (its ``backend_tokenizer`` is used),
or any object with ``encode(text) -> list[int]`` (then every token counts as a word start and
entity spans are not mapped). Special token ids come from the tokenizer (:class:`SpecialIds`).

A document is encoded in one call on its joined text (sentences joined by a space), then cut
back into sentences by character offsets — so byte-level BPE keeps the space before each
sentence's first word (encoding sentences one by one would drop it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kgnlu.data.corpora.base import Document
from kgnlu.errors import ConfigError

# Spellings of role tokens across BERT, RoBERTa/ALBERT and GPT-2 vocabularies, tried in order.
ROLE_SPELLINGS = {
    "cls": ("[CLS]", "<s>"),
    "sep": ("[SEP]", "</s>"),
    "mask": ("[MASK]", "<mask>"),
    "pad": ("[PAD]", "<pad>"),
    "eos": ("<|endoftext|>", "</s>", "[SEP]"),
}


@dataclass(frozen=True)
class SpecialIds:
    """Ids of the role tokens (None where the vocabulary has none) and every special id (never masked)."""

    cls: int | None
    sep: int | None
    mask: int | None
    pad: int
    eos: int | None = None
    all: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        roles = {self.cls, self.sep, self.mask, self.pad, self.eos} - {None}
        object.__setattr__(self, "all", frozenset(self.all) | roles)

    def require(self, *roles: str) -> None:
        missing = [r for r in roles if getattr(self, r) is None]
        if missing:
            raise ConfigError(f"this instance kind needs the tokenizer's {', '.join(missing)} token(s), which its "
                              "vocabulary lacks; use a BERT-style WordPiece tokenizer, or pass SpecialIds(...)")


@dataclass
class TokenizedSentence:
    """ids (T,) int64; word_starts (T,) bool: token begins a word; entities: token spans [a, b)."""

    ids: np.ndarray
    word_starts: np.ndarray
    entities: list[tuple[int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, end: int) -> TokenizedSentence:
        """Tokens [start, end); entity spans not wholly inside are dropped. A cut word's first token starts a word."""
        starts = self.word_starts[start:end].copy()
        if len(starts):
            starts[0] = True
        spans = [(a - start, b - start) for a, b in self.entities if start <= a and b <= end]
        return TokenizedSentence(self.ids[start:end], starts, spans)


def concat(pieces: list[TokenizedSentence]) -> TokenizedSentence:
    """Join pieces end to end, shifting their entity spans."""
    if not pieces:
        return TokenizedSentence(np.zeros(0, np.int64), np.zeros(0, bool))
    spans, offset = [], 0
    for piece in pieces:
        spans.extend((a + offset, b + offset) for a, b in piece.entities)
        offset += len(piece)
    return TokenizedSentence(np.concatenate([p.ids for p in pieces]),
                             np.concatenate([p.word_starts for p in pieces]), spans)


class DocumentEncoder:
    """Encodes :class:`Document` s into :class:`TokenizedSentence` lists with one tokenizer."""

    def __init__(self, tokenizer: Any, special: SpecialIds | None = None):
        self.backend = _backend(tokenizer)
        self.generic = tokenizer if self.backend is None else None
        if self.backend is None and not callable(getattr(tokenizer, "encode", None)):
            raise ConfigError(f"{type(tokenizer).__name__} has no encode(); pass a tokenizers.Tokenizer, a kgnlu "
                              "Tokenizer, or an object whose encode(text) returns token ids")
        self.special = special or special_ids(tokenizer)
        self.vocab_size = (self.backend.get_vocab_size(with_added_tokens=True) if self.backend is not None
                           else int(getattr(tokenizer, "vocab_size", 0) or len(tokenizer.get_vocab())))

    def encode(self, document: Document) -> list[TokenizedSentence]:
        if self.backend is None:
            return [self._generic(text) for text in document.sentences]
        text = " ".join(document.sentences)
        encoding = self.backend.encode(text, add_special_tokens=False)
        ids = np.asarray(encoding.ids, dtype=np.int64)
        # a token belongs to the sentence holding its last character (so "Ġword" goes with "word")
        ends = np.asarray([max(b - 1, a) for a, b in encoding.offsets], dtype=np.int64)
        words = [-1 if w is None else w for w in encoding.word_ids]
        word_starts = np.ones(len(ids), dtype=bool)
        word_starts[1:] = np.asarray(words[1:]) != np.asarray(words[:-1])
        sentence_starts = np.cumsum([0] + [len(s) + 1 for s in document.sentences[:-1]])
        owner = np.searchsorted(sentence_starts, ends, side="right") - 1  # (T,) sentence index of each token
        bounds = np.searchsorted(owner, np.arange(len(document.sentences) + 1), side="left")
        out = []
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            sentence = TokenizedSentence(ids[a:b], word_starts[a:b].copy())
            if len(sentence):
                sentence.word_starts[0] = True
                offsets = encoding.offsets[a:b]
                for span in document.entities[i]:
                    lo, hi = sentence_starts[i] + span.start, sentence_starts[i] + span.end
                    inside = [t for t, (s, e) in enumerate(offsets) if s < hi and e > lo and e > s]
                    if inside:
                        sentence.entities.append((inside[0], inside[-1] + 1))
                out.append(sentence)
        return out

    def _generic(self, text: str) -> TokenizedSentence:
        try:
            result = self.generic.encode(text, add_special_tokens=False)
        except TypeError:
            result = self.generic.encode(text)
        ids = np.asarray(getattr(result, "ids", result), dtype=np.int64)
        return TokenizedSentence(ids, np.ones(len(ids), dtype=bool))


def _backend(tokenizer: Any) -> Any:
    """The ``tokenizers.Tokenizer`` inside, copied with truncation and padding off (None if there is none)."""
    from tokenizers import Tokenizer as Backend

    for candidate in (tokenizer, getattr(tokenizer, "backend", None), getattr(tokenizer, "backend_tokenizer", None)):
        if isinstance(candidate, Backend):
            copy = Backend.from_str(candidate.to_str())  # never change the caller's tokenizer settings
            copy.no_truncation()
            copy.no_padding()
            return copy
    return None


def special_ids(tokenizer: Any) -> SpecialIds:
    """Role token ids from a kgnlu Tokenizer (its declared roles) or by the usual spellings."""
    backend = _backend(tokenizer)
    roles: dict[str, int | None] = {}
    for role, spellings in ROLE_SPELLINGS.items():
        found = None
        if callable(getattr(tokenizer, "token_id", None)):  # kgnlu Tokenizer: declared roles first
            found = tokenizer.token_id(role)
        if found is None and getattr(tokenizer, f"{role}_token_id", None) is not None:  # transformers
            found = getattr(tokenizer, f"{role}_token_id")
        lookup = backend.token_to_id if backend is not None else getattr(tokenizer, "token_to_id", None)
        for spelling in spellings if found is None and lookup is not None else ():
            found = lookup(spelling)
            if found is not None:
                break
        roles[role] = found
    every = set()
    if backend is not None:
        every = {i for i, token in backend.get_added_tokens_decoder().items() if token.special}
    pad = roles["pad"] if roles["pad"] is not None else roles["eos"]  # GPT-2 pads with eos
    if pad is None:
        raise ConfigError("the tokenizer has no pad token (nor eos to pad with); pass SpecialIds(...) explicitly")
    return SpecialIds(cls=roles["cls"], sep=roles["sep"], mask=roles["mask"], pad=pad, eos=roles["eos"],
                      all=frozenset(every))
