"""Instance builders: tokenized documents in, training instances out — one class per shape.

An instance is a dict of 1-D int64 arrays of one length L <= max_length — ``input_ids``,
``token_type_ids``, ``labels`` (-100 where there is nothing to predict), and for masked kinds
``mlm_positions`` (1 where a token was chosen) — plus scalar ``nsp_label`` / ``sop_label``.

Builders are fed one document at a time with that document's random generator (so a document's
instances do not depend on which shard read it) and may carry tokens over to the next document
(``cross_document`` MLM, CLM); ``finish`` flushes what is left at the end of the stream.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import numpy as np

from kgnlu.data.instances.config import InstanceConfig
from kgnlu.data.instances.masking import IGNORE, Masker
from kgnlu.data.instances.tokens import SpecialIds, TokenizedSentence, concat
from kgnlu.registry import Registry

Instance = dict[str, np.ndarray | int]
#: instance kind → builder class
INSTANCE_BUILDERS: Registry[type] = Registry("instance kind")


class Builder:
    def __init__(self, config: InstanceConfig, special: SpecialIds, vocab_size: int):
        self.config, self.special = config, special

    def feed(self, sentences: list[TokenizedSentence], rng: np.random.Generator) -> Iterator[Instance]:
        raise NotImplementedError

    def finish(self, rng: np.random.Generator) -> Iterator[Instance]:
        return iter(())

    def _target(self, room: int, rng: np.random.Generator) -> int:
        """Tokens to aim for: ``room``, or (short_seq_prob of the time) a random length in [2, room]."""
        if room > 2 and rng.random() < self.config.short_seq_prob:
            return int(rng.integers(2, room + 1))
        return room


def _pieces(sentences: list[TokenizedSentence], limit: int) -> Iterator[TokenizedSentence]:
    """Sentences, with any longer than ``limit`` cut into ``limit``-sized pieces."""
    for sentence in sentences:
        for start in range(0, len(sentence), limit):
            yield sentence.slice(start, start + limit)


class _Masking(Builder):
    """Adds MLM corruption to the instances of a subclass."""

    def __init__(self, config: InstanceConfig, special: SpecialIds, vocab_size: int, mask: bool = True):
        super().__init__(config, special, vocab_size)
        self.masker = None
        if mask:
            special.require("mask")
            self.masker = Masker(config.effective_masking(), special.mask, vocab_size, special.all)

    def _assemble(self, segments: list[TokenizedSentence], rng: np.random.Generator) -> Instance:
        """[CLS] A [SEP] (B [SEP]) with segment ids 0 / 1, masked when this builder masks."""
        cls, sep = self.special.cls, self.special.sep
        parts: list[TokenizedSentence] = []
        types: list[np.ndarray] = []
        for index, segment in enumerate(segments):
            if index == 0:
                parts.append(_special(cls))
                types.append(np.zeros(1, np.int64))
            parts += [segment, _special(sep)]
            types.append(np.full(len(segment) + 1, index, np.int64))
        whole = concat(parts)
        instance: Instance = {"input_ids": whole.ids, "token_type_ids": np.concatenate(types)}
        if self.masker is not None:
            instance["input_ids"], labels = self.masker(whole.ids, whole.word_starts, whole.entities, rng)
            instance["labels"] = labels
            instance["mlm_positions"] = (labels != IGNORE).astype(np.int64)
        return instance


def _special(token: int) -> TokenizedSentence:
    return TokenizedSentence(np.array([token], np.int64), np.ones(1, bool))


@INSTANCE_BUILDERS.register("mlm")
@INSTANCE_BUILDERS.register("electra")  # the same packing; the corruption follows generator_input
class MaskedLMBuilder(_Masking):
    """[CLS] sentences [SEP], packed greedily with whole sentences up to max_length."""

    def __init__(self, config: InstanceConfig, special: SpecialIds, vocab_size: int):
        special.require("cls", "sep", "mask")
        super().__init__(config, special, vocab_size)
        self.room = config.max_length - 2  # [CLS] and [SEP]
        self.current: list[TokenizedSentence] = []
        self.length = 0
        self.target = self.room

    def feed(self, sentences: list[TokenizedSentence], rng: np.random.Generator) -> Iterator[Instance]:
        if self.current and self.config.cross_document:  # a [SEP] marks the document boundary
            if self.length + 1 >= self.target:
                yield self._emit(rng)
            else:
                self.current.append(_special(self.special.sep))
                self.length += 1
        for piece in _pieces(sentences, self.room):  # each piece fits the room on its own
            if self.current and self.length + len(piece) > self.target:
                yield self._emit(rng)
            if not self.current:
                self.target = self._target(self.room, rng)  # a soft target: one piece may exceed it
            self.current.append(piece)
            self.length += len(piece)
        if not self.config.cross_document and self.current:
            yield self._emit(rng)

    def finish(self, rng: np.random.Generator) -> Iterator[Instance]:
        if self.current:
            yield self._emit(rng)

    def _emit(self, rng: np.random.Generator) -> Instance:
        segment = concat(self.current)
        if len(segment) and segment.ids[-1] == self.special.sep and self.config.cross_document:
            segment = segment.slice(0, len(segment) - 1)  # no trailing document [SEP] before the final [SEP]
        self.current, self.length = [], 0
        return self._assemble([segment], rng)


class _Pairs(_Masking):
    """BERT's create_instances_from_document: chunks of sentences up to the target, split into A and B."""

    label_key = ""

    def __init__(self, config: InstanceConfig, special: SpecialIds, vocab_size: int):
        special.require("cls", "sep")
        super().__init__(config, special, vocab_size, mask=config.mask_pairs)
        self.room = config.max_length - 3  # [CLS] A [SEP] B [SEP]

    def feed(self, sentences: list[TokenizedSentence], rng: np.random.Generator) -> Iterator[Instance]:
        pieces = list(_pieces(sentences, self.room))
        target = self._target(self.room, rng)
        chunk: list[TokenizedSentence] = []
        length, i = 0, 0
        while i < len(pieces):
            chunk.append(pieces[i])
            length += len(pieces[i])
            if i == len(pieces) - 1 or length >= target:
                was_cut = len(chunk) == 1 and len(chunk[0]) >= 2
                if was_cut:  # one long piece: cut it in two, so A and B both exist
                    cut = int(rng.integers(1, len(chunk[0])))
                    chunk = [chunk[0].slice(0, cut), chunk[0].slice(cut, len(chunk[0]))]
                if len(chunk) >= 2:
                    a_end = int(rng.integers(1, len(chunk)))
                    made = self._pair(chunk, a_end, target, rng)
                    if made is not None:
                        instance, unused = made
                        if not was_cut:
                            i -= unused  # BERT puts the unused B sentences back for the next chunk
                        yield instance
                chunk, length = [], 0
                target = self._target(self.room, rng)
            i += 1
        self._remember(pieces)

    def _remember(self, pieces: list[TokenizedSentence]) -> None:
        pass

    def _pair(self, chunk, a_end, target, rng) -> tuple[Instance, int] | None:
        raise NotImplementedError

    def _finish_pair(self, a: TokenizedSentence, b: TokenizedSentence, label: int, target: int,
                     rng: np.random.Generator) -> Instance | None:
        a, b = _truncate_pair(a, b, target, rng)
        if len(a) == 0 or len(b) == 0:
            return None
        instance = self._assemble([a, b], rng)
        instance[self.label_key] = label
        return instance


