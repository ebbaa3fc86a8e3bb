"""Which relation paths a graph supports: paths that exist, with small answer sets, from the
graph's own statistics (no template names them).

For every step symbol (relation × direction) a sample of topics with such an edge is walked as a
sparse matrix product (topics × entities, one product per step); a path is kept when enough
sampled topics reach answers through it and its median answer set is small. Two-step paths extend
kept first steps with every symbol present at their frontier, three-step paths extend the best
two-step ones. The same catalog serves ``kgnlu data make-qa`` (which paths to ask about) and
zero-shot answering (which paths a question may mean).

    catalog = path_catalog(kg, CatalogConfig(max_hops=3))
    [(kg_path.key(kg), s.support, s.median_answers) for s in catalog for kg_path in [s.path]]
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from kgnlu.errors import ConfigError
from kgnlu.qa.paths import MAX_HOPS, RelationPath

# relations never walked as a question's step: a sameAs twin is the same topic (topics.py adds
# twins as candidates), not an answer
SKIPPED_RELATIONS = ("owl:sameAs",)


@dataclass
class CatalogConfig:
    max_hops: int = 3
    topics: int = 64  # sampled topics per first step: enough to estimate support and answer sizes
    min_support: int = 3  # sampled topics that must reach answers (a path that exists)
    max_answers: float = 20.0  # median answer-set size over the reaching topics: questions, not lists
    max_frontier: int = 5000  # a topic whose intermediate set grows past this is dropped from the sample
    max_two_hop: int = 2000  # paths kept per length, best support first: bounds time on wide graphs
    max_three_hop: int = 1500
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.max_hops <= MAX_HOPS:
            raise ConfigError(f"max_hops must be in 1..{MAX_HOPS}, got {self.max_hops}")
        if self.topics < 1 or self.min_support < 1 or self.max_answers < 1:
            raise ConfigError("topics, min_support and max_answers must be >= 1")


@dataclass
class PathStats:
    path: RelationPath
    support: int  # sampled topics that reach at least one answer
    sampled: int  # sampled topics
    median_answers: float  # over the reaching topics
    answer_kinds: np.ndarray = field(repr=False)  # float64 [K] share of answers of each kind


class StepMatrices:
    """One sparse 0/1 adjacency matrix per step symbol (row = the entity a step starts from), and
    the owl:sameAs twin matrix: an intermediate frontier is joined by its twins, as answering
    walks it (:func:`kgnlu.qa.retrieval.execute`)."""

    def __init__(self, kg, profile=None):
        """``profile`` (a GraphProfile): its redundant symbols (``hyponym^-1`` = ``hypernym``) are left out."""
        trip = np.asarray(kg.triples, dtype=np.int64)
        n = kg.num_entities
        self.num_entities = n
        names = kg.relation_names
        skipped = {names[r] for r in SKIPPED_RELATIONS if r in names}
        self.symbols: list[int] = []
        self._forward: dict[int, sp.csr_matrix] = {}
        order = np.argsort(trip[:, 1], kind="stable")
        trip = trip[order]
        bounds = np.searchsorted(trip[:, 1], np.arange(kg.num_relations + 1))
        self.twins: sp.csr_matrix | None = None
        for r in range(kg.num_relations):
            rows = trip[bounds[r]: bounds[r + 1]]
            if not len(rows):
                continue
            m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows[:, 0], rows[:, 2])), shape=(n, n))
            if r in skipped:
                self.twins = _binary(m + m.T)
                continue
            self._forward[r] = m
            self.symbols += [s for s in (2 * r, 2 * r + 1) if profile is None or not profile.redundant(s)]
        self._cache: dict[int, sp.csr_matrix] = {}
        self._has_out: dict[int, np.ndarray] = {}

    def matrix(self, symbol: int) -> sp.csr_matrix:
        if symbol not in self._cache:
            forward = self._forward.get(symbol // 2)
            if forward is None:  # a relation with no edges (or sameAs): walks nowhere
                forward = sp.csr_matrix((self.num_entities, self.num_entities), dtype=np.float32)
            self._cache[symbol] = forward if symbol % 2 == 0 else forward.T.tocsr()
        return self._cache[symbol]

    def starts(self, symbol: int) -> np.ndarray:
        """Entities with at least one edge of ``symbol``."""
        return np.flatnonzero(self.has_out(symbol)).astype(np.int64)

    def has_out(self, symbol: int) -> np.ndarray:
        """bool [E]: whether each entity has an edge of ``symbol``."""
        if symbol not in self._has_out:
            self._has_out[symbol] = np.diff(self.matrix(symbol).indptr) > 0
        return self._has_out[symbol]

    def reaching(self, path: RelationPath) -> np.ndarray:
        """int64 [n] the entities from which ``path`` reaches at least one entity (intermediate
        nodes joined by their sameAs twins, as answering walks): backwards, one sparse
        matrix-vector product per step, so a rare path's topics are found without walking every
        entity that has its first step."""
        symbols = path.symbols()
        can = self.has_out(symbols[-1]).astype(np.float32)  # (E,) can take the last step
        for s in reversed(symbols[:-1]):
            if self.twins is not None:
                can = np.maximum(can, (self.twins @ can > 0).astype(np.float32))  # a twin can take it
            can = (self.matrix(s) @ can > 0).astype(np.float32)
        return np.flatnonzero(can).astype(np.int64)

    def twinned(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """A frontier joined by its nodes' sameAs twins."""
        return x if self.twins is None else _binary(x + x @ self.twins)


