"""Multiple-choice mode: a question plus choices → a score per choice, with evidence from the graph.

    qa.choose("We dug the ground to plant flowers. Which tool did we need: a shovel or an excavator?",
              ["shovel", "excavator"])

1. Each choice is read as the graph's senses of its words, weighted by the alias prior p(e|m).
   A word of the question that is an ancestor (hypernym chain) of some choice's sense is the
   expected type ("tool"): senses under it keep their weight, the others are damped.
2. The context is the question without the choices and type words. Each sense gets a
   *semantic field* from the graph: itself, its neighbours, and its siblings (the other
   hyponyms of its hypernyms) — shovel → hand tool → dibble ("... holes in the ground for
   planting seeds"). Relevance is the best gloss overlap (IDF-weighted Lesk, the linker's
   lexical index) between the context and a field member, discounted by its distance.
3. Relation paths (≤ 3 hops) between the context's linked entities and the sense add
   1/length each.
Score = Σ_sense weight · (relevance + paths); scores become probabilities by a softmax. The
evidence is the path from the choice to the field member that matched, and the paths found.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kgnlu.kg.linker.lexical import words
from kgnlu.kg.traversal import Step
from kgnlu.qa.answer import ChoiceResult, ChoiceScore, EvidencePath, EvidenceTriple
from kgnlu.qa.question import clean_question

ARTICLES = re.compile(r"^(a|an|the|some)\s+", re.IGNORECASE)
FIELD_DECAY = (1.0, 0.8, 0.6)  # the sense itself, a neighbour, a sibling
MAX_SIBLINGS = 80  # per hypernym: "machine" has hundreds of hyponyms
TYPE_DEPTH = 6  # hypernym steps searched for the question's type word
OFF_TYPE = 0.05  # weight kept by senses not under the expected type
PATH_WEIGHT = 0.5
TEMPERATURE = 0.05  # relevance differences of ~0.05 are meaningful for IDF-cosine overlaps


@dataclass
class Sense:
    entity: int
    weight: float
    relevance: float = 0.0
    best: int = -1
    route: tuple[Step, ...] = ()
    paths: tuple[tuple[Step, ...], ...] = ()


def score_choices(qa, question: str, choices: Sequence[str]) -> ChoiceResult:
    kg = qa.kg
    text = clean_question(question, qa.config.max_question_chars)
    choices = [clean_question(c, 200) for c in choices]
    if not choices:
        return ChoiceResult(text, [], reason="no choices given")
    senses = [_senses(kg, c) for c in choices]
    context = text
    for c in choices:  # the choices are not context
        context = re.sub(re.escape(c.strip()), " ", context, flags=re.IGNORECASE)
    links = qa.linker.link(context)
    hypernyms = _hypernym_relations(kg)
    type_links = [lk for lk in links if _is_type(kg, kg.index_of(lk.entity), senses, hypernyms)]
    if type_links:
        types = {kg.index_of(lk.entity) for lk in type_links}
        for group in senses:
            for s in group:
                if not _under(kg, s.entity, types, hypernyms):
                    s.weight *= OFF_TYPE
    for group in senses:
        total = sum(s.weight for s in group) or 1.0
        for s in group:
            s.weight /= total
    drop = {w for lk in type_links for w in words(lk.surface)} | {w for c in choices for w in words(c)}
    context_words = [w for w in words(context) if w not in drop]
    bag = qa.linker.index.lexical.context(context_words)
    context_entities = [kg.index_of(lk.entity) for lk in links if lk not in type_links]
    raw = []
    for group in senses:
        total = 0.0
        for s in group:
            if s.weight < 1e-3:
                continue
            _relevance(kg, qa.linker.index.lexical, bag, s, hypernyms)
            s.paths = tuple(tuple(p) for e in context_entities
                            for p in kg.walker.paths(e, s.entity, max_hops=3, limit=2) if p)
            total += s.weight * (s.relevance + PATH_WEIGHT * sum(1.0 / len(p) for p in s.paths[:3]))
        raw.append(total)
    scores = np.exp((np.array(raw) - max(raw)) / TEMPERATURE)
    scores /= scores.sum()
    out = []
    for choice, group, p in zip(choices, senses, scores, strict=True):
        best = max(group, key=lambda s: s.weight * s.relevance, default=None)
        out.append(ChoiceScore(choice, float(p), kg.entity_id(best.entity) if best else None,
                               kg.entity_label(best.entity) if best else "", _evidence(kg, best),
                               _matched(kg, best, context_words)))
    reason = None if any(senses) else "no choice names an entity of the graph"
    return ChoiceResult(text, out, reason)


def _senses(kg, choice: str) -> list[Sense]:
    name = ARTICLES.sub("", choice.strip()).strip(" .?!,;:")
    found = kg.aliases(name) if name else []
    return [Sense(e, p) for e, p in found[:8]]


def _hypernym_relations(kg) -> list[int]:
    return [kg.relation_names[r] for r in ("wnrel:hypernym", "wnrel:instance_hypernym") if r in kg.relation_names]


def _ancestors(kg, e: int, hypernyms: list[int]) -> set[int]:
    seen, frontier = set(), [e]
    for _ in range(TYPE_DEPTH):
        nxt = [s.tail for x in frontier for s in kg.walker.neighbors(x, "out", hypernyms) if s.tail not in seen]
        seen.update(nxt)
        frontier = nxt
    return seen


def _is_type(kg, e: int, senses: list[list[Sense]], hypernyms: list[int]) -> bool:
    return e >= 0 and any(e in _ancestors(kg, s.entity, hypernyms) for group in senses for s in group)


def _under(kg, e: int, types: set[int], hypernyms: list[int]) -> bool:
    return bool(types & _ancestors(kg, e, hypernyms))


def _relevance(kg, lexical, bag, sense: Sense, hypernyms: list[int]) -> None:
    """Best decayed gloss overlap over the sense's field; remembers the member and route."""
    e = sense.entity
    field: dict[int, tuple[float, tuple[Step, ...]]] = {e: (FIELD_DECAY[0], ())}
    for step in kg.walker.neighbors(e, "both"):
        other = step.target if step.source == e else step.source
        field.setdefault(other, (FIELD_DECAY[1], (Step(step.head, step.relation, step.tail, step.head == e),)))
    for up in kg.walker.neighbors(e, "out", hypernyms):
        for down in kg.walker.neighbors(up.tail, "in", hypernyms)[:MAX_SIBLINGS]:
            if down.head != e:
                field.setdefault(down.head, (FIELD_DECAY[2], (up, Step(down.head, down.relation, down.tail, False))))
    for member, (decay, route) in field.items():
        score = decay * lexical.similarity(bag, member)
        if score > sense.relevance:
            sense.relevance, sense.best, sense.route = score, member, route


