"""Multiple-choice mode: a question plus choices → a score per choice, with evidence from the graph.

    qa.choose("We dug the ground to plant flowers. Which tool did we need?", ["a shovel", "an excavator"])

No trained model is needed: the graph, the linker and the frozen encoder of any ``KGQA`` suffice.

1. Senses (:mod:`.choice_senses`): each choice is read as the graph's senses of its name,
   weighted by the alias prior; a type word of the question ("tool") keeps the senses under it,
   generalised per choice as little as needed (excavator: the machine, not the workman).
2. Relevance of each sense to the context (the question without the choices and type words):
   - gloss overlap (IDF-weighted Lesk, the linker's lexical index) between the context and the
     sense's *field* — itself and its graph neighbours (hypernyms, hyponyms, parts, derivations:
     shovel's verb "dig with or as if with a shovel"), a neighbour discounted; inflected context
     words are read through WordNet's morphology too ("dug" → dig);
   - the encoder's cosine between the context (type words removed too: "Which tool" pulls every
     text towards the prototypical tool) and the choice read as the sense, "excavator (power
     shovel): a machine for excavating" and "excavator (power shovel), a machine" — meaning the
     glosses do not spell out ("lay the foundations of a house" is nearer the machine, "plant
     flowers" nearer "shovel, a hand tool");
   - relation paths (≤ 3 hops) between the context's linked entities and the sense, 1/length each.
3. A choice's score is its best sense's relevance plus a small log-prior, so a rare sense wins
   only on evidence; scores become probabilities by a softmax. Each choice reports the sense it was
   read as, and evidence from that sense: its route to the type, to the gloss that matched, and
   the relation paths found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kgnlu.kg.linker.lexical import stem, words
from kgnlu.kg.traversal import Step
from kgnlu.qa.answer import ChoiceResult, ChoiceScore, EvidencePath, EvidenceTriple, distinct_paths
from kgnlu.qa.choice_senses import (
    Hypernyms,
    Sense,
    keep_distinct,
    read_senses,
    restrict,
    type_candidates,
)
from kgnlu.qa.choice_text import choice_context, choice_name
from kgnlu.qa.question import clean_question

NEIGHBOUR_DECAY = 0.8  # a neighbour's gloss says less about the sense than its own
MAX_NEIGHBOURS = 60  # per sense: "machine" has hundreds of hyponyms, the nearest dozens suffice
DENSE_WEIGHT = 1.5  # chosen on the dev split of kgnlu/eval/natural/choice.jsonl; 2.0 read a sense wrong
PATH_WEIGHT = 0.1  # WordNet rarely links a context word to a choice in 3 hops; topical graphs do
PRIOR_WEIGHT = 0.02  # per nat of log-prior: a 10x rarer sense needs ~0.05 more relevance
MIN_WEIGHT = 1e-3  # senses lighter than this (off-type ones have 0) are not scored
TEMPERATURE = 0.05  # relevance differences of ~0.05 are meaningful for IDF-cosine overlaps


def score_choices(qa, question: str, choices: Sequence[str]) -> ChoiceResult:
    kg, index = qa.kg, qa.linker.index
    text = clean_question(question, qa.config.max_question_chars)
    choices = [clean_question(c, 200) for c in choices]
    if not choices:
        return ChoiceResult(text, [], reason="no choices given")
    senses = [read_senses(kg, index, c) for c in choices]
    keep_distinct(senses)
    context = choice_context(text, choices)
    links = qa.linker.link(context) if context else []
    hypernyms = Hypernyms(kg)
    typed = type_candidates(links, senses, hypernyms, kg)
    type_words: set[str] = set()
    for link, candidates in typed:
        restrict(senses, candidates, {kg.index_of(c.entity): c.prior for c in link.candidates}, hypernyms)
        type_words.update(words(link.surface))
    type_links = [lk for lk, _ in typed]
    context_words = [w for w in _lemmas(index, context) if w not in type_words]
    context_entities = [e for e in (kg.index_of(lk.entity) for lk in links if lk not in type_links) if e >= 0]
    scored = [(s, c) for group, c in zip(senses, choices, strict=True) for s in group if s.weight >= MIN_WEIGHT]
    _dense(qa, hypernyms, _without(context, type_links) or context or text, scored)
    bag = index.lexical.context(context_words)
    for s, _ in scored:
        _lexical(kg, index.lexical, bag, s)
        s.paths = tuple(tuple(p) for e in context_entities for p in kg.walker.paths(e, s.entity, max_hops=3, limit=2)
                        if p)
        s.relevance = DENSE_WEIGHT * s.dense + s.lexical + PATH_WEIGHT * sum(1.0 / len(p) for p in s.paths[:3])
    best = [max((s for s in group if s.weight >= MIN_WEIGHT), key=_value, default=None) for group in senses]
    read = [_value(s) for s in best if s is not None]
    floor = min(read, default=0.0) - 1.0  # a choice the graph cannot read ranks below every read one
    raw = np.array([_value(s) if s is not None else floor for s in best])
    scores = np.exp((raw - raw.max()) / TEMPERATURE)
    scores /= scores.sum()
    out = [ChoiceScore(c, float(p), kg.entity_id(s.entity) if s else None, kg.entity_label(s.entity) if s else "",
                       _evidence(kg, s), _matched(kg, s, context_words))
           for c, s, p in zip(choices, best, scores, strict=True)]
    reason = None if any(senses) else "no choice names an entity of the graph"
    return ChoiceResult(text, out, reason)


def _dense(qa, hypernyms: Hypernyms, query: str, scored: list[tuple[Sense, str]]) -> None:
    """Each sense's mean cosine between ``query`` and its texts, in one encoder batch."""
    texts = [_sense_texts(qa.kg, hypernyms, s.entity, c) for s, c in scored]
    vectors = qa.questions.encode([query] + [t for ts in texts for t in ts])  # [1 + T, H] unit rows
    cosines = vectors[1:] @ vectors[0]
    at = 0
    for (s, _), ts in zip(scored, texts, strict=True):
        s.dense = float(cosines[at:at + len(ts)].mean())
        at += len(ts)


