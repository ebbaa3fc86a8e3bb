"""What question answering needs to know about a graph's shape, computed once per graph.

* every kind (``entity_kinds``: ``geonames:country``, ``wordnet:noun.animal``, an ``rdf:type``
  class such as ``http://ex.org/uni#Professor``) as an English type word: the class's own label
  when the graph has one, else the kind's name ("country", "animal", "professor");
* per step symbol (``2·relation + 0 forward | 1 inverse``, :mod:`kgnlu.qa.paths`) how its edges'
  answer ends spread over kinds: "the capital of x" ends at cities, "what depends on x" at packages.

Both are plain numpy over the triple table (a few ms for 400k triples).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from kgnlu.qa.phrasing import local_name, split_words

# Jaccard overlap of a relation's edges with their reversals above which it counts as symmetric:
# GeoNames' neighbour lists miss a few reverse entries, WordNet's derivation links too
SYMMETRIC_SHARE = 0.9
DOMINANT_SHARE = 0.5
# kinds of the entities that describe the graph's schema: a predicate or class with an rdfs:label is
# linkable ("maintainer" in "Who's the maintainer of make?") but is a relation or type, not a topic
PROPERTY_KINDS = frozenset({"owl:ObjectProperty", "owl:DatatypeProperty", "owl:AnnotationProperty", "rdf:Property"})
SCHEMA_KINDS = PROPERTY_KINDS | {"owl:Class", "rdfs:Class"}
# steps that type or classify: asked about as a question's last step only ("what type of thing is
# the maintainer of make?"), never chained ("the type of the type of ...")
SCHEMA_RELATIONS = ("rdf:type", "rdfs:subClassOf", "rdfs:subPropertyOf")  # a step's type word is used when this share of its answer ends has one kind
# WordNet's lexicographer files that name no useful type ("Tops" holds entity, object, ...)
_UNNAMED_LEXFILES = frozenset({"Tops", "all", "pert", "ppl"})


def kind_word(kg, kind: str) -> str:
    """A kind as a lowercase English noun; "" when it names nothing (the builder's ``entity``)."""
    if not kind or kind == "entity":
        return ""
    source, _, name = kind.partition(":")
    if source == "wordnet" and "." in name:
        pos, lex = name.split(".", 1)
        return "" if pos != "noun" or lex in _UNNAMED_LEXFILES else lex.lower()
    if source == "geonames" and name:
        return split_words(name)
    e = kg.index_of(kind)  # an rdf:type class: its own label when it has one
    if e >= 0:
        label = kg.entity_label(e)
        if label and label != kind:
            return label.strip().lower()
    return split_words(local_name(kind))


def canonical_symbols(trip: np.ndarray, num_relations: int, num_entities: int) -> np.ndarray:
    """int64 [2R]: for each step symbol, the symbol that walks the same edges, preferring forward
    steps. WordNet writes both directions of its pointers (hyponym = hypernym read backwards) and
    some relations are symmetric (neighbour, antonym): without this every such path would be asked
    about, scored and walked twice under two names."""
    canonical = np.arange(2 * num_relations, dtype=np.int64)
    keys, reverse = {}, {}
    order = np.argsort(trip[:, 1], kind="stable") if len(trip) else np.zeros(0, dtype=np.int64)
    sorted_trip = trip[order]
    bounds = np.searchsorted(sorted_trip[:, 1], np.arange(num_relations + 1))
    for r in range(num_relations):
        rows = sorted_trip[bounds[r]: bounds[r + 1]]
        if not len(rows):
            continue
        keys[r] = np.unique(rows[:, 0] * num_entities + rows[:, 2])
        reverse[r] = np.unique(rows[:, 2] * num_entities + rows[:, 0])
    for r, rev in reverse.items():
        shared = len(np.intersect1d(rev, keys[r], assume_unique=True))
        if shared >= SYMMETRIC_SHARE * (len(rev) + len(keys[r]) - shared):
            canonical[2 * r + 1] = 2 * r  # symmetric: walking it backwards is walking it forwards
            continue
        for q in range(r):  # the lower relation id keeps its inverse symbol
            if q in keys and len(keys[q]) == len(rev) and np.array_equal(keys[q], rev):
                canonical[2 * r + 1], canonical[2 * q + 1] = 2 * q, 2 * r  # r^-1 = q, q^-1 = r
                break
    return canonical


class GraphProfile:
    def __init__(self, kg):
        self.kg = kg
        self.kind_words: list[str] = [kind_word(kg, k) for k in kg.kinds]
        self._people: list[bool] | None = None
        num_kinds, num_symbols = len(kg.kinds), 2 * kg.num_relations
        trip = np.asarray(kg.triples, dtype=np.int64)
        kinds = np.asarray(kg.entity_kinds, dtype=np.int64)
        counts = np.zeros((num_symbols, num_kinds), dtype=np.int64)
        if len(trip):
            # forward symbol 2r ends at the tail, inverse 2r+1 at the head
            np.add.at(counts, (2 * trip[:, 1], kinds[trip[:, 2]]), 1)
            np.add.at(counts, (2 * trip[:, 1] + 1, kinds[trip[:, 0]]), 1)
        self.symbol_kind_counts = counts  # int64 (2R, K)
        self.canonical = canonical_symbols(trip, kg.num_relations, kg.num_entities)  # int64 [2R]
        type_relation = kg.relation_names.get("rdf:type")
        # the objects of rdf:type statements are classes, whether or not the graph declares them
        self.classes = frozenset(np.unique(trip[trip[:, 1] == type_relation][:, 2]).tolist()) \
            if type_relation is not None and len(trip) else frozenset()

    def is_schema(self, e: int) -> bool:
        """Whether entity ``e`` is one of the graph's predicates or classes rather than a thing in it."""
        return bool(self.schema_mask[int(e)])

    @cached_property
    def schema_mask(self) -> np.ndarray:
        """bool [E]: the graph's predicates (entities named like a relation, or of a property kind)
        and classes (objects of rdf:type, or of a class kind)."""
        kg = self.kg
        mask = np.zeros(kg.num_entities, dtype=bool)
        schema_kinds = [i for i, k in enumerate(kg.kinds) if k in SCHEMA_KINDS]
        if schema_kinds:
            mask |= np.isin(np.asarray(kg.entity_kinds), schema_kinds)
        for r in range(kg.num_relations):
            e = kg.index_of(kg.relation_id(r))
            if e >= 0:
                mask[e] = True
        if self.classes:
            mask[np.fromiter(self.classes, dtype=np.int64)] = True
        return mask

    def is_predicate(self, e: int) -> bool:
        """Whether entity ``e`` is one of the graph's relations (an rdfs:labelled predicate)."""
        kg = self.kg
        return kg.entity_id(e) in kg.relation_names or kg.entity_kind(e) in PROPERTY_KINDS

    def schema_symbol(self, symbol: int) -> bool:
        return self.kg.relation_id(symbol // 2) in SCHEMA_RELATIONS

    def redundant(self, symbol: int) -> bool:
        """Whether another symbol walks exactly the same edges (``hyponym^-1`` is ``hypernym``)."""
        return int(self.canonical[symbol]) != symbol

    def answer_kinds(self, symbol: int) -> np.ndarray:
        """float64 [K]: how the answer ends of ``symbol``'s edges spread over kinds (zeros if none)."""
        row = self.symbol_kind_counts[symbol].astype(np.float64)
        total = row.sum()
        return row / total if total else row

    def type_word(self, symbol: int) -> str:
        """The answer side's type word when one named kind dominates; "person" when people do
        (professors and lecturers: "who"), else ""."""
        dist = self.answer_kinds(symbol)
        if not dist.any():
            return ""
        k = int(dist.argmax())
        if dist[k] >= DOMINANT_SHARE and self.kind_words[k]:
            return self.kind_words[k]
        people = sum(share for share, person in zip(dist, self._person_kinds(), strict=True) if person)
        return "person" if people >= DOMINANT_SHARE else ""

    def _person_kinds(self) -> list[bool]:
        if self._people is None:
            from kgnlu.qa.phrasing import _wordnet

            wn = _wordnet()
            self._people = [bool(w) and (w == "person" or (wn is not None and "person" in wn.ancestors(w)))
                            for w in self.kind_words]
        return self._people
