"""Lexical context similarity (the ``fast`` mode's context feature): a simplified Lesk.

Each entity is a bag of words from its label and text (gloss, examples, description; sameAs
cluster members pooled). A mention's context is the bag of words around it. Similarity is the
cosine of the binary bags weighted by IDF over entity texts: "Paris, a city in Texas" shares the
rare word "texas" with Paris, Texas's description and nothing with Paris, France's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from kgnlu.kg.linker.mentions import STOP
from kgnlu.kg.strings import StringTable, write_strings

_WORD = re.compile(r"[^\W\d_]{2,}")


def stem(word: str) -> str:
    """A crude plural strip, enough to meet "cities"/"city", "banks"/"bank"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return [stem(w) for w in (m.group().casefold() for m in _WORD.finditer(text)) if w not in STOP]


class LexicalIndex:
    def __init__(self, vocab: list[str], idf: np.ndarray, indptr: np.ndarray, ids: np.ndarray,
                 norms: np.ndarray):
        self.vocab = tuple(vocab)  # tuples of str/float are untracked by the cyclic GC
        self.word_index = {w: i for i, w in enumerate(vocab)}
        self.idf = idf  # float32 [V]
        # int64 [E+1], int32 [P], float32 [E]; plain ndarray views (a memmap slice costs ~0.1 ms)
        self.indptr, self.ids, self.norms = np.asarray(indptr), np.asarray(ids), np.asarray(norms)
        self._bags: dict[int, frozenset[int]] = {}
        self._idf2 = tuple((idf.astype(np.float64) ** 2).tolist())

    @classmethod
    def build(cls, texts: Sequence[str], canonical: np.ndarray) -> LexicalIndex:
        """``texts[e]``: label and text of entity e; clusters pool their members' words."""
        n = len(texts)
        pooled: dict[int, set[str]] = {}
        for e, text in enumerate(texts):
            pooled.setdefault(int(canonical[e]), set()).update(words(text))
        df: dict[str, int] = {}
        for bag in pooled.values():
            for w in bag:
                df[w] = df.get(w, 0) + 1
        vocab = sorted(df)
        index = {w: i for i, w in enumerate(vocab)}
        idf = np.asarray([math.log((1 + len(pooled)) / (1 + df[w])) + 1.0 for w in vocab],
                         dtype=np.float32)
        bags = [sorted(index[w] for w in pooled.get(e, ())) for e in range(n)]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(b) for b in bags], out=indptr[1:])
        ids = np.asarray([i for b in bags for i in b], dtype=np.int32)
        idf2 = idf.astype(np.float64) ** 2
        norms = np.asarray([math.sqrt(idf2[b].sum()) if b else 0.0 for b in bags], dtype=np.float32)
        return cls(vocab, idf, indptr, ids, norms)

    def save(self, folder: Path) -> list[Path]:
        files = write_strings(self.vocab, folder / "lexical_vocab")
        for name, arr in (("lexical_idf", self.idf), ("lexical_indptr", self.indptr),
                          ("lexical_ids", self.ids), ("lexical_norms", self.norms)):
            np.save(folder / f"{name}.npy", arr)
            files.append(folder / f"{name}.npy")
        return files

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        from kgnlu.kg.strings import read_strings

        return cls(read_strings(StringTable(folder / "lexical_vocab")), np.load(folder / "lexical_idf.npy"),
                   np.load(folder / "lexical_indptr.npy"), np.load(folder / "lexical_ids.npy", mmap_mode="r"),
                   np.load(folder / "lexical_norms.npy"))

    def bag(self, e: int) -> frozenset[int]:
        hit = self._bags.get(e)
        if hit is None:
            hit = frozenset(self.ids[self.indptr[e]:self.indptr[e + 1]].tolist())
            if len(self._bags) < 300_000:
                self._bags[e] = hit
        return hit

    def context(self, tokens: Iterable[str]) -> tuple[frozenset[int], float]:
        """Word ids of context words (already normalised by :func:`words`) and the bag's norm."""
        get = self.word_index.get
        ids = frozenset(i for i in (get(w) for w in tokens) if i is not None)
        idf2 = self._idf2
        return ids, math.sqrt(sum(idf2[i] for i in ids))

    def similarity(self, context: tuple[frozenset[int], float], e: int) -> float:
        ids, norm = context
        denom = norm * float(self.norms[e])
        if denom == 0.0:
            return 0.0
        bag = self.bag(e)
        idf2 = self._idf2
        small, large = (ids, bag) if len(ids) <= len(bag) else (bag, ids)
        return sum(idf2[i] for i in small if i in large) / denom
