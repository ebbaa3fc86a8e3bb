"""WN-KGE: a link-prediction benchmark made from WordNet 3.0 the way WN18RR was made from WN18.

Recipe (documented in docs/kge.md, "The WordNet benchmark"):

1. Relations: WN18RR's eleven, read from the real WordNet graph (``kgnlu graph build wordnet``):
   hypernym, instance_hypernym, member_meronym, part_meronym (WN18RR's ``has_part``),
   domain_topic, domain_usage, domain_region (``synset_domain_topic_of``,
   ``member_of_domain_usage``, ``member_of_domain_region``), also_see, verb_group, similar_to and
   derivation (``derivationally_related_form``). Their inverses (hyponym, holonyms, the
   ``*_member`` domain pointers) are dropped: with both directions present, a test triple
   (a, hypernym, b) is answered by reading (b, hyponym, a) off the training set, the leak
   Toutanova & Chen (2015) and Dettmers et al. (2018) removed from FB15k and WN18. Sense-level
   pointers (``sense/derivation``, ``sense/also_see``) are lifted to their synsets.
2. Entities: optionally a WN18-style core: repeatedly drop entities with fewer than
   ``min_degree`` triples, and keep at most ``max_entities`` of the best-connected ones.
3. Split: deterministic, by triple: a triple goes to test or valid when the BLAKE2b hash of its
   text (``head relation tail``, with head and tail sorted for the symmetric relations so that
   both directions of a pair share one split and cannot leak into each other) falls in the
   first ``test_fraction`` / next ``valid_fraction`` of the hash range.
4. Every valid/test entity must occur in training: triples that break this move to train.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kgnlu.errors import ConfigError
from kgnlu.io import atomic_write
from kgnlu.kge.data import KGEData

# WN18RR's relation → the WordNet graph's relation id (wnrel:...), sense-level variants merged.
RELATIONS: dict[str, tuple[str, ...]] = {
    "hypernym": ("wnrel:hypernym",),
    "instance_hypernym": ("wnrel:instance_hypernym",),
    "member_meronym": ("wnrel:member_meronym",),
    "has_part": ("wnrel:part_meronym",),
    "synset_domain_topic_of": ("wnrel:domain_topic", "wnrel:sense/domain_topic"),
    "member_of_domain_usage": ("wnrel:domain_usage", "wnrel:sense/domain_usage"),
    "member_of_domain_region": ("wnrel:domain_region", "wnrel:sense/domain_region"),
    "also_see": ("wnrel:also_see", "wnrel:sense/also_see"),
    "verb_group": ("wnrel:verb_group", "wnrel:sense/verb_group"),
    "similar_to": ("wnrel:similar_to",),
    "derivationally_related_form": ("wnrel:sense/derivation",),
}
SYMMETRIC = frozenset({"also_see", "verb_group", "similar_to", "derivationally_related_form"})


@dataclass
class WordNetBenchmarkConfig:
    min_degree: int = 1  # WN18-style core: drop entities with fewer triples, repeatedly
    max_entities: int | None = None  # keep only the best-connected entities (smaller, quicker variants)
    valid_fraction: float = 0.035  # WN18RR: 3,034 of 93,003 triples
    test_fraction: float = 0.035

    def __post_init__(self) -> None:
        if self.valid_fraction < 0 or self.test_fraction < 0 or self.valid_fraction + self.test_fraction >= 0.5:
            raise ConfigError("valid_fraction and test_fraction must be ≥ 0 and sum to under 0.5")


@dataclass
class WordNetBenchmark:
    data: KGEData  # entity ids renumbered 0..E-1 over the kept entities
    entity_ids: list[str]  # new id → the graph's external id (wn:OFFSET-POS)
    relation_names: list[str]  # new id → WN18RR-style name

    def write_tsv(self, folder: str | Path) -> Path:
        """train.txt / valid.txt / test.txt (head, relation, tail; external ids), WN18RR's layout."""
        folder = Path(folder)
        for split in ("train", "valid", "test"):
            rows = self.data.split(split).tolist()
            with atomic_write(folder / f"{split}.txt") as f:
                f.writelines(f"{self.entity_ids[h]}\t{self.relation_names[r]}\t{self.entity_ids[t]}\n"
                             for h, r, t in rows)
        return folder