def _without(text: str, links) -> str:
    """``text`` without the linked spans (the type words: every typed sense shares them)."""
    for lk in sorted(links, key=lambda lk: -lk.start):
        text = text[:lk.start] + text[lk.end:]
    return " ".join(text.split())


def _value(s: Sense) -> float:
    return s.relevance + PRIOR_WEIGHT * math.log(s.weight)


def _sense_texts(kg, hypernyms: Hypernyms, e: int, choice: str) -> tuple[str, ...]:
    """The choice as the asker wrote it, read as one sense, twice: with its gloss ("excavator (power
    shovel): a machine for excavating") and with its genus ("excavator (power shovel), a machine").
    The word keeps what the encoder knows of it, the gloss and genus say which sense; the genus
    alone carries the scale a gloss buries ("a hand tool" vs "a machine" when digging for
    flowers or for a house)."""
    name, label = choice_name(choice), kg.entity_label(e)
    head = name if name.casefold() == label.casefold() else f"{name} ({label})"
    text = kg.entity_text(e)
    out = [f"{head}: {text}" if text else head]
    genus = hypernyms.parents(e)
    if genus:
        out.append(f"{head}, a {kg.entity_label(genus[0])}")
    return tuple(out)


def _lemmas(index, text: str) -> list[str]:
    """Context words, plus the base forms WordNet's morphology gives ("dug" → dig, "planted" →
    plant) where the lexical index knows them (a rule's non-words like "glov" are dropped)."""
    known = index.lexical.word_index
    out = []
    for w in words(text):
        out.append(w)
        out.extend(b for b in (stem(v.key) for v in index.morphology.variants(w)) if b in known and b != w)
    return list(dict.fromkeys(out))


def _lexical(kg, lexical, bag, sense: Sense) -> None:
    """Best decayed gloss overlap over the sense and its neighbours; remembers the member and route."""
    e = sense.entity
    sense.lexical, sense.best, sense.route = lexical.similarity(bag, e), e, ()
    seen = {e}
    for step in kg.walker.neighbors(e, "both"):
        if step.target in seen:
            continue
        seen.add(step.target)
        if len(seen) > MAX_NEIGHBOURS:
            break
        score = NEIGHBOUR_DECAY * lexical.similarity(bag, step.target)
        if score > sense.lexical:
            sense.lexical, sense.best, sense.route = score, step.target, (step,)


def _evidence(kg, sense: Sense | None) -> tuple[EvidencePath, ...]:
    """The sense's route to the question's type, to the gloss that matched, and the paths found
    (each read from the sense's side, so every chain starts at the sense the choice was read as)."""
    if sense is None:
        return ()
    chains = [c for c in (sense.type_route, sense.route) if c]
    chains += [tuple(_reverse(p)) for p in sense.paths[:2]]
    out = []
    for chain in dict.fromkeys(chains):  # a one-step path can repeat the matched gloss's route
        triples = tuple(EvidenceTriple(kg.entity_id(s.head), kg.relation_id(s.relation), kg.entity_id(s.tail),
                                       kg.entity_label(s.head), kg.relation_label(s.relation),
                                       kg.entity_label(s.tail), s.forward) for s in chain)
        out.append(EvidencePath(triples, sense.relevance))
    return distinct_paths(out)  # a path back over the gloss route's edge, or its inverse relation: once


def _matched(kg, sense: Sense | None, context_words: list[str]) -> str:
    """The sense read, by its gloss; then the gloss that shared words with the context, if any."""
    if sense is None:
        return ""
    out = f"{kg.entity_label(sense.entity)}: {_short(kg.entity_text(sense.entity))}"
    if sense.lexical > 0 and sense.best >= 0:
        member = sense.best
        shared = sorted(set(context_words) & set(words(kg.entity_label(member) + " " + kg.entity_text(member))))
        where = "" if member == sense.entity else f" via {kg.entity_label(member)}: {_short(kg.entity_text(member))}"
        out += f" (shares {', '.join(shared) or 'label words'}{where})"
    return out


def _short(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _reverse(path: Sequence[Step]) -> list[Step]:
    """A context → choice path read from the choice's side."""
    return [Step(s.head, s.relation, s.tail, not s.forward) for s in reversed(path)]
