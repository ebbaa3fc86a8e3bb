"""MetaQA-style questions from any graph: 1-, 2- and 3-hop, answers computed by walking the graph.

    result = generate_questions(KnowledgeGraph.load(GRAPH), MakeQAConfig(per_path=200))
    result.splits["train"][0]
    # {"id": "train-000000", "question": "What is the capital of Peru?", "topic": "geonames:3932488",
    #  "topic_label": "Peru", "topic_span": [23, 27], "hops": 1, "relations": ["gnrel:capital"],
    #  "template_id": "gnrel:capital/w3", "answers": ["geonames:3936456"], "answer_labels": ["Lima"]}

No template is needed. The paths asked about are the graph's own (:mod:`kgnlu.qa.path_catalog`:
every step both ways, and the 2- and 3-step paths that exist with small answer sets); each path is
worded from the graph's words (:mod:`kgnlu.qa.data.wording`: relation labels or IRI local names,
answer types from kinds and ``rdf:type``). kgnlu's WordNet/GeoNames templates
(:mod:`kgnlu.qa.data.templates`) join the wordings of the paths they cover. Topics are the
entities with an edge of a path's first step, in an order shuffled by the seed. A topic yields one
question when:

- its label is a linkable, unambiguous mention: the alias table maps the label to the topic, and
  the topic's ``owl:sameAs`` cluster (WordNet's France and GeoNames' France are one place) holds at
  least ``min_prior`` of p(entity | label). Below that the question has two readings with different
  answers ("Which country is Paris in?": France or the United States);
- the answer set — every entity reachable from the topic by the path (intermediate nodes joined by
  their sameAs twins, as answering walks it), the topic itself excluded (as MetaQA does) — holds 1
  to ``max_answers`` entities. Larger sets are enumerations, not answers.

Each path keeps at most ``per_path`` questions (more for one step, fewer for three), all paths
together at most ``max_questions``. Splits follow the topic's label (:mod:`kgnlu.qa.data.split`);
every dev question has a ``paraphrase_dev`` twin worded by a held-out wording. Everything is a
function of the graph, the templates and the seed.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from kgnlu.errors import ConfigError, QAError, UnknownEntityError
from kgnlu.progress import track
from kgnlu.qa.data.split import PARAPHRASE, SPLITS, check_fractions, split_of
from kgnlu.qa.data.templates import TEMPLATES, PathTemplates, split_step
from kgnlu.qa.data.wording import Wordings, path_wordings, render
from kgnlu.qa.paths import RelationPath

log = logging.getLogger(__name__)
FORMAT = "kgnlu-qa/2"
SAME_AS = "owl:sameAs"
HOP_SHARE = {1: 4.0, 2: 1.0, 3: 0.5}  # per_path multiplier: one-step questions are most of what people ask
HOP_BUDGET = {1: 0.4, 2: 0.35, 3: 0.25}  # how max_questions is shared over path lengths


@dataclass
class MakeQAConfig:
    per_path: int = 150  # questions per relation path over all splits (times HOP_SHARE by its length)
    max_questions: int = 60000  # all paths together; the trainer samples evenly over wordings from these
    max_answers: int = 20  # larger answer sets are lists to enumerate, not answers (MetaQA's sets are small)
    min_prior: float = 0.9  # share of p(e|label) the topic's sameAs cluster needs: "one intended reading"
    max_frontier: int = 5000  # an intermediate set this large is abandoned (its answers would be far over max_answers)
    max_hops: int = 3
    max_two_hop: int = 1000  # catalog caps (kgnlu.qa.path_catalog.CatalogConfig)
    max_three_hop: int = 400
    templates: bool = True  # kgnlu's WordNet/GeoNames templates as extra wording where they apply
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, dev, test share of topic labels
    seed: int = 0

    def __post_init__(self) -> None:
        self.fractions = check_fractions(self.fractions)
        if min(self.per_path, self.max_questions, self.max_answers, self.max_frontier) < 1:
            raise ConfigError("per_path, max_questions, max_answers and max_frontier must be >= 1")
        if not 0.0 < self.min_prior <= 1.0:
            raise ConfigError(f"min_prior must be in (0, 1], got {self.min_prior}")
        if not 1 <= self.max_hops <= 3:
            raise ConfigError(f"max_hops must be 1, 2 or 3, got {self.max_hops}")


@dataclass
class QADataset:
    splits: dict[str, list[dict]]  # train, dev, test, paraphrase_dev
    meta: dict = field(default_factory=dict)


def follow(kg, nodes: np.ndarray, relation: int, forward: bool) -> np.ndarray:
    """One path step from every node at once: the sorted unique entities at the other end."""
    rows, _ = kg.walker.edge_rows(nodes, "out" if forward else "in")
    trip = np.asarray(kg.triples[rows])
    trip = trip[trip[:, 1] == relation]
    return np.unique(trip[:, 2] if forward else trip[:, 0]).astype(np.int64)


class TopicCheck:
    """Whether an entity's label names it unambiguously (cached per entity)."""

    def __init__(self, kg, min_prior: float):
        self.kg, self.min_prior = kg, min_prior
        self.same_as = kg.relation_names.get(SAME_AS)
        self.cache: dict[int, str | None] = {}

    def cluster(self, e: int) -> set[int]:
        if self.same_as is None:
            return {e}
        rows, _ = self.kg.walker.edge_rows(np.array([e]), "both")
        trip = np.asarray(self.kg.triples[rows])
        trip = trip[trip[:, 1] == self.same_as]
        return {e, *trip[:, 0].tolist(), *trip[:, 2].tolist()}

    def problem(self, e: int) -> str | None:
        """None when ``e`` can be a topic, else the reason it cannot."""
        if e not in self.cache:
            self.cache[e] = self._problem(e)
        return self.cache[e]

    def _problem(self, e: int) -> str | None:
        label = self.kg.entity_label(e)
        if not label.strip():
            return "topic has no label"
        found = self.kg.aliases(label)
        if e not in {x for x, _ in found}:
            return "label is not an alias of the topic"
        cluster = self.cluster(e)
        if sum(p for x, p in found if x in cluster) < self.min_prior:
            return "ambiguous topic label"
        return None


