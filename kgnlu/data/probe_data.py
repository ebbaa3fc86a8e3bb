"""LAMA-style probe facts from a graph: one template set per relation, split into held-out and seen.

    facts = probe_facts(kg, ProbeDataConfig())          # [ProbeFact, ...], deterministic
    held = [f for f in facts if f.split == "heldout"]   # never stated in the linked pretraining corpus

A fact is (subject, relation, answer) read off the graph. Subjects are sampled by a hash of their
id (the same graph gives the same facts on every machine), at most ``max_facts`` per relation.
N-to-M relations (neighbours, hypernyms, holonyms) keep one fact per subject; every other object
of that subject is in ``answers`` so ranking can filter the other correct answers out, as the
filtered setting of KGE evaluation does.

Why a held-out split: ERNIE and KnowBERT claim the knowledge a fused model shows comes from the
graph embeddings. If the pretraining text stated the probe's facts, the control could learn them
from text too and a gain would say little. So half of the facts (hash of subject and relation)
are held out: :mod:`kgnlu.fusion.corpus` leaves every sentence that names both a held-out fact's
subject and its answer out of the corpus (both directions, any relation, WordNet glosses too),
while the graph embeddings are trained on the whole graph. ``seen`` facts stay in the text and
measure what the text teaches.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kgnlu.errors import ConfigError


@dataclass(frozen=True)
class ProbeRelation:
    """A graph relation probed with cloze templates; ``[X]`` is the subject, ``[Y]`` the answer slot."""

    name: str
    relation: str  # the graph relation's external id
    templates: tuple[str, ...]
    subject_kinds: tuple[str, ...] = ()  # entity-kind prefixes a subject must have ("" = any)
    answer_kinds: tuple[str, ...] = ()


#: the relations probed by default: GeoNames facts and WordNet lexical relations
RELATIONS: tuple[ProbeRelation, ...] = (
    ProbeRelation("capital", "gnrel:capital", ("The capital of [X] is [Y].", "[Y] is the capital city of [X].")),
    ProbeRelation("city_country", "gnrel:country", ("[X] is a city in [Y].", "The city of [X] is located in [Y]."),
                  subject_kinds=("geonames:city",)),
    ProbeRelation("continent", "gnrel:continent", ("[X] is a country in [Y].", "[X] is located in [Y].")),
    ProbeRelation("neighbour", "gnrel:neighbour", ("[X] shares a border with [Y].", "[X] borders [Y].")),
    ProbeRelation("us_state", "gnrel:us_state", ("[X] is a city in the state of [Y].", "[X] is located in [Y].")),
    ProbeRelation("hypernym", "wnrel:hypernym", ("A [X] is a kind of [Y].", "[X] is a type of [Y]."),
                  subject_kinds=("wordnet:noun",), answer_kinds=("wordnet:noun",)),
    ProbeRelation("part_holonym", "wnrel:part_holonym", ("[X] is part of [Y].", "The [X] is a part of the [Y]."),
                  subject_kinds=("wordnet:noun",)),
    ProbeRelation("member_holonym", "wnrel:member_holonym", ("[X] is a member of [Y].", "A [X] belongs to the [Y]."),
                  subject_kinds=("wordnet:noun",)),
)


@dataclass
class ProbeDataConfig:
    relations: tuple[str, ...] = tuple(r.name for r in RELATIONS)  # names from RELATIONS
    max_facts: int = 240  # per relation: LAMA-sized sets (hundreds) keep a CPU probe to minutes
    heldout_fraction: float = 0.5  # share of facts the linked corpus must never state
    max_answer_words: int = 3  # longer answers are mostly multiword WordNet terms no cloze can fill
    seed: int = 0

    def __post_init__(self) -> None:
        known = {r.name for r in RELATIONS}
        unknown = [r for r in self.relations if r not in known]
        if unknown:
            raise ConfigError(f"unknown probe relations {unknown}; choose from {', '.join(sorted(known))}")
        if not 0.0 <= self.heldout_fraction <= 1.0:
            raise ConfigError(f"heldout_fraction must be in [0, 1], got {self.heldout_fraction}")
        if self.max_facts < 1:
            raise ConfigError(f"max_facts must be >= 1, got {self.max_facts}")


@dataclass(frozen=True)
class ProbeFact:
    relation: str  # ProbeRelation.name
    subject: str  # external ids
    subject_label: str
    answer: str
    answer_label: str
    answers: tuple[str, ...] = field(default=())  # every correct answer label (answer_label included)
    split: str = "seen"  # "heldout" (kept out of the pretraining text) or "seen"

    def to_json(self) -> dict:
        return {"relation": self.relation, "subject": self.subject, "subject_label": self.subject_label,
                "answer": self.answer, "answer_label": self.answer_label, "answers": list(self.answers),
                "split": self.split}

    @classmethod
    def from_json(cls, data: dict) -> ProbeFact:
        return cls(data["relation"], data["subject"], data["subject_label"], data["answer"], data["answer_label"],
                   tuple(data.get("answers", [data["answer_label"]])), data.get("split", "seen"))


def unit_hash(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts (BLAKE2b; Python's hash() is salted per process)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def relation_by_name(name: str) -> ProbeRelation:
    for relation in RELATIONS:
        if relation.name == name:
            return relation
    raise ConfigError(f"unknown probe relation {name!r}")


def probe_facts(kg, config: ProbeDataConfig | None = None) -> list[ProbeFact]:
    """Facts for every configured relation the graph has (relations it lacks are skipped)."""
    config = config or ProbeDataConfig()
    triples = np.asarray(kg.triples)
    out: list[ProbeFact] = []
    for name in config.relations:
        spec = relation_by_name(name)
        try:
            r = kg.relation_index(spec.relation)
        except Exception:  # noqa: BLE001 — a graph without this relation (e.g. WordNet only) skips it
            continue
        rows = triples[triples[:, 1] == r]
        objects: dict[int, list[int]] = defaultdict(list)
        for h, _, t in rows.tolist():
            objects[h].append(t)
        ranked = sorted(objects, key=lambda h: unit_hash(config.seed, name, kg.entity_id(h)))
        taken = 0
        for h in ranked:
            if taken >= config.max_facts:
                break
            fact = _fact(kg, spec, h, objects[h], config)
            if fact is not None:
                out.append(fact)
                taken += 1
    return out


def _fact(kg, spec: ProbeRelation, head: int, tails: list[int], config: ProbeDataConfig) -> ProbeFact | None:
    if spec.subject_kinds and not kg.entity_kind(head).startswith(spec.subject_kinds):
        return None
    subject_label = kg.entity_label(head)
    good = [t for t in tails if (not spec.answer_kinds or kg.entity_kind(t).startswith(spec.answer_kinds))
            and 0 < len(kg.entity_label(t).split()) <= config.max_answer_words]
    if not subject_label or not good:
        return None
    answer = min(good, key=lambda t: kg.entity_id(t))  # one fact per subject, the same on every machine
    answer_label = kg.entity_label(answer)
    labels = tuple(dict.fromkeys([answer_label, *(kg.entity_label(t) for t in tails)]))
    split = "heldout" if unit_hash(config.seed, "split", spec.name, kg.entity_id(head)) < config.heldout_fraction \
        else "seen"
    return ProbeFact(spec.name, kg.entity_id(head), subject_label, kg.entity_id(answer), answer_label, labels, split)


# ------------------------------------------------------------------ surface-form guessability (UHN)
_WORD = re.compile(r"[^\W\d_]+")


def guessable(subject_label: str, answer_label: str, min_word: int = 4) -> bool:
    """True when the answer can be read off the subject's name (LAMA-UHN's filters, Poerner et al. 2020).

    E-BERT's string filter drops a fact when the answer is a case-insensitive substring of the
    subject name ("Mexico City" → "Mexico"). Its second filter (person names) needs name-only
    probes; here the name-based heuristic is: the subject contains the answer, the answer
    contains the subject, or they share a word of at least ``min_word`` letters ("Kuwait City" /
    "Kuwait", "Saint Lucia" / "Lucia", "oak leaf" / "oak tree").
    """
    s, a = subject_label.casefold(), answer_label.casefold()
    if not s or not a:
        return False
    if a in s or s in a:
        return True
    s_words = {w for w in _WORD.findall(s) if len(w) >= min_word}
    return any(w in s_words for w in _WORD.findall(a) if len(w) >= min_word)


def uhn_filter(facts: Iterable[ProbeFact]) -> list[ProbeFact]:
    """The facts whose answer is not guessable from the subject's surface form."""
    return [f for f in facts if not guessable(f.subject_label, f.answer_label)]


def heldout_pairs(facts: Sequence[ProbeFact]) -> list[tuple[str, str]]:
    """(subject label, answer label) of every held-out fact: text naming both must stay out of the corpus."""
    return sorted({(f.subject_label, f.answer_label) for f in facts if f.split == "heldout"})