def _binary(m: sp.csr_matrix) -> sp.csr_matrix:
    m = m.tocsr()
    m.data[:] = 1.0  # reachability, not path counts
    return m


def _step(frontier: sp.csr_matrix, m: sp.csr_matrix) -> sp.csr_matrix:
    return _binary(frontier @ m)


def _stats(path: RelationPath, topics: np.ndarray, reached: sp.csr_matrix, kinds: np.ndarray,
           num_kinds: int, population: int | None = None) -> PathStats:
    reached = reached.tocsr()
    # the topic is never its own answer (MetaQA): drop the diagonal entries of the sample
    sizes = np.diff(reached.indptr).astype(np.int64)
    own = np.asarray(reached[np.arange(len(topics)), topics]).ravel() > 0
    sizes = sizes - own.astype(np.int64)
    reach = sizes > 0
    answer_kinds = np.bincount(kinds[reached.indices], minlength=num_kinds).astype(np.float64)
    if answer_kinds.sum():
        answer_kinds /= answer_kinds.sum()
    median = float(np.median(sizes[reach])) if reach.any() else 0.0
    support = int(reach.sum()) if population is None else int(round(population * reach.mean()))
    return PathStats(path, support, len(topics), median, answer_kinds)


def _sample(rng: random.Random, pool: np.ndarray, k: int) -> np.ndarray:
    items = pool.tolist()
    return np.array(sorted(rng.sample(items, min(k, len(items)))), dtype=np.int64)


def _rows(topics: np.ndarray, n: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(topics), dtype=np.float32), (np.arange(len(topics)), topics)),
                         shape=(len(topics), n))


