"""Disambiguation: one score per candidate from the prior, context–entity similarity (lexical in
both modes, encoder embeddings in ``neural`` mode), graph coherence among a document's candidates
and kind/case cues; then a softmax over the candidates and a NIL option.

    logit(e) = w_prior·log p(e|m) + w_lexical·lesk(ctx, e) + w_neural·cos(ctx, e)
             + w_coherence·coh(e) + w_case·case(m, e) + w_label·[m is e's name] + w_match·log match(m, e)
             + w_sense·sense(m, e)     (with a trained sense model: kgnlu.kg.linker.sense_model)
    score(e) = exp(logit(e)) / (exp(nil_logit) + Σ_e' exp(logit(e')))          ∈ [0, 1]

With only the prior (other weights 0, w_prior 1, nil_logit -inf) the score is p(e|m) itself, so
the weights read as evidence added to the prior. A mention whose best score is under the NIL
threshold is not linked.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from kgnlu.errors import ConfigError
from kgnlu.kg.linker.candidates import CandidateInfo
from kgnlu.kg.linker.mentions import Mention


@dataclass
class Weights:
    """Evidence weights. Defaults were chosen on the development splits of kgnlu's evaluation
    sets (WordNet examples outside the held-out synsets, GeoNames names outside the test names)."""

    prior: float = 1.0
    lexical: float = 15.0  # IDF-weighted word overlap with the entity's text: strong when it fires
    neural: float = 20.0  # cosine of MiniLM embeddings: spreads over ~0.1..0.7
    coherence: float = 3.0  # 1 for a direct edge to another mention's candidate, 0.5 for 2 hops
    case: float = 3.0  # capitalised mention ↔ proper-noun entity agreement
    label: float = 2.0  # the mention is the entity's own name, not one of its alternate names
    match: float = 4.0  # log of fuzzy similarity / dense cosine (0 for exact matches)
    pos: float = 4.0  # the tagged word class contradicts the candidate (a synset of another class; a name for a lower-case verb)
    qualifier: float = 12.0  # "London, Ontario": the candidate is related to a candidate of the mention it is bound to
    sense: float = 20.0  # cosine of a trained sense model's context and gloss vectors (only with --sense-model)
    sense_neural: float = 1.0  # scales w_neural on mentions the sense model scored (0: the sense model replaces it)
    nil_logit: float = -3.0  # the NIL option's logit: lowers every score a little, more when evidence is weak

    @classmethod
    def from_dict(cls, data: dict) -> Weights:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown linker weights {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class MentionItem:
    mention: Mention
    key: str  # normalised surface
    candidates: list[CandidateInfo]
    lexical: list[float] | None = None  # per candidate
    neural: list[float] | None = None  # per candidate
    pos: list[float] | None = None  # per candidate: -1 when the mention's tagged word class contradicts it
    qualifier: list[float] | None = None  # per candidate: binding to a qualifier/head mention (0..1)
    sense: list[float] | None = None  # per candidate: sense-model cosine (WordNet mentions, with a sense model)


class Coherence:
    """Relatedness of entities on the graph's CSR: 1 if adjacent, 0.5 if they share a neighbour."""

    def __init__(self, walker, canonical: np.ndarray, max_degree: int = 5000):
        self.walker = walker
        # Plain ndarray views of the memory-mapped CSR: slicing a np.memmap builds a memmap
        # object each time (~0.1 ms), which dominated linking; the pages stay shared and lazy.
        self._triples, self._in_index = np.asarray(walker.triples), np.asarray(walker.in_index)
        self._out_indptr, self._in_indptr = np.asarray(walker.out_indptr), np.asarray(walker.in_indptr)
        self.canonical = canonical
        self.max_degree = max_degree
        members: dict[int, list[int]] = {}
        for e in np.flatnonzero(canonical != np.arange(len(canonical))).tolist():
            members.setdefault(int(canonical[e]), []).append(e)
        self.members = members
        self._cache: dict[int, frozenset[int]] = {}

    def neighbours(self, e: int) -> frozenset[int]:
        hit = self._cache.get(e)
        if hit is not None:
            return hit
        triples = self._triples
        out: set[int] = set()
        for x in [e, *self.members.get(e, ())]:
            # the first max_degree edges (out, then in), sliced before reading: a hub's
            # whole edge list is never copied (issue 22)
            lo, hi = int(self._out_indptr[x]), int(self._out_indptr[x + 1])
            tails = triples[lo:min(hi, lo + self.max_degree), 2]
            lo, hi = int(self._in_indptr[x]), int(self._in_indptr[x + 1])
            heads = triples[self._in_index[lo:min(hi, lo + self.max_degree - len(tails))], 0]
            both = np.concatenate([tails, heads])
            out.update(self.canonical[both].tolist())
        out.discard(e)
        hit = frozenset(out)
        if len(self._cache) < 200_000:
            self._cache[e] = hit
        return hit

    def scores(self, items: list[MentionItem], window: int = 8, top: int = 8) -> list[list[float]]:
        """coh(e) per candidate: the best relatedness to any candidate of another mention within
        ``window`` mentions (other surfaces only), considering each mention's ``top`` candidates."""
        sets = [frozenset(c.entity for c in it.candidates[:top]) for it in items]
        hoods: list[frozenset[int] | None] = [None] * len(items)
        out: list[list[float]] = []
        for i, it in enumerate(items):
            row = [0.0] * len(it.candidates)
            others = [j for j in range(max(0, i - window), min(len(items), i + window + 1))
                      if j != i and items[j].key != it.key and sets[j]]
            if len(it.candidates) > 1 and others:
                for j in others:
                    if hoods[j] is None:
                        hood: set[int] = set()
                        for e in sets[j]:
                            hood |= self.neighbours(e)
                        hoods[j] = frozenset(hood)
                for k, c in enumerate(it.candidates[:top]):
                    mine = self.neighbours(c.entity)
                    best = 0.0
                    for j in others:
                        if not mine.isdisjoint(sets[j]):
                            best = 1.0
                            break
                        if best < 0.5 and not mine.isdisjoint(hoods[j]):
                            best = 0.5
                    row[k] = best
            out.append(row)
        return out


