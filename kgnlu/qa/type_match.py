"""Whether an entity fits a type word ("country", "animal", "person", "package"), from the graph.

An entity's types are, as far as the graph says: its kind's word (``geonames:country``, a WordNet
lexicographer file, its first ``rdf:type`` class), the labels of all its ``rdf:type`` classes and
their ``rdfs:subClassOf`` ancestors, and the labels of its hypernym closure (WordNet's hypernym and
instance-hypernym pointers) — for it and its ``owl:sameAs`` twins. A type word fits when it is one
of them or, through WordNet's noun hierarchy (when installed), an ancestor of one ("professor" is a
"person", "city" is a "location").

Scores are probabilities that the answer is of the asked type: MATCH, UNKNOWN (the graph says
nothing either way), MISMATCH (it types the entity, and not so).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MATCH, UNKNOWN, MISMATCH = 1.0, 0.5, 0.05
HYPERNYM_RELATIONS = ("wnrel:hypernym", "wnrel:instance_hypernym", "rdfs:subClassOf")
MAX_CLOSURE = 64  # ancestors gathered per entity: WordNet's deepest chains have ~20


class TypeMatcher:
    def __init__(self, kg, profile):
        from kgnlu.qa.phrasing import _wordnet

        self.kg, self.profile, self.wn = kg, profile, _wordnet()
        names = kg.relation_names
        self.up = [names[r] for r in HYPERNYM_RELATIONS if r in names]
        self.type_relation = names.get("rdf:type")
        self.same_as = names.get("owl:sameAs")
        self.kind_words = profile.kind_words
        self.entity_types = lru_cache(maxsize=65536)(self._entity_types)
        self.kind_match = lru_cache(maxsize=256)(self._kind_match)
        self.word_ancestors = lru_cache(maxsize=8192)(self._word_ancestors)

    def _word_ancestors(self, word: str) -> frozenset[str]:
        """``word`` and what WordNet says it is a kind of (empty closure without WordNet)."""
        if not word:
            return frozenset()
        out = {word}
        if self.wn is not None:
            out |= self.wn.ancestors(word)
        return frozenset(out)

    def _kind_match(self, word: str) -> np.ndarray:
        """float64 [K]: MATCH for kinds that are ``word`` (or narrower), UNKNOWN for unnamed or broader
        kinds (some of a broader kind's entities may be ``word``s), MISMATCH for the rest."""
        out = np.full(len(self.kind_words), MISMATCH)
        wanted = self.word_ancestors(word)
        for k, kw in enumerate(self.kind_words):
            if not kw:
                out[k] = UNKNOWN
            elif kw == word or word in self.word_ancestors(kw) or kw.split()[-1] == word:
                out[k] = MATCH
            elif kw in wanted:
                out[k] = UNKNOWN
        return out

    def _entity_types(self, e: int) -> tuple[frozenset[str], frozenset[str]]:
        """(closure, classes) of ``e`` and its sameAs twins: ``closure`` the labels of its hypernym
        closure (exact senses, from the graph), ``classes`` its kind's word and its ``rdf:type``
        classes' labels (with their subclass ancestors) — words whose own WordNet ancestors count too
        ("professor" → "person"). Closure labels are not expanded through WordNet: a label such as
        "area" has unrelated senses ("country")."""
        kg = self.kg
        seeds = [e]
        if self.same_as is not None:
            seeds += [s.target if s.source == e else s.source for s in kg.walker.neighbors(e, "both", [self.same_as])]
        closure: set[str] = set()
        classes: set[str] = set()
        for seed in seeds:
            classes.add(self.kind_words[int(kg.entity_kinds[seed])])
            typed = [s.tail for s in kg.walker.neighbors(seed, "out", [self.type_relation])] \
                if self.type_relation is not None else []
            for group, start in ((closure, [seed]), (classes, typed)):
                frontier, seen = list(start), set(start)
                while frontier and len(seen) < MAX_CLOSURE:
                    nxt = []
                    for node in frontier:
                        if node != seed:
                            group.add(kg.entity_label(node).strip().lower())
                        if self.up:
                            nxt += [s.tail for s in kg.walker.neighbors(node, "out", self.up) if s.tail not in seen]
                    seen.update(nxt)
                    frontier = nxt
        closure.discard("")
        classes.discard("")
        return frozenset(closure), frozenset(classes)

    def entity_match(self, e: int, word: str) -> float:
        """MATCH / UNKNOWN / MISMATCH: how well entity ``e`` fits the type word."""
        closure, classes = self.entity_types(int(e))
        if word in closure or word in classes or any(word in self.word_ancestors(c) for c in classes):
            return MATCH
        if not closure and not classes:
            return UNKNOWN
        # typed, but not as ``word``: a mismatch unless the only evidence is a broader kind
        kind_score = float(self.kind_match(word)[int(self.kg.entity_kinds[int(e)])])
        return MISMATCH if closure or kind_score != UNKNOWN else UNKNOWN

    def matches(self, entities: np.ndarray, word: str) -> np.ndarray:
        """float64 [n] :meth:`entity_match` of each entity."""
        return np.array([self.entity_match(int(e), word) for e in np.asarray(entities).tolist()], dtype=np.float64)

    def path_match(self, last_symbol: int, word: str) -> float:
        """Expected fit of a path's answers, from how its last step's answer ends spread over kinds."""
        dist = self.profile.answer_kinds(last_symbol)
        if not dist.any():
            return UNKNOWN
        return float(dist @ self.kind_match(word))

    def knows(self, word: str) -> bool:
        """Whether ``word`` names or covers some kind of this graph (else it types nothing here)."""
        return bool((self.kind_match(word) == MATCH).any())
