"""TinyBERT's data augmentation for task-specific distillation (Jiao et al. 2020, Algorithm 1).

For each word w_i of an example (words = the tokenizer's pre-tokenizer split, BERT's basic
tokenizer for MiniLM):

- w_i is one WordPiece → its candidates C are the K most probable words of a masked LM at
  position i with w_i replaced by [MASK] (the paper: BERT's MLM; here MiniLM + the MLM head kgnlu
  fits on the frozen MiniLM, ``configs/distill-mlm-head.yaml``; ``##`` pieces and special tokens
  are dropped from C, as in the released code);
- w_i is several pieces → C are its K nearest words. The paper uses GloVe, which kgnlu does not
  ship; the sources here are WordNet synonyms (lemmas sharing a synset with w_i, one-word
  lemmas only) first, then MiniLM's input-embedding neighbours (cosine between the mean of w_i's
  piece embeddings and every whole-word vocabulary entry) to fill C up to K (``neighbours``
  picks ``wordnet``, ``embedding`` or both).

Then each of N_a copies replaces every w_i, with probability p_t, by a uniform draw from its C.

As in the released ``data_augmentation.py`` (not Algorithm 1's text): candidates are computed
once per word on the original sentence (Algorithm 1 re-masks the partly replaced copy; that is N_a
times the MLM passes for draws from nearly the same distribution), stop words and non-alphabetic
tokens are never replaced, and the originals stay in the augmented set. Unlike the released code we
keep duplicate copies, so an example always yields exactly N_a copies (the set is n·(1 + N_a)).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import torch
from torch import nn

from kgnlu.errors import DistillationError

NEIGHBOURS = ("wordnet", "embedding", "wordnet+embedding")
WORDNET_DIR = "/usr/share/wordnet"


def split_words(tokenizer, text: str) -> list[str]:
    """The words the tokenizer's pre-tokenizer sees (normalised: lower-cased for MiniLM)."""
    backend = tokenizer.backend
    normalised = backend.normalizer.normalize_str(text) if backend.normalizer is not None else text
    return [word for word, _ in backend.pre_tokenizer.pre_tokenize_str(normalised)]


def replaceable(word: str, stop_words: frozenset[str]) -> bool:
    """The released code's ``_is_valid`` plus its stop-word list: alphabetic, not a stop word."""
    return word.isalpha() and word not in stop_words


def draw_copies(words: Sequence[str], candidates: dict[int, list[str]], copies: int, p_replace: float,
                rng: random.Random) -> list[list[str]]:
    """N_a copies of ``words``; in each, word i (a key of ``candidates`` with a non-empty list) is
    replaced with probability ``p_replace`` by a uniform choice from its candidates."""
    out = []
    for _ in range(copies):
        copy = list(words)
        for i, choices in candidates.items():
            if choices and rng.random() < p_replace:
                copy[i] = rng.choice(choices)
        out.append(copy)
    return out


def wordnet_synonyms(directory: str | Path = WORDNET_DIR) -> dict[str, list[str]]:
    """word → the sorted one-word lemmas that share a synset with it (lower-cased, alphabetic)."""
    from kgnlu.kg.sources.wordnet_format import read_synsets

    index: dict[str, set[str]] = {}
    for synset in read_synsets(directory):
        names = {lemma.name.lower() for lemma in synset.lemmas}
        words = sorted(n for n in names if n.isalpha())
        for w in words:
            index.setdefault(w, set()).update(x for x in words if x != w)
    return {w: sorted(s) for w, s in index.items() if s}


