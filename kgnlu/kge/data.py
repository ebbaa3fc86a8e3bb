"""KGEData: the integer triples a KGE run trains and evaluates on, with its filter index.

Made from a :class:`~kgnlu.kg.KnowledgeGraph` (its ``triple_split``: 0 train, 1 valid, 2 test),
from the WordNet benchmark, or from any three int arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from kgnlu.errors import ConfigError

SPLITS = ("train", "valid", "test")


@dataclass
class KGEData:
    train: torch.Tensor  # int64 [T, 3] (head, relation, tail)
    valid: torch.Tensor  # int64 [V, 3]
    test: torch.Tensor  # int64 [S, 3]
    num_entities: int
    num_relations: int
    name: str = ""
    _filters: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_graph(cls, kg) -> KGEData:
        """A graph's own split. Graphs without valid/test triples raise ConfigError."""
        triples = np.asarray(kg.triples, dtype=np.int64)
        split = np.asarray(kg.triple_split)
        parts = [torch.from_numpy(triples[split == i].copy()) for i in range(3)]
        if len(parts[0]) == 0:
            raise ConfigError(f"{kg.path} has no training triples")
        return cls(*parts, num_entities=kg.num_entities, num_relations=kg.num_relations, name=kg.name)

    def split(self, name: str) -> torch.Tensor:
        if name not in SPLITS:
            raise ConfigError(f"split must be one of {', '.join(SPLITS)}, got {name!r}")
        return getattr(self, name)

    def all_triples(self) -> torch.Tensor:  # [T+V+S, 3]
        return torch.cat([self.train, self.valid, self.test])

    def filter_index(self, side: str, device: torch.device | str = "cpu") -> FilterIndex:
        """Known answers of every (h, r, ?) query (``side="tail"``) or (?, r, t) query ("head"),
        over train + valid + test (the filtered setting of Bordes et al. 2013)."""
        key = (side, str(device))
        if key not in self._filters:
            self._filters[key] = FilterIndex.build(self.all_triples(), side, self.num_relations,
                                                   self.num_entities).to(device)
        return self._filters[key]


@dataclass
class FilterIndex:
    """CSR over sorted query keys: answers of query k are ``answers[indptr[i]:indptr[i+1]]`` where
    ``keys[i] == k``. A key is ``entity * num_relations + relation`` for the fixed entity."""

    keys: torch.Tensor  # int64 [Q] sorted, unique
    indptr: torch.Tensor  # int64 [Q + 1]
    answers: torch.Tensor  # int64 [A]
    side: str
    num_relations: int

    @classmethod
    def build(cls, triples: torch.Tensor, side: str, num_relations: int, num_entities: int) -> FilterIndex:
        if side not in ("head", "tail"):
            raise ConfigError(f"side must be 'head' or 'tail', got {side!r}")
        fixed, answer = (triples[:, 0], triples[:, 2]) if side == "tail" else (triples[:, 2], triples[:, 0])
        key = fixed * num_relations + triples[:, 1]
        # sort by (key, answer) and drop duplicate triples
        combined = torch.unique(key * num_entities + answer)
        key, answer = combined // num_entities, combined % num_entities
        keys, counts = torch.unique_consecutive(key, return_counts=True)
        indptr = torch.zeros(len(keys) + 1, dtype=torch.int64)
        indptr[1:] = torch.cumsum(counts, 0)
        return cls(keys, indptr, answer, side, num_relations)

    def to(self, device) -> FilterIndex:
        return FilterIndex(self.keys.to(device), self.indptr.to(device), self.answers.to(device),
                           self.side, self.num_relations)

    def mask_positions(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """batch [B, 3] → (rows [K], cols [K]): every known answer of each row's query."""
        fixed = batch[:, 0] if self.side == "tail" else batch[:, 2]
        key = fixed * self.num_relations + batch[:, 1]
        pos = torch.searchsorted(self.keys, key).clamp_max(len(self.keys) - 1)
        found = self.keys[pos] == key
        start = self.indptr[pos]
        count = torch.where(found, self.indptr[pos + 1] - start, torch.zeros_like(start))
        rows = torch.repeat_interleave(torch.arange(len(batch), device=batch.device), count)
        offsets = torch.arange(int(count.sum()), device=batch.device) - torch.repeat_interleave(
            torch.cumsum(count, 0) - count, count)
        cols = self.answers[torch.repeat_interleave(start, count) + offsets]
        return rows, cols
