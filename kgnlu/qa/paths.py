"""Relation paths: the sequences of (relation, direction) steps a question asks the graph to walk.

A path is written as external relation ids joined by ``/``, with ``^-1`` marking a step walked
against the edge (tail → head), the QA data's convention: ``gnrel:country/gnrel:continent``,
``wnrel:hypernym^-1``. Internally a step is a *symbol* ``2·relation + (0 forward | 1 inverse)``,
and symbol :data:`PAD` (= ``2·R``) pads paths to :data:`MAX_HOPS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kgnlu.errors import QAError, UnknownEntityError

INVERSE = "^-1"
MAX_HOPS = 3  # MetaQA's deepest questions; longer paths explode on WordNet's hubs


@dataclass(frozen=True)
class RelationPath:
    """Steps as (internal relation id, forward) pairs, topic first."""

    steps: tuple[tuple[int, bool], ...]

    def __len__(self) -> int:
        return len(self.steps)

    def symbols(self) -> list[int]:
        return [2 * r + (0 if forward else 1) for r, forward in self.steps]

    def external(self, kg) -> list[str]:
        """The QA data's form: ``["gnrel:country", "wnrel:hypernym^-1"]``."""
        return [kg.relation_id(r) + ("" if forward else INVERSE) for r, forward in self.steps]

    def key(self, kg) -> str:
        return "/".join(self.external(kg))

    def describe(self, kg) -> str:
        """Readable form, e.g. ``country → continent`` or ``(inverse) hypernym``."""
        return " → ".join(kg.relation_label(r) if forward else f"inverse {kg.relation_label(r)}"
                          for r, forward in self.steps)

    @classmethod
    def parse(cls, relations: Sequence[str] | str, kg) -> RelationPath:
        """From the QA data's list (or its ``/``-joined key); unknown relations raise QAError."""
        parts = relations.split("/") if isinstance(relations, str) else list(relations)
        if not 1 <= len(parts) <= MAX_HOPS:
            raise QAError(f"a relation path has 1 to {MAX_HOPS} steps, got {parts!r}")
        steps = []
        for part in parts:
            forward = not part.endswith(INVERSE)
            name = part[: -len(INVERSE)] if not forward else part
            try:
                steps.append((kg.relation_index(name), forward))
            except UnknownEntityError as err:
                raise QAError(f"relation path {parts!r}: {err}. Regenerate the QA data against this graph "
                              "(`kgnlu data make-qa GRAPH --out DIR`)") from None
        return cls(tuple(steps))

    @classmethod
    def from_symbols(cls, symbols: Sequence[int]) -> RelationPath:
        return cls(tuple((s // 2, s % 2 == 0) for s in symbols))