def _bucket(text: str) -> float:
    """A deterministic number in [0, 1) from the text (same on every machine and Python)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") / 2.0 ** 64


def build_wordnet_benchmark(kg, config: WordNetBenchmarkConfig | None = None) -> WordNetBenchmark:
    """The benchmark from a graph that holds WordNet (``kgnlu graph build wordnet``)."""
    config = config or WordNetBenchmarkConfig()
    names = list(RELATIONS)
    graph_rel = np.full(kg.num_relations, -1, dtype=np.int64)  # graph relation id → benchmark relation id
    for new, (_, sources) in enumerate(RELATIONS.items()):
        for source in sources:
            if source in kg.relation_names:
                graph_rel[kg.relation_names[source]] = new
    if (graph_rel >= 0).sum() == 0:
        raise ConfigError(f"{kg.path} has no WordNet relations; build it with `kgnlu graph build wordnet`")
    triples = np.asarray(kg.triples, dtype=np.int64)
    rel = graph_rel[triples[:, 1]]
    keep = rel >= 0
    h, r, t = triples[keep, 0], rel[keep], triples[keep, 2]
    loops = h != t
    h, r, t = h[loops], r[loops], t[loops]
    unique = np.unique(np.stack([h, r, t], 1), axis=0)  # sense-level pointers lifted to synsets repeat
    h, r, t = unique[:, 0], unique[:, 1], unique[:, 2]

    # WN18-style entity core, then the best-connected max_entities
    alive = np.ones(kg.num_entities, dtype=bool)
    while True:
        ok = alive[h] & alive[t]
        degree = np.bincount(h[ok], minlength=kg.num_entities) + np.bincount(t[ok], minlength=kg.num_entities)
        still = alive & (degree >= config.min_degree)
        if config.max_entities is not None and still.sum() > config.max_entities:
            order = np.lexsort((np.arange(kg.num_entities), -np.where(still, degree, -1)))
            still = np.zeros_like(still)
            still[order[:config.max_entities]] = True
        if (still == alive).all():
            break
        alive = still
    ok = alive[h] & alive[t]
    h, r, t = h[ok], r[ok], t[ok]

    # deterministic split by triple; symmetric pairs share a bucket
    ids = kg.entity_ids()
    symmetric = np.array([n in SYMMETRIC for n in names])
    split = np.zeros(len(h), dtype=np.int64)
    for i, (a, b, c) in enumerate(zip(h.tolist(), r.tolist(), t.tolist(), strict=True)):
        x, y = ids[a], ids[c]
        if symmetric[b] and y < x:
            x, y = y, x
        u = _bucket(f"{x} {names[b]} {y}")
        split[i] = 2 if u < config.test_fraction else 1 if u < config.test_fraction + config.valid_fraction else 0
    # entities of valid/test must be seen in training
    seen = np.zeros(kg.num_entities, dtype=bool)
    seen[h[split == 0]] = True
    seen[t[split == 0]] = True
    unseen = (split > 0) & ~(seen[h] & seen[t])
    split[unseen] = 0

    used = np.unique(np.concatenate([h, t]))
    new_id = np.full(kg.num_entities, -1, dtype=np.int64)
    new_id[used] = np.arange(len(used))
    mapped = np.stack([new_id[h], r, new_id[t]], 1)
    parts = [torch.from_numpy(mapped[split == s].copy()) for s in range(3)]
    data = KGEData(*parts, num_entities=len(used), num_relations=len(names), name=f"{kg.name}-wn-kge")
    return WordNetBenchmark(data, [ids[e] for e in used.tolist()], names)
