"""The linker's output records: a :class:`Link` per linked mention, with its scored candidates."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entity a mention may name. ``score`` in [0, 1] (the disambiguator's probability);
    ``prior`` is p(e|m) from the alias table (0 for fuzzy/dense-only candidates)."""

    entity: str  # external id (CURIE or IRI)
    score: float
    prior: float = 0.0
    source: str = "alias"  # "alias", "variant" (lemma/plural form), "fuzzy" or "dense"

    def to_json(self) -> dict:
        return {"entity": self.entity, "score": round(self.score, 6), "prior": round(self.prior, 6),
                "source": self.source}


@dataclass(frozen=True, slots=True)
class Link:
    """A linked mention: ``text[start:end] == surface`` (character offsets into the input text).

    ``entity`` is the chosen external id; ``score`` its probability in [0, 1]; ``candidates``
    every candidate considered, best first, the chosen one included.
    """

    start: int
    end: int
    surface: str
    entity: str
    score: float
    candidates: tuple[Candidate, ...] = field(default=())

    def to_json(self) -> dict:
        return {"start": self.start, "end": self.end, "surface": self.surface,
                "entity": self.entity, "score": round(self.score, 6),
                "candidates": [c.to_json() for c in self.candidates]}
