"""What every corpus yields: :class:`Document` — an id and its sentences, in order.

Corpora stream: iterating a :class:`Corpus` reads files lazily and yields one document at a time,
so a corpus is never held in memory whole. Document boundaries are kept because NSP and SOP need
them (the "next" segment must come from the same document; the random one from another).

Entity mentions travel with the text as character spans *per sentence* (``EntitySpan``), which
the instance pipeline maps onto token spans for entity masking.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from kgnlu.registry import Registry


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """Characters ``[start, end)`` of one sentence mention ``entity`` (an id such as ``wn:02084071-n``)."""

    start: int
    end: int
    entity: str = ""


@dataclass(slots=True)
class Document:
    """One document: ``sentences`` in reading order; ``entities[i]`` are the spans in sentence i."""

    id: str
    sentences: list[str]
    entities: list[list[EntitySpan]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.entities:
            self.entities = [[] for _ in self.sentences]
        elif len(self.entities) != len(self.sentences):
            raise ValueError(f"document {self.id}: {len(self.entities)} entity lists for {len(self.sentences)} sentences")

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


class Corpus:
    """A re-iterable stream of documents; subclasses implement :meth:`__iter__`.

    Iteration order is deterministic (files sorted, lines in file order): the instance pipeline's
    sharding (document ``i`` goes to shard ``i % num_shards``) and seeded shuffling rely on it.
    """

    name = "corpus"

    def __iter__(self) -> Iterator[Document]:
        raise NotImplementedError

    def sentences(self) -> Iterator[str]:
        """Every sentence, in order (e.g. to train a tokenizer on)."""
        for document in self:
            yield from document.sentences


#: corpus name → class; ``CORPORA.get("wordnet")(directory=...)``
CORPORA: Registry[type[Corpus]] = Registry("corpus")
