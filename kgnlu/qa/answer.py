"""What KGQA returns: :class:`Answer` records with evidence paths, in an :class:`AnswerList`
that also says why it is empty when it is."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvidenceTriple:
    """One stored triple (graph orientation), with labels; ``forward`` is False when the path
    walks it from tail to head."""

    head: str
    relation: str
    tail: str
    head_label: str
    relation_label: str
    tail_label: str
    forward: bool = True

    def to_json(self) -> dict:
        return {"head": self.head, "relation": self.relation, "tail": self.tail,
                "head_label": self.head_label, "relation_label": self.relation_label,
                "tail_label": self.tail_label, "forward": self.forward}


@dataclass(frozen=True)
class EvidencePath:
    """Triples chaining the topic entity to the answer, and the probability of the relation path."""

    triples: tuple[EvidenceTriple, ...]
    score: float
    relations: tuple[str, ...] = ()  # the relation path, QA-data form ("gnrel:country", "x^-1")

    @property
    def text(self) -> str:
        parts = []
        for t in self.triples:
            parts.append(f"{t.head_label} --{t.relation_label}--> {t.tail_label}" if t.forward
                         else f"{t.tail_label} <--{t.relation_label}-- {t.head_label}")
        return "; ".join(parts)

    def to_json(self) -> dict:
        return {"score": round(self.score, 6), "relations": list(self.relations), "text": self.text,
                "triples": [t.to_json() for t in self.triples]}


def connection_key(pairs) -> tuple[tuple[str, str], ...]:
    """The chain of entity pairs a path joins, whatever relation or direction each step takes:
    ``France --capital--> Paris`` and ``France <--country-- Paris``, or ``power shovel --derivation-->
    dig`` and ``power shovel <--derivation-- dig``, are one connection read in its two directions.
    ``pairs``: each step's (head, tail), as the reader sees them (labels, else ids)."""
    return tuple(tuple(sorted((str(h), str(t)))) for h, t in pairs)


def distinct_paths(paths) -> tuple[EvidencePath, ...]:
    """``paths`` in order, without those that read as the same connection as an earlier one
    (:func:`connection_key` over the labels shown), so a fact stored both ways is shown once."""
    seen, out = set(), []
    for path in paths:
        key = connection_key((t.head_label or t.head, t.tail_label or t.tail) for t in path.triples)
        if key not in seen:
            seen.add(key)
            out.append(path)
    return tuple(out)


@dataclass(frozen=True)
class Answer:
    entity: str  # external id
    label: str
    score: float  # in [0, 1]: softmax over the candidate answers
    evidence: tuple[EvidencePath, ...] = ()
    kind: str = ""

    def to_json(self) -> dict:
        return {"entity": self.entity, "label": self.label, "score": round(self.score, 6),
                "kind": self.kind, "evidence": [e.to_json() for e in self.evidence]}


class AnswerList(list):
    """A list of :class:`Answer`, best first, with ``reason`` set when it is empty (no linkable
    entity, no path the graph supports) and ``topic`` the entity the answers start from."""

    def __init__(self, answers=(), *, question: str = "", reason: str | None = None,
                 topic: dict | None = None):
        super().__init__(answers)
        self.question, self.reason, self.topic = question, reason, topic

    def to_json(self) -> dict:
        out = {"question": self.question, "answers": [a.to_json() for a in self]}
        if self.reason:
            out["reason"] = self.reason
        if self.topic:
            out["topic"] = self.topic
        return out


@dataclass(frozen=True)
class ChoiceScore:
    """Multiple-choice mode: one choice, its score, the entity it was read as, and evidence."""

    choice: str
    score: float  # softmax over the choices
    entity: str | None
    label: str
    evidence: tuple[EvidencePath, ...] = field(default=())
    matched: str = ""  # the graph entity whose gloss matched the context, and the shared words

    def to_json(self) -> dict:
        return {"choice": self.choice, "score": round(self.score, 6), "entity": self.entity,
                "label": self.label, "matched": self.matched, "evidence": [e.to_json() for e in self.evidence]}


@dataclass
class ChoiceResult:
    question: str
    choices: list[ChoiceScore]
    reason: str | None = None

    @property
    def best(self) -> ChoiceScore | None:
        return max(self.choices, key=lambda c: c.score) if self.choices else None

    def to_json(self) -> dict:
        best = self.best
        out = {"question": self.question, "choices": [c.to_json() for c in self.choices],
               "answer": best.choice if best else None}
        if self.reason:
            out["reason"] = self.reason
        return out
