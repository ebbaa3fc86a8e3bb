"""Matching a question against relation-path descriptions, word order included.

A sentence encoder's cosine barely sees where the topic stands: "Which packages depend on
something?" is closer to "What does something depend on?" than to "What depends on something?".
So each text is also split at the topic into its left and right sides, each side embedded, and a
description's score is

    cos(question, description) + side_weight · (cos(left_q, left_d) + cos(right_q, right_d))

("Which packages depend on" ~ "What depends on"; "?" = "?"). A path scores as its best
description (max, not mean: a path has active, passive and noun-phrase wordings, and a question
uses one of them).

    bank = DescriptionBank.build(descriptions_per_path, encode, "something")
    scores = bank.scores(question_vectors, left_vectors, right_vectors, side_weight=0.5)   # (B, P)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EMPTY_SIDE = "(nothing)"  # what an empty side embeds as, in questions and descriptions alike


def sides(text: str, start: int, end: int) -> tuple[str, str]:
    """The text left and right of [start, end), stripped; an empty side is :data:`EMPTY_SIDE`."""
    left, right = text[:start].strip(), text[end:].strip()
    return left or EMPTY_SIDE, right or EMPTY_SIDE


def placeholder_sides(text: str, placeholder: str) -> tuple[str, str]:
    at = text.find(placeholder)
    if at < 0:
        return text, EMPTY_SIDE
    return sides(text, at, at + len(placeholder))


@dataclass
class DescriptionBank:
    owner: np.ndarray  # int64 [D] path index of each description (non-decreasing)
    starts: np.ndarray  # int64 [P] first row of each path's descriptions
    whole: np.ndarray  # float32 [D, H] unit rows
    left: np.ndarray | None  # float32 [D, H] (None: whole texts only)
    right: np.ndarray | None  # float32 [D, H]

    @property
    def num_paths(self) -> int:
        return len(self.starts)

    @classmethod
    def build(cls, descriptions: Sequence[Sequence[str]], encode: Callable[[list[str]], np.ndarray],
              placeholder: str) -> DescriptionBank:
        """``descriptions[p]``: path p's texts (each holding ``placeholder`` once, at least one per path)."""
        owner, texts = [], []
        for p, ds in enumerate(descriptions):
            if not ds:
                raise ValueError(f"path {p} has no description")
            for d in ds:
                owner.append(p)
                texts.append(d)
        split = [placeholder_sides(t, placeholder) for t in texts]
        unique = list(dict.fromkeys([*texts, *(s for pair in split for s in pair)]))
        row = {t: i for i, t in enumerate(unique)}
        vectors = encode(unique)  # each distinct text once ("?" ends most descriptions)
        whole = vectors[[row[t] for t in texts]]
        left = vectors[[row[s[0]] for s in split]]
        right = vectors[[row[s[1]] for s in split]]
        owner_arr = np.asarray(owner, dtype=np.int64)
        starts = np.searchsorted(owner_arr, np.arange(len(descriptions)))
        return cls(owner_arr, starts, whole.astype(np.float32), left.astype(np.float32), right.astype(np.float32))

    def scores(self, question: np.ndarray, left: np.ndarray | None, right: np.ndarray | None,
               side_weight: float) -> np.ndarray:
        """(B, H) question vectors (and their sides) → float32 (B, P): each path's best description."""
        s = question @ self.whole.T  # (B, D)
        if side_weight and left is not None and right is not None and self.left is not None:
            s = s + side_weight * (left @ self.left.T + right @ self.right.T)
        return np.maximum.reduceat(s, self.starts, axis=1)

    @classmethod
    def from_arrays(cls, owner: np.ndarray, whole: np.ndarray, num_paths: int, where: str = "") -> DescriptionBank:
        """A bank of whole-text vectors only (no sides), as a trained QA model stores it; arrays that
        do not describe ``num_paths`` paths raise QAError naming ``where``."""
        from kgnlu.errors import QAError

        owner = np.asarray(owner, dtype=np.int64)
        if (whole.ndim != 2 or len(whole) != len(owner) or (len(owner) and (np.diff(owner) < 0).any())
                or not np.array_equal(np.unique(owner), np.arange(num_paths)) or not np.isfinite(whole).all()):
            raise QAError(f"{where}: the path description bank does not fit the model's {num_paths} paths; "
                          "retrain the model")
        return cls(owner, np.searchsorted(owner, np.arange(num_paths)), whole.astype(np.float32), None, None)

    # ------------------------------------------------------------------ storage (numpy only)
    def save(self, folder: Path) -> None:
        np.save(folder / "description_owner.npy", self.owner, allow_pickle=False)
        for name in ("whole", "left", "right"):  # float16 on disk: halves the cache, cosines move < 1e-3
            np.save(folder / f"description_{name}.npy", getattr(self, name).astype(np.float16), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, num_paths: int) -> DescriptionBank:
        owner = np.load(folder / "description_owner.npy", allow_pickle=False).astype(np.int64)
        parts = [np.load(folder / f"description_{n}.npy", allow_pickle=False).astype(np.float32)
                 for n in ("whole", "left", "right")]
        if any(len(p) != len(owner) for p in parts) or len(owner) and (np.diff(owner) < 0).any():
            raise ValueError("description arrays do not line up")
        if not np.array_equal(np.unique(owner), np.arange(num_paths)) or not all(np.isfinite(p).all() for p in parts):
            raise ValueError("every path needs finite descriptions")
        return cls(owner, np.searchsorted(owner, np.arange(num_paths)), *parts)
