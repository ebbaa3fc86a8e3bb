"""Relation paths described in words, compositionally, without any question template.

Each step (relation, direction) is a set of noun-phrase builders ``X → "the capital of X"``; a
path's descriptions nest them from the topic outwards ("the continent of the country of
something"), wrapped in a few question frames. The frozen question encoder embeds them once, so
a path gets a zero-shot prototype: cosine(question, prototype) does not depend on the training
wordings, and generated descriptions double as extra training questions (template-free
augmentation). Relations without a hand-written phrase fall back to their graph label
("the attribute of X" / "what has X as its attribute").

The phrases describe what a relation means, not how the QA data's templates word it: none shares a
five-word run with a held-out (paraphrase-test) template (tests/qa/test_retrieval.py checks), so
held-out wordings stay unseen.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from kgnlu.qa.paths import RelationPath

Phrase = Callable[[str], str]

# (relation external id, forward) → phrase builders; the first is the canonical one
_PHRASES: dict[tuple[str, bool], tuple[str, ...]] = {
    ("gnrel:country", True): ("the country of {x}", "the country where {x} is located", "the country containing {x}"),
    ("gnrel:country", False): ("the cities in {x}", "the cities located in the country {x}",
                               "the places that are in {x}"),
    ("gnrel:capital", True): ("the capital of {x}", "the capital city of {x}", "the city that is the capital of {x}"),
    ("gnrel:capital", False): ("the country whose capital is {x}", "the country with capital city {x}",
                               "the country for which {x} serves as capital"),
    ("gnrel:continent", True): ("the continent of {x}", "the continent where {x} is", "the continent {x} is on"),
    ("gnrel:continent", False): ("the countries on the continent {x}", "the countries located in {x}"),
    ("gnrel:neighbour", True): ("the countries bordering {x}", "the neighbouring countries of {x}",
                                "the countries next to {x}", "the neighbours of {x}"),
    ("gnrel:neighbour", False): ("the countries bordering {x}", "the neighbouring countries of {x}"),
    ("gnrel:us_state", True): ("the US state of {x}", "the state of the USA containing {x}"),
    ("gnrel:us_state", False): ("the cities in the US state {x}",),
    ("wnrel:hypernym", True): ("the hypernym of {x}", "the superordinate category of {x}",
                               "the more general concept covering {x}", "the category {x} falls in"),
    ("wnrel:hypernym", False): ("the hyponyms of {x}", "the specific kinds of {x}", "the types of {x}"),
    ("wnrel:hyponym", True): ("the hyponyms of {x}", "the specific kinds of {x}", "the types of {x}"),
    ("wnrel:hyponym", False): ("the hypernym of {x}", "the superordinate category of {x}",
                               "the more general concept covering {x}"),
    ("wnrel:instance_hypernym", True): ("the class {x} is an instance of", "the type of which {x} is an example"),
    ("wnrel:instance_hypernym", False): ("the instances of {x}", "the individual examples of {x}"),
    ("wnrel:instance_hyponym", True): ("the instances of {x}", "the individual examples of {x}"),
    ("wnrel:instance_hyponym", False): ("the class {x} is an instance of",),
    ("wnrel:part_holonym", True): ("the whole that {x} is part of", "the object that includes {x} as a component",
                                   "the larger object including {x}"),
    ("wnrel:part_holonym", False): ("the parts of {x}", "the pieces of {x}"),
    ("wnrel:part_meronym", True): ("the parts of {x}", "the pieces of {x}", "the constituent parts of {x}"),
    ("wnrel:part_meronym", False): ("the whole that {x} is part of",),
    ("wnrel:member_holonym", True): ("the group {x} is a member of", "the group with {x} among its members",
                                     "the collection {x} belongs to"),
    ("wnrel:member_holonym", False): ("the members of {x}",),
    ("wnrel:member_meronym", True): ("the members of {x}", "the things belonging to the group {x}"),
    ("wnrel:member_meronym", False): ("the group {x} is a member of",),
    ("wnrel:substance_meronym", True): ("the substance {x} is made of", "the material of {x}",
                                        "the ingredients of {x}"),
    ("wnrel:substance_meronym", False): ("the things made from {x}",),
    ("wnrel:substance_holonym", True): ("the things made from {x}", "the thing containing the substance {x}",
                                        "the products made of {x}"),
    ("wnrel:substance_holonym", False): ("the substance {x} is made of",),
    ("wnrel:domain_topic", True): ("the topic domain of {x}", "the field of study {x} belongs to",
                                   "the subject in which {x} is a term"),
    ("wnrel:domain_topic", False): ("the terms of the field {x}",),
    ("wnrel:domain_topic_member", True): ("the terms of the field {x}",),
    ("wnrel:domain_topic_member", False): ("the topic domain of {x}",),
}

# question frames around the outermost noun phrase; "{np}" is the description
FRAMES = ("What is {np}?", "Which is {np}?", "Name {np}.")


def step_phrases(kg, relation: int, forward: bool) -> tuple[str, ...]:
    """Noun-phrase patterns with ``{x}`` for one step; graph labels when no phrase is written."""
    known = _PHRASES.get((kg.relation_id(relation), forward))
    if known:
        return known
    label = kg.relation_label(relation).replace(" (word sense)", "")
    return (f"the {label} of {{x}}",) if forward else (f"what has {{x}} as its {label}",)


def describe_path(kg, path: RelationPath, topic: str = "something", frames: Sequence[str] = FRAMES,
                  limit: int = 24) -> list[str]:
    """Up to ``limit`` questions describing ``path`` (canonical one first): every combination of
    step phrases, nested from the topic outwards, in every frame; a fixed, deterministic order."""
    per_step = [step_phrases(kg, r, f) for r, f in path.steps]
    nps = []
    for combo in itertools.product(*per_step):
        np_ = topic
        for pattern in combo:
            np_ = pattern.format(x=np_)
        nps.append(np_)
    out = [frame.format(np=np_) for np_ in nps for frame in frames]
    # spread the limit over phrase combinations first (frames vary least in meaning)
    order = sorted(range(len(out)), key=lambda i: (i % len(frames), i // len(frames)))
    return [out[i] for i in order[:limit]]
