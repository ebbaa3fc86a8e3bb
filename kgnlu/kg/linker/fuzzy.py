"""Fuzzy alias lookup for misspellings: a character-trigram inverted index, then edit distance.

``FuzzyIndex.lookup("Londn")`` → ``[(alias_row, 0.83), ...]``. Trigrams of ``#key#`` pick
candidates by Dice overlap (numpy over CSR posting lists); optimal-string-alignment distance
(Levenshtein plus adjacent transpositions, so "Texsa" is one edit from "Texas") keeps those close
enough. Saved as .npy arrays plus a string table: no pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kgnlu.kg.strings import StringTable, write_strings

MIN_KEY_LEN = 3


def trigrams(key: str) -> set[str]:
    padded = f"#{key}#"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits: insert, delete, substitute, swap neighbours)."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def similarity(a: str, b: str) -> float:
    """1 - distance / longer length, in [0, 1]."""
    if not a and not b:
        return 1.0
    return 1.0 - osa_distance(a, b) / max(len(a), len(b))


class FuzzyIndex:
    def __init__(self, keys: Sequence[str], grams: list[str], indptr: np.ndarray, rows: np.ndarray,
                 sizes: np.ndarray):
        self.keys = keys  # alias keys, index = alias row
        self.gram_index = {g: i for i, g in enumerate(grams)}
        self.grams = grams
        self.indptr, self.rows, self.sizes = indptr, rows, sizes  # int64 [G+1], int32 [P], uint16 [A]
        self._cache: dict[str, list[tuple[int, float]]] = {}

    @classmethod
    def build(cls, keys: Sequence[str]) -> FuzzyIndex:
        postings: dict[str, list[int]] = {}
        sizes = np.zeros(len(keys), dtype=np.uint16)
        for row, key in enumerate(keys):
            if len(key) < MIN_KEY_LEN or not any(c.isalpha() for c in key):
                continue
            grams = trigrams(key)
            sizes[row] = min(len(grams), 65535)
            for g in grams:
                postings.setdefault(g, []).append(row)
        grams = sorted(postings)
        indptr = np.zeros(len(grams) + 1, dtype=np.int64)
        np.cumsum([len(postings[g]) for g in grams], out=indptr[1:])
        rows = (np.concatenate([np.asarray(postings[g], dtype=np.int32) for g in grams])
                if grams else np.zeros(0, dtype=np.int32))
        return cls(keys, grams, indptr, rows, sizes)

    def save(self, folder: Path) -> list[Path]:
        files = write_strings(self.grams, folder / "fuzzy_grams")
        for name, arr in (("fuzzy_indptr", self.indptr), ("fuzzy_rows", self.rows),
                          ("fuzzy_sizes", self.sizes)):
            np.save(folder / f"{name}.npy", arr)
            files.append(folder / f"{name}.npy")
        return files

    @classmethod
    def load(cls, folder: Path, keys: Sequence[str]) -> FuzzyIndex:
        from kgnlu.kg.strings import read_strings

        grams = tuple(read_strings(StringTable(folder / "fuzzy_grams")))  # a tuple: untracked by the GC
        return cls(keys, grams, np.load(folder / "fuzzy_indptr.npy"),
                   np.load(folder / "fuzzy_rows.npy", mmap_mode="r"), np.load(folder / "fuzzy_sizes.npy"))

    def lookup(self, query: str, *, min_similarity: float = 0.75, limit: int = 5,
               shortlist: int = 50) -> list[tuple[int, float]]:
        """Alias rows within ``min_similarity`` of ``query`` (a normalised key), best first."""
        cache_key = f"{min_similarity}\x00{limit}\x00{query}"
        hit = self._cache.get(cache_key)
        if hit is not None:
            return hit
        result = self._lookup(query, min_similarity, limit, shortlist)
        if len(self._cache) < 100_000:
            self._cache[cache_key] = result
        return result

    def _lookup(self, query: str, min_similarity: float, limit: int, shortlist: int):
        if len(query) < MIN_KEY_LEN or len(query) > 64:
            return []
        qgrams = [self.gram_index[g] for g in trigrams(query) if g in self.gram_index]
        if not qgrams:
            return []
        parts = [self.rows[self.indptr[g]:self.indptr[g + 1]] for g in qgrams]
        rows, common = np.unique(np.concatenate(parts), return_counts=True)
        dice = 2.0 * common / (len(trigrams(query)) + self.sizes[rows].astype(np.float64))
        keep = dice >= 0.4
        rows, dice = rows[keep], dice[keep]
        if len(rows) > shortlist:
            top = np.argpartition(-dice, shortlist)[:shortlist]
            rows, dice = rows[top], dice[top]
        out = []
        for row in rows.tolist():
            key = self.keys[row]
            if abs(len(key) - len(query)) > max(2, len(query) // 3):
                continue
            sim = similarity(query, key)
            if sim >= min_similarity and key != query:
                out.append((row, sim))
        out.sort(key=lambda x: (-x[1], x[0]))
        return out[:limit]
