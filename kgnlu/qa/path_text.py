"""Relation paths described in words, compositionally, without any question template.

Each step (relation, direction) reads as noun phrases built from the graph's own words
(:mod:`kgnlu.qa.phrasing`: curated phrases for WordNet/GeoNames/RDF vocabularies, else the
relation's label or IRI local name, read by its grammatical style). A path's descriptions nest
them from the topic outwards ("the continent of the country of something"), wrapped in a few
question frames; a one-step path also gets its style's own question frames ("What does something
depend on?"). Type words come from the graph (:class:`~kgnlu.qa.graph_profile.GraphProfile`:
"the package that depends on something").

The frozen question encoder embeds the descriptions once, so a path gets a zero-shot prototype
that depends on no training wording, and generated descriptions double as extra training
questions (template-free augmentation).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from kgnlu.qa.paths import RelationPath
from kgnlu.qa.phrasing import fill, step_phrases

# question frames around the outermost noun phrase; "{np}" is the description
FRAMES = ("What is {np}?", "Which is {np}?", "Name {np}.")


def step_types(profile, path: RelationPath) -> list[str]:
    """The answer-side type word of each step ("" when the graph has none or no profile is given)."""
    if profile is None:
        return [""] * len(path)
    return [profile.type_word(s) for s in path.symbols()]


def phrase_combinations(per_step) -> list[tuple[str, ...]]:
    """Every combination of the steps' noun phrases, canonical first; a possessive ("{x}'s capital")
    only on the first step, where ``{x}`` is a name: "the country Lyon is in's capital" is no English."""
    combos = itertools.product(*(s.noun_phrases for s in per_step))
    return [c for c in combos if not any("{x}'s" in pattern for pattern in c[1:])]


def describe_path(kg, path: RelationPath, topic: str = "something", frames: Sequence[str] = FRAMES,
                  limit: int = 24, profile=None) -> list[str]:
    """Up to ``limit`` questions describing ``path`` (canonical one first): every combination of
    step phrases, nested from the topic outwards, in every frame, then a one-step path's own
    question frames; a fixed, deterministic order."""
    types = step_types(profile, path)
    per_step = [step_phrases(kg, r, f) for r, f in path.steps]
    nps = []
    for combo in phrase_combinations(per_step):
        np_ = topic
        for pattern, type_word in zip(combo, types, strict=True):
            np_ = fill(pattern, np_, type_word)
        nps.append(np_)
    out = [frame.replace("{np}", np_) for np_ in nps for frame in frames]
    # spread the limit over phrase combinations first (frames vary least in meaning)
    order = sorted(range(len(out)), key=lambda i: (i % len(frames), i // len(frames)))
    out = [out[i] for i in order]
    if len(per_step) == 1:
        own = [fill(q, topic, types[0]) for q in per_step[0].questions]
        out = out[:1] + own + out[1:]  # the canonical description stays first
    return list(dict.fromkeys(out))[:limit]
