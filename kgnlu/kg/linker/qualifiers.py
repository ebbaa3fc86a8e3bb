"""Qualifier binding: "London, Ontario", "Paris (Texas)", "Perth in Scotland".

A mention followed by a comma, an opening bracket or "in" and then another mention names a place
and what contains it. The two bind each other: the head's candidates that the graph relates to a
candidate of the qualifier gain evidence, and so do the qualifier's candidates related to the
head's. When the two are of different kinds (a city and a state: a qualifier, not a list like
"London, Paris and Rome"), the head's candidates that nothing binds lose evidence instead, so
"Paris, Kentucky" is NIL on a graph whose only Parises are in France and Texas. Unlike document
coherence (any mention within a window), the binding is per occurrence, so
"Paris, Texas is not Paris, France" links the two Parises apart.

Relatedness of two entities on the graph (through sameAs clusters, :class:`Coherence`):

- 1 when an edge joins them (a US city and its state, a city and its country);
- through a shared neighbour, ``SHARED`` (London, Ontario and the province share Canada), unless
  the head is joined directly to another entity of the qualifier's kind: Paris, Texas shares the
  United States with Kentucky, but it is joined to Texas, a state that is not Kentucky; a shared
  neighbour is also discounted by its specificity ``min(1, K / degree)`` (hubs say little).
"""

from __future__ import annotations

from collections.abc import Sequence

CONNECTORS = frozenset({",", "(", "in"})
QUALIFYING = frozenset({",", "("})  # "Karajan in Berlin" binds, but does not qualify
SPECIFIC_DEGREE = 2000  # K: a shared neighbour of at most this degree counts fully
SHARED = 0.5  # relatedness through one specific shared neighbour (an edge is 1)
TOP = 8  # candidates per side that are compared


def qualifier_pairs(doc, items: Sequence) -> list[tuple[int, int, bool]]:
    """(head, qualifier, qualifying) for consecutive mentions joined by one connector token, the
    second capitalised (a name); ``qualifying``: the connector is a comma or bracket."""
    pairs = []
    for i in range(len(items) - 1):
        a, b = items[i].mention, items[i + 1].mention
        between = [doc[k] for k in range(a.token_end, b.token_start) if not doc[k].is_space]
        if len(between) == 1 and between[0].lower_ in CONNECTORS and b.capitalised:
            pairs.append((i, i + 1, between[0].lower_ in QUALIFYING))
    return pairs


class QualifierBinding:
    """``kind_of(e)``: an entity's kind (``KnowledgeGraph.entity_kind``), or None to never treat
    a pair as a qualifier (bonus only)."""

    def __init__(self, coherence, kind_of=None, specific_degree: int = SPECIFIC_DEGREE,
                 shared: float = SHARED):
        self.coherence = coherence
        self.kind_of = kind_of
        self.specific_degree = specific_degree
        self.shared = shared
        self._kinds: dict[int, frozenset[str]] = {}

    def relatedness(self, a: int, b: int) -> float:
        """How strongly head candidate ``a`` is bound to qualifier candidate ``b`` (0..1)."""
        if a == b:
            return 0.0
        mine, theirs = self.coherence.neighbours(a), self.coherence.neighbours(b)
        if b in mine or a in theirs:
            return 1.0
        if self.kind_of is not None and (self.kind_of(b) in self._neighbour_kinds(a)
                                         or self.kind_of(a) == self.kind_of(b)):
            # a's own Texas is not b's Kentucky (a province holding many cities is fine), and a
            # city does not qualify a city by sharing a country
            return 0.0
        best = 0.0
        small, large = (mine, theirs) if len(mine) <= len(theirs) else (theirs, mine)
        for x in small:
            if x in large:
                degree = len(self.coherence.neighbours(x))
                best = max(best, self.shared * min(1.0, self.specific_degree / max(degree, 1)))
        return best

    def _neighbour_kinds(self, e: int) -> frozenset[str]:
        hit = self._kinds.get(e)
        if hit is None:
            hit = frozenset(self.kind_of(x) for x in self.coherence.neighbours(e))
            if len(self._kinds) < 100_000:
                self._kinds[e] = hit
        return hit

    def scores(self, items: Sequence, pairs: Sequence[tuple[int, int, bool]]) -> dict[int, list[float]]:
        """Per bound item index: one score per candidate, the binding (0..1), or for the head of a
        qualifier pair the binding minus 1 (-1..0: unbound candidates lose evidence)."""
        out: dict[int, list[float]] = {}
        heads = set()
        for h, q, qualifying in pairs:
            if qualifying and self._is_qualifier(items[h], items[q]):
                heads.add(h)
            for me, partner in ((h, q), (q, h)):
                others = [c.entity for c in items[partner].candidates[:TOP]]
                row = out.setdefault(me, [0.0] * len(items[me].candidates))
                for k, c in enumerate(items[me].candidates[:TOP]):
                    pairs_ = ((c.entity, o) for o in others) if me == h else ((o, c.entity) for o in others)
                    row[k] = max(row[k], max((self.relatedness(a, b) for a, b in pairs_), default=0.0))
        for h in heads:
            out[h] = [x - 1.0 for x in out[h]]
        return out

    def _is_qualifier(self, head, qualifier) -> bool:
        """The most likely readings of the two mentions are of different kinds."""
        if self.kind_of is None or not head.candidates or not qualifier.candidates:
            return False
        return self.kind_of(head.candidates[0].entity) != self.kind_of(qualifier.candidates[0].entity)