def answer_set(kg, topic: int, steps: Sequence[tuple[int, bool]], max_frontier: int,
               same_as: int | None = None) -> np.ndarray | None:
    """Entities reachable from ``topic`` along ``steps``, the topic excluded; None if a frontier
    grows past ``max_frontier`` (the walk is abandoned, not truncated). With ``same_as`` every
    intermediate frontier is joined by its sameAs twins (as :func:`kgnlu.qa.retrieval.execute`)."""
    frontier = np.array([topic], dtype=np.int64)
    for i, (relation, forward) in enumerate(steps):
        frontier = follow(kg, frontier, relation, forward)
        if same_as is not None and i < len(steps) - 1 and len(frontier):
            frontier = np.union1d(np.union1d(frontier, follow(kg, frontier, same_as, True)),
                                  follow(kg, frontier, same_as, False))
        if len(frontier) > max_frontier:
            return None
        if len(frontier) == 0:
            break
    return frontier[frontier != topic]


def template_wordings(kg, templates: Sequence[PathTemplates]) -> dict[RelationPath, tuple[tuple[str, ...], tuple[str, ...]]]:
    """kgnlu's templates whose relations the graph has, by path: (train, held-out) wordings with {x}."""
    out: dict[RelationPath, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for t in templates:
        try:
            steps = tuple((kg.relation_index(name), forward) for name, forward in map(split_step, t.relations))
        except UnknownEntityError:
            continue
        to_x = lambda texts: tuple(x.replace("{topic}", "{x}") for x in texts)  # noqa: E731
        out[RelationPath(steps)] = (to_x(t.train), to_x(t.heldout))
    return out


def _topics(kg, mats, profile, path: RelationPath, seed: int) -> list[int]:
    """Entities from which the path reaches something, the graph's classes and predicates left
    out, shuffled by the seed."""
    reach = mats.reaching(path)
    order = reach[~profile.schema_mask[reach]].tolist()
    random.Random(f"{seed}\x1ftopics\x1f{path.key(kg)}").shuffle(order)
    return order


def _record(kg, topic: int, path: RelationPath, wording: tuple[str, str], answers: np.ndarray) -> dict:
    label = kg.entity_label(topic)
    question, span = render(wording[1], label)
    return {"id": "", "question": question, "topic": kg.entity_id(topic), "topic_label": label,
            "topic_span": list(span), "hops": len(path), "relations": path.external(kg),
            "template_id": wording[0], "answers": [kg.entity_id(a) for a in answers.tolist()],
            "answer_labels": [kg.entity_label(a) for a in answers.tolist()]}


def _ids(path_key: str, texts: Sequence[str], tag: str) -> list[tuple[str, str]]:
    """(wording id, text): ``PATH/wK`` for training wordings, ``PATH/hK`` for held-out ones."""
    return [(f"{path_key}/{tag}{i}", t) for i, t in enumerate(texts)]


def generate_questions(kg, config: MakeQAConfig | None = None,
                       templates: Sequence[PathTemplates] = TEMPLATES) -> QADataset:
    """Every split's questions plus the ``meta.json`` content (counts, wordings, skips, graph)."""
    from kgnlu.qa.graph_profile import GraphProfile
    from kgnlu.qa.path_catalog import CatalogConfig, StepMatrices, path_catalog

    config = config or MakeQAConfig()
    start = time.perf_counter()
    profile = GraphProfile(kg)
    mats = StepMatrices(kg, profile)
    catalog = path_catalog(kg, CatalogConfig(max_hops=config.max_hops, max_answers=config.max_answers,
                                             max_frontier=config.max_frontier, max_two_hop=config.max_two_hop,
                                             max_three_hop=config.max_three_hop, seed=config.seed), mats)
    extra = template_wordings(kg, templates) if config.templates else {}
    warnings = unusable_relations(kg)
    for w in warnings:
        log.warning("make-qa: %s", w)
    check = TopicCheck(kg, config.min_prior)
    same_as = kg.relation_names.get(SAME_AS)
    splits: dict[str, list[dict]] = {name: [] for name in (*SPLITS, PARAPHRASE)}
    skipped: Counter[str] = Counter()
    wording_meta: dict[str, dict] = {}
    paths_left = Counter(len(s.path) for s in catalog)
    weights = {h: HOP_BUDGET[h] for h in paths_left}
    budget = {h: config.max_questions * w / sum(weights.values()) for h, w in weights.items()}
    for stats in track(catalog, desc="make-qa paths", unit="path"):
        path, key = stats.path, stats.path.key(kg)
        wordings: Wordings = path_wordings(kg, path, profile, extra.get(path, ((), ())))
        if not wordings.train:
            skipped["path without a usable wording"] += 1
            continue
        train_w, held_w = _ids(key, wordings.train, "w"), _ids(key, wordings.heldout, "h")
        # a template's hand-written wordings (the first ones) are asked as often as all generic frames
        written = train_w[: len(extra.get(path, ((), ()))[0])]
        wording_meta[key] = {"hops": len(path), "train": dict(train_w), "heldout": dict(held_w)}
        rng = random.Random(f"{config.seed}\x1fwordings\x1f{key}")
        # an even share of what is left of this length's budget, at most per_path (scaled by length):
        # no family fills the budget, and one-step questions are never crowded out by long chains
        hops = len(path)
        quota = int(min(config.per_path * HOP_SHARE[hops], max(1.0, budget[hops] / max(1, paths_left[hops]))))
        made = 0
        for topic in _topics(kg, mats, profile, path, config.seed):
            if made >= quota:
                break
            problem = check.problem(topic)
            if problem is not None:
                skipped[problem] += 1
                continue
            answers = answer_set(kg, topic, path.steps, config.max_frontier, same_as)
            if answers is None:
                skipped["walk too wide (an intermediate set over max_frontier)"] += 1
                continue
            if not 1 <= len(answers) <= config.max_answers:
                skipped["no answer besides the topic" if not len(answers) else "too many answers"] += 1
                continue
            split = split_of(kg.entity_label(topic), config.seed, config.fractions)
            pool = written if written and rng.random() < 0.5 else train_w
            splits[split].append(_record(kg, topic, path, rng.choice(pool), answers))
            if split == "dev" and held_w:
                splits[PARAPHRASE].append(_record(kg, topic, path, rng.choice(held_w), answers))
            made += 1
        budget[hops] -= made
        paths_left[hops] -= 1
    for name, records in splits.items():
        for i, record in enumerate(records):
            record["id"] = f"{name}-{i:06d}"
    if not splits["train"]:
        raise QAError(f"no question could be generated from {kg.path}: no relation path reaches 1 to "
                      f"{config.max_answers} answers from a topic whose label names it unambiguously (labels "
                      "shared by many entities, or relations between very few of them); see meta.json's skipped")
    meta = {"format": FORMAT, "graph": graph_meta(kg), "config": asdict(config),
            "counts": counts(splits), "paths": len(catalog), "wordings": wording_meta,
            "skipped": dict(sorted(skipped.items())), "warnings": warnings,
            "seconds": round(time.perf_counter() - start, 3)}
    return QADataset(splits, meta)


def unusable_relations(kg) -> list[str]:
    """Relations whose words could not be read (no label, no readable local name): named, not fatal."""
    from kgnlu.qa.phrasing import relation_words

    out = []
    for r in range(kg.num_relations):
        words, _ = relation_words(kg, r)
        if not any(ch.isalpha() for ch in words):
            out.append(f"relation {kg.relation_id(r)} has no usable phrase (no label, no words in its IRI); "
                       "its questions read 'the ... of X' poorly — give it an rdfs:label")
    return out


def graph_meta(kg) -> dict:
    manifest = (kg.path / "manifest.json").read_bytes()
    return {"name": kg.name, "path": str(kg.path), "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
            "entities": kg.num_entities, "triples": kg.num_triples}


def counts(splits: dict[str, list[dict]]) -> dict:
    out = {}
    for name, records in splits.items():
        by_hops: Counter[str] = Counter(str(r["hops"]) for r in records)
        by_path: dict[str, int] = defaultdict(int)
        for r in records:
            by_path["/".join(r["relations"])] += 1
        out[name] = {"total": len(records), "by_hops": dict(sorted(by_hops.items())),
                     "by_path": dict(sorted(by_path.items())),
                     "topics": len({r["topic"] for r in records})}
    return out


