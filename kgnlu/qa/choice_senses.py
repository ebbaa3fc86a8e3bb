"""Reading a multiple-choice question's choices as graph senses, and restricting them by the
question's type word ("Which *tool* did we need?").

A choice is the graph's senses of its name, weighted by the alias prior p(e|m), and of its noun
base forms through the linker's morphology ("gloves" → glove; "shoes" → shoe besides the idiom
"shoes"), each form sharing equally. Choices name things, so when a form has noun senses (or
entities from sources without parts of speech) its verb and adjective senses are dropped: "a
drill" is not "train in the use of".

A word of the question is a *type* when one of its senses is a hypernym ancestor of some
choice's sense ("tool" above shovel). People use type words loosely: an excavator is called a
tool though WordNet files the machine under device, not tool. So the type is generalised per
choice: climb the type sense's own hypernyms the fewest steps until some sense of the choice sits
under the result (tool → implement → instrumentality covers the machine; the workman sense of
"excavator" is under none of them). Senses under that generalised type keep their weight, the
others are dropped. Of a type word's senses, the one needing the fewest steps over all choices is
used ("tool" the implement, not "tool" a person used by others), ties going to the prior.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgnlu.kg.traversal import Step
from kgnlu.qa.choice_text import choice_name

MAX_SENSES = 8  # senses read per choice: WordNet's ninth sense of a word is rarely meant
OFF_TYPE = 0.0  # weight kept by a sense outside the (generalised) type: none, a type restricts
MAX_CLIMB = 4  # type generalisation steps; above that the common ancestor says nothing ("entity")
NOUN, NO_POS = 1, 0  # kgnlu.kg.linker.candidates.entity_pos_codes


@dataclass
class Sense:
    entity: int
    weight: float
    type_route: tuple[Step, ...] = ()  # sense ─hypernym→ … ─hyponym→ type sense, when typed
    relevance: float = 0.0
    lexical: float = 0.0
    dense: float = 0.0
    best: int = -1  # the field member whose gloss matched the context
    route: tuple[Step, ...] = ()  # sense → best
    paths: tuple[tuple[Step, ...], ...] = ()


def read_senses(kg, linker_index, choice: str) -> list[Sense]:
    """The choice's senses, weights summing to 1 (empty when the graph has no such name)."""
    name = choice_name(choice)
    if not name:
        return []
    pos = linker_index.entity_pos

    def nouns(found):
        return [(e, p) for e, p in found if pos[e] in (NOUN, NO_POS)]

    written = kg.aliases(name)
    forms = [nouns(written) or written]
    if " " not in name:
        # morphy's convention: a word means what it means as written and what its noun base forms
        # mean ("shoes" is an idiom's alias — in someone's shoes — and the plural of shoe)
        forms += [nouns(kg.aliases(v.key)) for v in linker_index.morphology.variants(name.casefold())
                  if v.pos == "n"]
    forms = [f for f in forms if f]
    merged: dict[int, float] = {}
    for found in forms:  # each form gets an equal share, split by its own priors
        total = sum(p for _, p in found) or 1.0
        for e, p in found:
            merged[int(e)] = merged.get(int(e), 0.0) + p / total / len(forms)
    ranked = sorted(merged.items(), key=lambda ep: -ep[1])[:MAX_SENSES]
    total = sum(p for _, p in ranked) or 1.0
    return [Sense(e, p / total) for e, p in ranked]


def keep_distinct(senses: list[list[Sense]]) -> None:
    """A sense several choices can mean belongs to the choice that names it most often: the
    machine is "an excavator" (prior 0.33), not "a shovel" (0.04), when both are offered — choices
    are meant to be different things. Weights are renormalised."""
    owner: dict[int, tuple[float, int]] = {}
    for i, group in enumerate(senses):
        for s in group:
            if s.weight > owner.get(s.entity, (-1.0, -1))[0]:
                owner[s.entity] = (s.weight, i)
    for i, group in enumerate(senses):
        kept = [s for s in group if owner[s.entity][1] == i]
        total = sum(s.weight for s in kept) or 1.0
        group[:] = [Sense(s.entity, s.weight / total) for s in kept]