def _evidence(kg, sense: Sense | None) -> tuple[EvidencePath, ...]:
    if sense is None:
        return ()
    chains = ([sense.route] if sense.route else []) + [tuple(_reverse(p)) for p in sense.paths[:2]]
    out = []
    for chain in chains:
        triples = tuple(EvidenceTriple(kg.entity_id(s.head), kg.relation_id(s.relation), kg.entity_id(s.tail),
                                       kg.entity_label(s.head), kg.relation_label(s.relation),
                                       kg.entity_label(s.tail), s.forward) for s in chain)
        out.append(EvidencePath(triples, sense.relevance))
    return tuple(out)


def _matched(kg, sense: Sense | None, context_words: list[str]) -> str:
    if sense is None or sense.best < 0 or sense.relevance <= 0:
        return ""
    text = kg.entity_text(sense.best)
    shared = sorted(set(context_words) & set(words(kg.entity_label(sense.best) + " " + text)))
    gloss = text if len(text) <= 140 else text[:137] + "..."
    return f"{kg.entity_label(sense.best)}: {gloss} (shares: {', '.join(shared) or 'label words'})"


def _reverse(path: Sequence[Step]) -> list[Step]:
    """A context → choice path read from the choice's side."""
    return [Step(s.head, s.relation, s.tail, not s.forward) for s in reversed(path)]