class CandidateSource:
    """Candidates per word: the MLM for single-piece words, neighbours for the others.

    ``encoder`` is the MLM's encoder (MiniLM), ``mlm_head`` its fitted head
    (:func:`kgnlu.distill.mlm_head.load_mlm_head`); with ``mlm_head=None`` single-piece words take
    neighbours too (a documented fallback, not the paper's). ``synonyms``: word → synonyms
    (:func:`wordnet_synonyms`; injected so tests can use a small table).
    """

    def __init__(self, tokenizer, encoder: nn.Module, mlm_head: nn.Module | None, k: int = 15,
                 neighbours: str = "wordnet+embedding", synonyms: dict[str, list[str]] | None = None,
                 stop_words: frozenset[str] | None = None):
        if neighbours not in NEIGHBOURS:
            raise DistillationError(f"augmentation neighbours must be one of {', '.join(NEIGHBOURS)}, got {neighbours!r}")
        if k < 1:
            raise DistillationError(f"augmentation candidates (K) must be >= 1, got {k}")
        self.tokenizer, self.encoder, self.mlm_head = tokenizer, encoder.eval(), mlm_head
        self.k, self.neighbours = k, neighbours
        self._synonyms = synonyms
        if stop_words is None:
            from spacy.lang.en.stop_words import STOP_WORDS

            stop_words = frozenset(STOP_WORDS)
        self.stop_words = stop_words
        self._neighbour_cache: dict[str, list[str]] = {}

    # ---------------------------------------------------------------- vocabulary
    def pieces(self, word: str) -> list[int]:
        return self.tokenizer.encode(word, add_special_tokens=False)

    @cached_property
    def vocab(self) -> list[str]:
        """id → token string."""
        backend = self.tokenizer.backend
        return [backend.id_to_token(i) or "" for i in range(self.tokenizer.vocab_size)]

    @cached_property
    def whole_words(self) -> torch.Tensor:
        """(V,) bool: vocabulary entries that are whole alphabetic words (no ``##``, no specials)."""
        specials = self.tokenizer.special_ids()
        return torch.tensor([i not in specials and t.isalpha() for i, t in enumerate(self.vocab)])

    @cached_property
    def unit_embeddings(self) -> torch.Tensor:
        """(V, E) the encoder's input word embeddings, L2-normalised rows."""
        weight = self.encoder.get_input_embeddings().weight.detach().float()
        return weight / weight.norm(dim=-1, keepdim=True).clamp(min=1e-8)

    @property
    def synonyms(self) -> dict[str, list[str]]:
        if self._synonyms is None:
            self._synonyms = wordnet_synonyms()
        return self._synonyms

    # ---------------------------------------------------------------- the two sources
    def embedding_neighbours(self, word: str, k: int) -> list[str]:
        """The k whole words nearest to the mean of ``word``'s piece embeddings (cosine), itself excluded."""
        ids = self.pieces(word)
        if not ids or k <= 0:
            return []
        query = self.unit_embeddings[ids].mean(0)  # (E,)
        scores = self.unit_embeddings @ query  # (V,)
        scores = scores.masked_fill(~self.whole_words, float("-inf"))
        if len(ids) == 1:
            scores[ids[0]] = float("-inf")
        top = scores.topk(k + 1).indices.tolist()
        return [self.vocab[i] for i in top if self.vocab[i] != word][:k]

    def neighbour_candidates(self, word: str) -> list[str]:
        """WordNet synonyms, then embedding neighbours, up to K (per ``neighbours``); cached per word."""
        if word not in self._neighbour_cache:
            found: list[str] = []
            if "wordnet" in self.neighbours:
                found = list(self.synonyms.get(word, []))[:self.k]
            if "embedding" in self.neighbours and len(found) < self.k:
                extra = self.embedding_neighbours(word, self.k + len(found))
                found += [w for w in extra if w not in found][:self.k - len(found)]
            self._neighbour_cache[word] = found
        return self._neighbour_cache[word]

    @torch.no_grad()
    def mlm_candidates(self, words: Sequence[str], positions: Sequence[int], max_length: int = 128
                       ) -> dict[int, list[str]]:
        """word index → the K most probable whole words at that word masked, one batch per sentence:
        row r = [CLS] pieces… [SEP] with word ``positions[r]`` (a single piece) replaced by [MASK]."""
        if not positions:
            return {}
        tok = self.tokenizer
        pieces = [self.pieces(w) for w in words]
        starts, ids = [], [tok.token_id("cls")]
        for p in pieces:
            starts.append(len(ids))
            ids += p
        ids = (ids + [tok.token_id("sep")])[:max_length]
        rows = torch.tensor(ids).repeat(len(positions), 1)  # (R, S)
        labels = torch.full_like(rows, -100)
        kept = []
        for r, i in enumerate(positions):
            if starts[i] >= max_length - 1:
                continue
            labels[r, starts[i]] = rows[r, starts[i]]
            rows[r, starts[i]] = tok.mask_id
            kept.append(i)
        if not kept:
            return {}
        keep_rows = (labels != -100).any(1)
        out = self.encoder(rows[keep_rows], torch.ones_like(rows[keep_rows]))
        logits = self.mlm_head(out, labels[keep_rows]).logits.float()  # (R', V), one row per masked word
        logits = logits.masked_fill(~self.whole_words, float("-inf"))
        top = logits.topk(self.k).indices.tolist()
        return {i: [self.vocab[t] for t in row] for i, row in zip(kept, top, strict=True)}

    def candidates(self, words: Sequence[str]) -> dict[int, list[str]]:
        """Algorithm 1's C for every replaceable word of one sentence."""
        single, multi = [], []
        for i, w in enumerate(words):
            if replaceable(w, self.stop_words):
                (single if len(self.pieces(w)) == 1 and self.mlm_head is not None else multi).append(i)
        out = self.mlm_candidates(words, single)
        for i in multi:
            out[i] = self.neighbour_candidates(words[i])
        return out


def augment_examples(examples: Sequence, source: CandidateSource, copies: int = 20, p_replace: float = 0.4,
                     seed: int = 0, on_progress: Callable[[int], None] | None = None) -> list:
    """The originals, then N_a augmented copies of each (``dataclasses.replace(e, text=...)``, labels
    kept): n·(1 + N_a) examples. Copies are words joined by single spaces (the tokenizer re-splits
    punctuation the same way)."""
    if copies < 0 or not 0.0 <= p_replace <= 1.0:
        raise DistillationError(f"augmentation needs copies >= 0 and 0 <= p_replace <= 1 (got {copies}, {p_replace})")
    rng = random.Random(seed)
    out = list(examples)
    for n, example in enumerate(examples):
        words = split_words(source.tokenizer, example.text)
        candidates = source.candidates(words)
        for copy in draw_copies(words, candidates, copies, p_replace, rng):
            out.append(dataclasses.replace(example, text=" ".join(copy)))
        if on_progress is not None:
            on_progress(n + 1)
    return out