class Hypernyms:
    """Hypernym closure with distances, cached per entity (WordNet's ``hypernym`` and
    ``instance_hypernym``; a graph without them has no types and nothing is restricted)."""

    def __init__(self, kg):
        self.kg = kg
        self.relations = [kg.relation_names[r] for r in ("wnrel:hypernym", "wnrel:instance_hypernym")
                          if r in kg.relation_names]
        self._up: dict[int, dict[int, tuple[Step, ...]]] = {}

    def parents(self, e: int) -> list[int]:
        return [s.tail for s in self.kg.walker.neighbors(e, "out", self.relations)] if self.relations else []

    def ancestors(self, e: int) -> dict[int, tuple[Step, ...]]:
        """ancestor → the shortest hypernym route from ``e`` (``e`` itself at ``()``)."""
        hit = self._up.get(e)
        if hit is not None:
            return hit
        routes: dict[int, tuple[Step, ...]] = {e: ()}
        frontier = [e]
        while frontier and self.relations:
            nxt = []
            for x in frontier:
                for s in self.kg.walker.neighbors(x, "out", self.relations):
                    if s.tail not in routes:
                        routes[s.tail] = routes[x] + (s,)
                        nxt.append(s.tail)
            frontier = nxt
        self._up[e] = routes
        return routes


def type_candidates(links, senses: list[list[Sense]], hypernyms: Hypernyms, kg) -> list[tuple[object, list[int]]]:
    """(link, its candidate senses that are proper ancestors of some choice's sense) per link."""
    below = set()
    for group in senses:
        for s in group:
            below.update(a for a in hypernyms.ancestors(s.entity) if a != s.entity)
    out = []
    for lk in links:
        found = [e for e in (kg.index_of(c.entity) for c in lk.candidates) if e >= 0 and e in below]
        if found:
            out.append((lk, found))
    return out


def climb(type_sense: int, sense: int, hypernyms: Hypernyms) -> tuple[int, tuple[Step, ...]] | None:
    """(steps the type climbs until ``sense`` is under it, the route sense → … → type) or None."""
    up = hypernyms.ancestors(sense)
    for general, down in sorted(hypernyms.ancestors(type_sense).items(), key=lambda kv: len(kv[1])):
        if len(down) > MAX_CLIMB:
            return None
        if general in up:
            back = tuple(Step(s.head, s.relation, s.tail, False) for s in reversed(down))
            return len(down), up[general] + back
    return None


def restrict(senses: list[list[Sense]], candidates: list[int], priors: dict[int, float],
             hypernyms: Hypernyms) -> int:
    """Weigh the senses outside the type (generalised per choice) by OFF_TYPE; returns the type
    sense used."""
    def cost(t: int) -> tuple[float, float]:
        steps = 0
        for group in senses:
            fits = [c for c in (climb(t, s.entity, hypernyms) for s in group) if c is not None]
            steps += min((c[0] for c in fits), default=MAX_CLIMB + 1)
        return steps, -priors.get(t, 0.0)

    t = min(candidates, key=cost)
    for group in senses:
        fits = {id(s): climb(t, s.entity, hypernyms) for s in group}
        least = min((c[0] for c in fits.values() if c is not None), default=None)
        if least is None:
            continue  # nothing of this choice is near the type: typing cannot tell its senses apart
        for s in group:
            c = fits[id(s)]
            if c is not None and c[0] == least:
                s.type_route = s.type_route or c[1]
            else:
                s.weight *= OFF_TYPE
    for group in senses:
        total = sum(s.weight for s in group) or 1.0
        for s in group:
            s.weight /= total
    return t
