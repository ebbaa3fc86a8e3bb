"""Synthetic power-law graphs for scale tests: N-Triples written in vectorised chunks.

Shape (issue 22): ``n_triples`` entity–entity triples over ``n_triples // 8`` entities; heads are
Zipf-distributed (P(rank k) ∝ k^-exponent, ranks shuffled onto entity ids by a seeded permutation,
so hubs are not the first ids), tails uniform, relations uniform over ``relations`` named
predicates; ``labelled`` of the entities (10%) get an ``rdfs:label`` — a pronounceable
name built from the entity id, unique per entity — written after the triples. Everything is
drawn from one seeded numpy Generator: the same arguments give the same bytes.

Memory is bounded by the chunk (``chunk`` triples at a time, formatted with pyarrow's string
kernels, not a Python loop per triple) plus two int arrays of one entry per entity (the Zipf
CDF and the rank → id permutation).

    from kgnlu.kg.synthetic import write_power_law
    write_power_law("g.nt", 1_000_000, seed=0)       # then: kgnlu graph build g.nt --no-store
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgnlu.atomic_files import atomic_write

ENTITY = "http://example.org/e/"
RELATION = "http://example.org/r/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# 50 predicates with word-like local names, so relation labels read as words ("locatedIn" →
# "located in") for zero-shot QA's path descriptions
PREDICATES = (
    "locatedIn", "partOf", "memberOf", "bornIn", "diedIn", "worksFor", "foundedBy", "ownedBy",
    "authorOf", "directedBy", "producedBy", "capitalOf", "neighbourOf", "marriedTo", "childOf",
    "studiedAt", "playsFor", "coachOf", "speaks", "follows", "influencedBy", "namedAfter",
    "headquarteredIn", "memberOfParty", "citizenOf", "leaderOf", "genreOf", "instrumentOf",
    "publishedBy", "editedBy", "translatedBy", "composedBy", "performedBy", "designedBy",
    "manufacturedBy", "operatedBy", "servedBy", "flowsInto", "borders", "twinnedWith",
    "sponsoredBy", "awardedTo", "nominatedFor", "successorOf", "predecessorOf", "relatedTo",
    "derivedFrom", "usedBy", "madeOf", "contains",
)
_SYLLABLES = np.array([c + v for c in "bdfgklmnprstvz" for v in "aeiou"][:64])  # 64 syllables


@dataclass(frozen=True)
class SyntheticSpec:
    n_triples: int
    seed: int = 0
    relations: int = 50
    labelled: float = 0.10
    exponent: float = 1.0  # Zipf exponent of the head distribution
    entities_per_triple: float = 1 / 8

    @property
    def n_entities(self) -> int:
        return max(16, int(self.n_triples * self.entities_per_triple))


def entity_names(ids: np.ndarray):
    """Pronounceable unique names of entity ids: base-64 syllables, two words ("Bako Dumi").
    Returns a pyarrow string array [n]."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = np.asarray(ids, dtype=np.int64)
    # an odd multiplier is a bijection mod 2^24: neighbouring ids get unrelated names
    mixed = (ids * 0x9E3779) & 0xFFFFFF
    digits = [(mixed >> (6 * k)) & 63 for k in range(4)]  # 4 syllables: 2^24 distinct names
    high = ids >> 24  # beyond 16.7M entities a number keeps names unique
    syl = [pa.array(_SYLLABLES[d]) for d in digits]
    first = pc.utf8_capitalize(pc.binary_join_element_wise(syl[0], syl[1], ""))
    second = pc.utf8_capitalize(pc.binary_join_element_wise(syl[2], syl[3], ""))
    name = pc.binary_join_element_wise(first, second, " ")
    if (high > 0).any():
        suffix = pc.if_else(pa.array(high > 0), pc.binary_join_element_wise(
            pa.scalar(" "), pc.cast(pa.array(high), pa.string()), ""), pa.scalar(""))
        name = pc.binary_join_element_wise(name, suffix, "")
    return name


def _zipf_cdf(n: int, exponent: float) -> np.ndarray:
    """float64 [n]: cumulative P(rank ≤ k) for P(k) ∝ (k+1)^-exponent."""
    w = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    cdf = np.cumsum(w)
    return cdf / cdf[-1]


def sample_triples(spec: SyntheticSpec, chunk: int = 1 << 20):
    """Yield (heads, relations, tails) int64 arrays of at most ``chunk`` triples, ``n_triples`` in all."""
    rng = np.random.default_rng(spec.seed)
    n = spec.n_entities
    cdf = _zipf_cdf(n, spec.exponent)
    rank_to_id = rng.permutation(n)
    done = 0
    while done < spec.n_triples:
        m = min(chunk, spec.n_triples - done)
        ranks = np.minimum(np.searchsorted(cdf, rng.random(m), side="right"), n - 1)
        heads = rank_to_id[ranks]
        rels = rng.integers(0, spec.relations, m)
        tails = rng.integers(0, n, m)
        yield heads, rels, tails
        done += m


def labelled_entities(spec: SyntheticSpec) -> np.ndarray:
    """int64 [~labelled·E], sorted: the entities given a label (seeded, independent of degree)."""
    rng = np.random.default_rng([spec.seed, 1])
    return np.flatnonzero(rng.random(spec.n_entities) < spec.labelled)


def _lines(*parts) -> bytes:
    """One N-Triples line per row from string columns / scalars, as bytes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    arr = pc.binary_join_element_wise(*parts, pa.scalar(" .\n"), pa.scalar(""))
    # the strings lie back to back in the data buffer: that slice is the file's bytes
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    return arr.buffers()[2].to_pybytes()[offsets[0]:offsets[-1]]


def _iri(prefix: str, ids: np.ndarray):
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(pa.scalar("<" + prefix), pc.cast(pa.array(ids), pa.string()),
                                       pa.scalar(">"), "")


def write_power_law(path: str | Path, n_triples: int, *, seed: int = 0, relations: int = 50,
                    labelled: float = 0.10, exponent: float = 1.0, chunk: int = 1 << 20) -> dict:
    """Write the synthetic graph as N-Triples to ``path`` (atomically: a temp file renamed).
    Returns counts: {"triples", "labels", "entities", "relations", "lines"}."""
    import pyarrow as pa

    if relations > len(PREDICATES):
        raise ValueError(f"at most {len(PREDICATES)} relations")
    spec = SyntheticSpec(n_triples, seed, relations, labelled, exponent)
    rel_iris = pa.array([f"<{RELATION}{p}>" for p in PREDICATES[:relations]])
    with atomic_write(path, "wb", encoding=None) as f:
        for heads, rels, tails in sample_triples(spec, chunk):
            f.write(_lines(_iri(ENTITY, heads), " ", rel_iris.take(pa.array(rels)), " ",
                           _iri(ENTITY, tails)))
        named = labelled_entities(spec)
        for lo in range(0, len(named), chunk):
            ids = named[lo:lo + chunk]
            f.write(_lines(_iri(ENTITY, ids), f" <{RDFS_LABEL}> \"", entity_names(ids), '"@en'))
    n_labels = int(len(labelled_entities(spec)))
    return {"triples": n_triples, "labels": n_labels, "entities": spec.n_entities,
            "relations": relations, "lines": n_triples + n_labels}