def path_catalog(kg, config: CatalogConfig | None = None, matrices: StepMatrices | None = None) -> list[PathStats]:
    """Every 1-step path, and the 2- and 3-step paths that exist with small answer sets (see module).

    Two-step paths are found exhaustively: (s1, s2) exists when some entity reached by s1 (or its
    sameAs twin) has an s2 edge, and its topics are sampled among those that reach such an entity,
    so a rare combination ("part of" → GeoNames "capital") is measured, not missed by sampling.
    Three-step paths extend the kept two-step ones over their sampled topics."""
    from kgnlu.qa.graph_profile import GraphProfile

    cfg = config or CatalogConfig()
    profile = GraphProfile(kg)
    mats = matrices or StepMatrices(kg, profile)
    rng = random.Random(cfg.seed)
    kinds = np.asarray(kg.entity_kinds, dtype=np.int64)
    num_kinds, n = len(kg.kinds), mats.num_entities
    out: list[PathStats] = []
    for s in mats.symbols:
        topics = _sample(rng, mats.starts(s), cfg.topics)
        out.append(_stats(RelationPath.from_symbols([s]), topics, _step(_rows(topics, n), mats.matrix(s)),
                          kinds, num_kinds, population=int(mats.has_out(s).sum())))
    if cfg.max_hops < 2:
        return out
    twinned = {s: mats.twinned(mats.matrix(s)) for s in mats.symbols}  # (E, E): s, then sameAs
    two: list[tuple[PathStats, np.ndarray, sp.csr_matrix]] = []
    inner = [s for s in mats.symbols if not profile.schema_symbol(s)]  # rdf:type and kin end a path only
    for s1 in inner:
        m1 = twinned[s1]
        for s2 in mats.symbols:
            connect = mats.has_out(s2).astype(np.float32)
            population = np.flatnonzero(m1 @ connect)  # topics whose s1-neighbours have an s2 edge
            if len(population) < cfg.min_support:
                continue
            topics = _sample(rng, population, cfg.topics)
            middle = _step(_rows(topics, n), m1)
            small = np.diff(middle.indptr) <= cfg.max_frontier
            if small.sum() < cfg.min_support:
                continue
            topics, middle = topics[small], middle[np.flatnonzero(small)]
            stats = _stats(RelationPath.from_symbols([s1, s2]), topics, _step(middle, mats.matrix(s2)), kinds,
                           num_kinds, population=len(population))
            if stats.support >= cfg.min_support and stats.median_answers <= cfg.max_answers:
                two.append((stats, topics, middle))
    two.sort(key=lambda f: (-f[0].support, f[0].median_answers, f[0].path.symbols()))
    two = two[: cfg.max_two_hop]
    out += [t[0] for t in two]
    if cfg.max_hops < 3:
        return out
    three: dict[tuple[int, int], list[PathStats]] = {}
    for stats, topics, middle in two:
        s1, s2 = stats.path.symbols()
        if _back(profile, s1, s2) or profile.schema_symbol(s2):
            continue  # siblings are a question ("other kinds of seat"); a step from siblings is not
        # no twins after the second step: a twin's relations (WordNet's, for a GeoNames country)
        # would crowd every geographic prefix's share of the cap with cross-source chains
        reached = _step(middle, mats.matrix(s2))
        small = np.diff(reached.indptr) <= cfg.max_frontier
        if small.sum() < cfg.min_support:
            continue
        sub_topics, reached = topics[small], reached[np.flatnonzero(small)]
        ends = np.unique(reached.indices)
        for s3 in mats.symbols:
            if not mats.has_out(s3)[ends].any():
                continue  # a last step straight back is asked: "genera in the same family as the wolf's genus"
            st = _stats(RelationPath.from_symbols([s1, s2, s3]), sub_topics, _step(reached, mats.matrix(s3)),
                        kinds, num_kinds)
            if st.support >= cfg.min_support and st.median_answers <= cfg.max_answers:
                three.setdefault((s1, s2), []).append(st)
    return out + _round_robin(three, {s: float(mats.matrix(s).nnz) for s in mats.symbols}, cfg.max_three_hop)


def _round_robin(groups: dict[tuple[int, int], list[PathStats]], edges: dict[int, float], limit: int
                 ) -> list[PathStats]:
    """Up to ``limit`` three-step paths, taken in turn from each two-step prefix (most supported
    prefixes first), each prefix's extensions best first: well supported, then over the graph's
    commoner steps ("hypernym of the hypernym of the hypernym" before rare chains). Every prefix
    gets its best extension before any gets a second, so no relation family fills the cap."""
    for items in groups.values():
        items.sort(key=lambda st: (-round(st.support / max(1, st.sampled), 1), -np.log(edges[st.path.symbols()[-1]]),
                                   st.path.symbols()))
    queues = [groups[k] for k in groups]
    out: list[PathStats] = []
    depth = 0
    while len(out) < limit and any(depth < len(q) for q in queues):
        for q in queues:
            if depth < len(q) and len(out) < limit:
                out.append(q[depth])
        depth += 1
    return out


def _back(profile, a: int, b: int) -> bool:
    """Whether step ``b`` walks straight back along step ``a`` (``hypernym`` then ``hyponym``)."""
    return int(profile.canonical[b]) == int(profile.canonical[a ^ 1])