class Disambiguator:
    def __init__(self, weights: Weights, coherence: Coherence, proper: np.ndarray,
                 label_keys=None):
        self.weights = weights
        self.label_keys = label_keys  # e -> normalised labels of e's sameAs cluster
        self.coherence = coherence
        self.proper = proper  # bool [E]: the entity's label is capitalised (a name)

    def rank(self, items: list[MentionItem]) -> list[list[tuple[CandidateInfo, float]]]:
        """Per mention: (candidate, score) best first; scores in [0, 1]."""
        w = self.weights
        coh = self.coherence.scores(items) if w.coherence else [[0.0] * len(it.candidates) for it in items]
        out = []
        for it, coh_row in zip(items, coh, strict=True):
            m = it.mention
            logits = []
            for k, c in enumerate(it.candidates):
                x = w.prior * math.log(max(c.prior, 1e-4))
                if it.lexical is not None:
                    x += w.lexical * it.lexical[k]
                if it.neural is not None:
                    x += w.neural * it.neural[k] * (w.sense_neural if it.sense is not None else 1.0)
                if it.sense is not None:
                    x += w.sense * it.sense[k]
                if it.pos is not None:
                    x += w.pos * it.pos[k]
                if it.qualifier is not None:
                    x += w.qualifier * it.qualifier[k]
                x += w.coherence * coh_row[k]
                x += w.case * _case_cue(m, bool(self.proper[c.entity]))
                if w.label and self.label_keys is not None and it.key in self.label_keys(c.entity):
                    x += w.label
                if c.match < 1.0:
                    x += w.match * math.log(max(c.match, 1e-3))
                logits.append(x)
            out.append(_softmax_with_nil(it.candidates, logits, w.nil_logit))
        return out


def _case_cue(m: Mention, proper: bool) -> float:
    """+1 when the mention's case agrees with the entity being a name, -1 when it contradicts."""
    if not m.capitalised:
        return -1.0 if proper else 0.0
    if m.sentence_initial:
        return 0.0  # a capital says nothing at the start of a sentence
    return 1.0 if proper else -1.0


def _softmax_with_nil(cands: list[CandidateInfo], logits: list[float],
                      nil_logit: float) -> list[tuple[CandidateInfo, float]]:
    if not cands:
        return []
    top = max(logits + [nil_logit])
    exps = [math.exp(x - top) for x in logits]
    z = sum(exps) + math.exp(nil_logit - top)
    ranked = sorted(zip(cands, (e / z for e in exps), strict=True), key=lambda x: (-x[1], x[0].entity))
    return ranked
