"""Question wordings for any relation path, from the graph's own words (no template needed).

A path's wordings are its step phrases (:mod:`kgnlu.qa.phrasing`) nested into noun phrases and
wrapped in generic frames — plus, for one step, that step's own question frames ("What does {x}
depend on?") — with ``{x}`` where the topic goes and the answer type from the graph ("Which
package ..."). When kgnlu's WordNet/GeoNames templates (:mod:`.templates`) cover the path, their
wordings join the pool: extra wording, never the only source.

Every pool is split once, deterministically, into *training* wordings and *held-out* wordings
(about a quarter, at least one): train/dev/test questions use the first, the ``paraphrase_dev``
split the second, so it measures unseen wording.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kgnlu.qa.paths import RelationPath
from kgnlu.qa.phrasing import fill, pluralise, step_phrases

# frames around the outermost noun phrase; "{np}" the description, "{t}" the answer's type word
FRAMES = ("What is {np}?", "Which {t} is {np}?", "Name {np}.", "Tell me {np}.", "Who or what is {np}?",
          "Give {np}.", "I want to know {np}.")
HELD_OUT_SHARE = 0.25


@dataclass(frozen=True)
class Wordings:
    train: tuple[str, ...]  # templates with "{x}" once (a topic may open the question: "{x} is in which country?")
    heldout: tuple[str, ...]


def _capitalised_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def path_wordings(kg, path: RelationPath, profile, extra: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
                  ) -> Wordings:
    """The training and held-out wordings of ``path``; ``extra``: (train, held-out) template
    wordings with ``{x}`` (kgnlu's WordNet/GeoNames templates for this path)."""
    types = [profile.type_word(s) for s in path.symbols()]
    per_step = [step_phrases(kg, r, f) for r, f in path.steps]
    nps = []
    for np_patterns in _nested(per_step):
        np_ = "{x}"
        for pattern, type_word in zip(np_patterns, types, strict=True):
            np_ = fill(pattern, np_, type_word)
        nps.append(np_)
    answer_type = types[-1] or "thing"
    pool = [frame.replace("{np}", n).replace("{t}", answer_type).replace("{ts}", pluralise(answer_type))
            for n in nps for frame in FRAMES]
    if len(per_step) == 1:
        pool += [fill(q, "{x}", types[0]) for q in per_step[0].questions]
    pool = [_capitalised_first(p) for p in dict.fromkeys(pool) if p.count("{x}") == 1]
    train, heldout = split_wordings(pool, key=path.symbols())
    trained = tuple(dict.fromkeys([*extra[0], *train]))
    # a generated wording equal to a template's training wording is not held out: unseen means unseen
    return Wordings(trained, tuple(w for w in dict.fromkeys([*extra[1], *heldout]) if w not in trained))


def _nested(per_step) -> list[tuple[str, ...]]:
    """Combinations of step noun phrases, the canonical (first) ones first, at most 12."""
    from kgnlu.qa.path_text import phrase_combinations

    return phrase_combinations(per_step)[:12]


def split_wordings(pool: list[str], key) -> tuple[list[str], list[str]]:
    """(train, held-out): a fixed hash of each wording decides, at least one on each side when the
    pool has two or more."""
    def u(text: str) -> float:
        return int.from_bytes(hashlib.sha256(f"{key}\x1f{text}".encode()).digest()[:8], "big") / 2**64

    held = [p for p in pool if u(p) < HELD_OUT_SHARE]
    train = [p for p in pool if u(p) >= HELD_OUT_SHARE]
    if len(pool) >= 2 and not held:
        held, train = [train[-1]], train[:-1]
    if len(pool) >= 2 and not train:
        train, held = [held[0]], held[1:]
    return train, held


def render(template: str, label: str) -> tuple[str, tuple[int, int]]:
    """The question and the character span of the topic label in it (the label is inserted
    verbatim, never formatted: braces in a label stay text)."""
    before, _, after = template.partition("{x}")
    return before + label + after, (len(before), len(before) + len(label))
