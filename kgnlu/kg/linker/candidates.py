"""Candidate generation: the graph's alias table with priors p(e|m), morphology variants, fuzzy
matches for misspellings and (neural mode) dense matches; ``owl:sameAs`` clusters are merged.

WordNet's Paris and GeoNames' Paris are one place joined by ``owl:sameAs``; the linker treats
each cluster as one candidate (its representative is the sameAs target, the GeoNames entity), with
the cluster members' priors for one surface summed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kgnlu.kg.linker.mentions import Mention

POS_CODES = {"n": 1, "v": 2, "a": 3, "r": 4}  # entity_pos values; 0 = not a WordNet synset
SAME_AS = "owl:sameAs"


@dataclass
class CandidateInfo:
    entity: int  # internal id of the cluster representative
    prior: float  # p(e|m), summed over sameAs members, max over the mention's variants
    source: str  # "alias", "variant", "fuzzy", "dense"
    match: float = 1.0  # surface match quality: 1 exact, <1 fuzzy similarity / dense cosine


class AliasTable:
    """The graph's alias arrays, plus a dict for O(1) key lookups (the matcher's hot path)."""

    def __init__(self, kg):
        from kgnlu.kg.strings import read_strings

        # Tuples of strings (and str-keyed dicts) are untracked by the cyclic GC; a list of ~500k
        # keys would be rescanned by every full collection (0.2 s each with the default graph).
        self.keys: tuple[str, ...] = tuple(read_strings(kg._alias_keys))
        self.index: dict[str, int] = {k: i for i, k in enumerate(self.keys)}
        self.indptr = np.asarray(kg._alias_indptr)
        self.entities = np.asarray(kg._alias_entities)
        self.priors = np.asarray(kg._alias_priors)

    def names_only(self, r: int, proper: np.ndarray) -> bool:
        """Whether every entity the alias row names is a proper name."""
        ents, _ = self.row(r)
        return bool(proper[ents].all())

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = int(self.indptr[r]), int(self.indptr[r + 1])
        return self.entities[lo:hi], self.priors[lo:hi]


def entity_pos_codes(kg) -> np.ndarray:
    """uint8 [E]: 1..4 for WordNet noun/verb/adj/adv synsets (from the ``-POS`` id suffix)."""
    ids = kg.entity_ids()
    return np.fromiter((POS_CODES.get(x[-1], 0) if x.startswith("wn:") and x[-2:-1] == "-" else 0
                        for x in ids), dtype=np.uint8, count=len(ids))


def same_as_clusters(kg) -> np.ndarray:
    """int32 [E]: each entity's cluster representative under ``owl:sameAs`` (itself if none)."""
    parent = np.arange(kg.num_entities, dtype=np.int32)
    rel = kg.relation_names.get(SAME_AS)
    if rel is None:
        return parent
    triples = np.asarray(kg.triples)
    edges = triples[triples[:, 1] == rel]

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    for h, t in edges[:, [0, 2]].tolist():
        rh, rt = find(h), find(t)
        if rh != rt:
            parent[rh] = rt  # the target side (the other source's entity) represents the cluster
    return np.fromiter((find(x) for x in range(len(parent))), dtype=np.int32, count=len(parent))


class CandidateGenerator:
    def __init__(self, aliases: AliasTable, canonical: np.ndarray, entity_pos: np.ndarray,
                 fuzzy=None, max_candidates: int = 64, fuzzy_min_similarity: float = 0.75):
        self.aliases = aliases
        self.canonical = canonical
        self.entity_pos = entity_pos
        self.fuzzy = fuzzy
        self.max_candidates = max_candidates
        self.fuzzy_min_similarity = fuzzy_min_similarity
        self._cache: dict[tuple, list[CandidateInfo]] = {}

    def for_mention(self, mention: Mention, surface_key: str) -> list[CandidateInfo]:
        """Candidates, highest prior first (dense candidates are added by the linker)."""
        cache_key = (surface_key, tuple((v.key, v.pos) for v in mention.variants), mention.fuzzy)
        hit = self._cache.get(cache_key)
        if hit is None:
            hit = self._generate(mention, surface_key)
            if len(self._cache) < 200_000:
                self._cache[cache_key] = hit
        return [CandidateInfo(c.entity, c.prior, c.source, c.match) for c in hit]

    def _generate(self, mention: Mention, surface_key: str) -> list[CandidateInfo]:
        found: dict[int, CandidateInfo] = {}
        for v in mention.variants:
            row = self.aliases.index.get(v.key)
            if row is None:
                continue
            source = "alias" if v.pos is None else "variant"
            self._add_row(found, row, v.pos, source, 1.0)
        if not found and self.fuzzy is not None and (mention.fuzzy or mention.from_ner):
            for row, sim in self.fuzzy.lookup(surface_key, min_similarity=self.fuzzy_min_similarity):
                self._add_row(found, row, None, "fuzzy", sim)
        ranked = sorted(found.values(), key=lambda c: (-c.prior * c.match, c.entity))
        return ranked[: self.max_candidates]

    def _add_row(self, found: dict[int, CandidateInfo], row: int, pos: str | None, source: str,
                 match: float) -> None:
        ents, priors = self.aliases.row(row)
        summed: dict[int, float] = {}
        want = POS_CODES.get(pos, 0) if pos else 0
        for e, p in zip(ents.tolist(), priors.tolist(), strict=True):
            if pos is not None:
                code = int(self.entity_pos[e])
                # A morphology variant reaches WordNet synsets of its part of speech, and other
                # sources' entities only through plurals (tagged "n").
                if (code and code != want) or (not code and pos != "n"):
                    continue
            c = int(self.canonical[e])
            summed[c] = summed.get(c, 0.0) + p
        for c, p in summed.items():
            p = min(p, 1.0)
            old = found.get(c)
            if old is None or p * match > old.prior * old.match:
                found[c] = CandidateInfo(c, p, source, match)