@INSTANCE_BUILDERS.register("nsp")
class NextSentenceBuilder(_Pairs):
    """[CLS] A [SEP] B [SEP]; nsp_label 0: B follows A; 1: B is from another document (HF's convention)."""

    label_key = "nsp_label"

    def __init__(self, config: InstanceConfig, special: SpecialIds, vocab_size: int):
        super().__init__(config, special, vocab_size)
        self.previous: deque[list[TokenizedSentence]] = deque(maxlen=config.random_document_buffer)

    def _remember(self, pieces: list[TokenizedSentence]) -> None:
        if pieces:
            self.previous.append(pieces)

    def _pair(self, chunk, a_end, target, rng):
        a = concat(chunk[:a_end])
        if self.previous and rng.random() < self.config.nsp_random_prob:
            other = self.previous[int(rng.integers(0, len(self.previous)))]
            start, b_pieces, room = int(rng.integers(0, len(other))), [], max(1, target - len(a))
            for piece in other[start:]:
                b_pieces.append(piece)
                if sum(map(len, b_pieces)) >= room:
                    break
            instance = self._finish_pair(a, concat(b_pieces), 1, target, rng)
            return None if instance is None else (instance, len(chunk) - a_end)
        instance = self._finish_pair(a, concat(chunk[a_end:]), 0, target, rng)
        return None if instance is None else (instance, 0)


@INSTANCE_BUILDERS.register("sop")
class SentenceOrderBuilder(_Pairs):
    """[CLS] A [SEP] B [SEP] with A, B consecutive; sop_label 1 when they were swapped (HF's convention)."""

    label_key = "sop_label"

    def _pair(self, chunk, a_end, target, rng):
        a, b = concat(chunk[:a_end]), concat(chunk[a_end:])
        swapped = rng.random() < self.config.sop_swap_prob
        instance = self._finish_pair(b, a, 1, target, rng) if swapped else self._finish_pair(a, b, 0, target, rng)
        return None if instance is None else (instance, 0)


def _truncate_pair(a: TokenizedSentence, b: TokenizedSentence, limit: int,
                   rng: np.random.Generator) -> tuple[TokenizedSentence, TokenizedSentence]:
    """Trim the longer segment, one token at a time from a random end, until both fit (BERT)."""
    a_lo, a_hi, b_lo, b_hi = 0, len(a), 0, len(b)
    while (a_hi - a_lo) + (b_hi - b_lo) > limit:
        if a_hi - a_lo > b_hi - b_lo:
            a_lo, a_hi = (a_lo + 1, a_hi) if rng.random() < 0.5 else (a_lo, a_hi - 1)
        else:
            b_lo, b_hi = (b_lo + 1, b_hi) if rng.random() < 0.5 else (b_lo, b_hi - 1)
    return a.slice(a_lo, a_hi), b.slice(b_lo, b_hi)


@INSTANCE_BUILDERS.register("clm")
class CausalBlockBuilder(Builder):
    """GPT-2: documents joined by eos into one stream, cut into blocks of exactly max_length tokens.

    ``labels`` are the input ids (the model shifts them: position t predicts t+1); the last partial
    block of the stream is dropped, as in GPT-2 / HF ``group_texts``.
    """

    def __init__(self, config: InstanceConfig, special: SpecialIds, vocab_size: int):
        super().__init__(config, special, vocab_size)
        special.require("eos")
        self.buffer = np.zeros(0, np.int64)

    def feed(self, sentences: list[TokenizedSentence], rng: np.random.Generator) -> Iterator[Instance]:
        ids = [s.ids for s in sentences] + [np.array([self.special.eos], np.int64)]
        self.buffer = np.concatenate([self.buffer, *ids])
        size = self.config.max_length
        while len(self.buffer) >= size:
            block, self.buffer = self.buffer[:size], self.buffer[size:]
            yield {"input_ids": block, "token_type_ids": np.zeros(size, np.int64), "labels": block.copy()}
