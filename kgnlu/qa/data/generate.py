"""MetaQA-style questions from a graph: 1-, 2- and 3-hop, answers computed by walking the graph.

    result = generate_questions(KnowledgeGraph.load(GRAPH), MakeQAConfig(per_relation=1000))
    result.splits["train"][0]
    # {"id": "train-000000", "question": "What is the capital of Peru?", "topic": "geonames:3932488",
    #  "topic_label": "Peru", "topic_span": [23, 27], "hops": 1, "relations": ["gnrel:capital"],
    #  "template_id": "capital/t0", "answers": ["geonames:3936456"], "answer_labels": ["Lima"]}

For each relation path of :mod:`kgnlu.qa.data.templates`, topics are the entities of the path's
kind with an edge of its first relation, in an order shuffled by the seed. A topic yields one
question when:

- its label is a linkable, unambiguous mention: the alias table maps the label to the topic, and
  the topic's ``owl:sameAs`` cluster (WordNet's France and GeoNames' France are one place) holds at
  least ``min_prior`` of p(entity | label). Below that the question has two readings with different
  answers ("Which country is Paris in?": France or the United States); requiring a unique label
  instead would drop every country and most common nouns, which WordNet and GeoNames both name;
- the answer set — every entity reachable from the topic by the path, the topic itself excluded
  (as MetaQA does) — holds 1 to ``max_answers`` entities. Larger sets are enumerations, not answers.

Each path keeps at most ``per_relation`` questions over all splits. Splits follow the topic's
label (:mod:`kgnlu.qa.data.split`); every test question has a ``paraphrase_test`` twin worded by a
held-out template. Everything is a function of the graph, the templates and the seed.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from kgnlu.errors import ConfigError, QAError, UnknownEntityError
from kgnlu.progress import track
from kgnlu.qa.data.split import PARAPHRASE, SPLITS, check_fractions, split_of
from kgnlu.qa.data.templates import TEMPLATES, PathTemplates, render, split_step

FORMAT = "kgnlu-qa/1"
SAME_AS = "owl:sameAs"


@dataclass
class MakeQAConfig:
    per_relation: int = 1000  # questions per relation path over all splits: ~10 paths/hop → ~8k train/hop
    max_answers: int = 20  # larger answer sets are lists to enumerate, not answers (MetaQA's sets are small)
    min_prior: float = 0.9  # share of p(e|label) the topic's sameAs cluster needs: "one intended reading"
    max_frontier: int = 5000  # an intermediate set this large is abandoned (its answers would be far over max_answers)
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, dev, test share of topic labels
    seed: int = 0

    def __post_init__(self) -> None:
        self.fractions = check_fractions(self.fractions)
        if self.per_relation < 1 or self.max_answers < 1 or self.max_frontier < 1:
            raise ConfigError("per_relation, max_answers and max_frontier must be >= 1")
        if not 0.0 < self.min_prior <= 1.0:
            raise ConfigError(f"min_prior must be in (0, 1], got {self.min_prior}")


@dataclass
class QADataset:
    splits: dict[str, list[dict]]  # train, dev, test, paraphrase_test
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


def _resolve(kg, path: PathTemplates) -> list[tuple[int, bool]] | None:
    steps = []
    for step in path.relations:
        name, forward = split_step(step)
        try:
            steps.append((kg.relation_index(name), forward))
        except UnknownEntityError:
            return None
    return steps


def _candidates(kg, path: PathTemplates, steps: list[tuple[int, bool]], seed: int) -> list[int]:
    """Entities of the path's topic kind with an edge of its first relation, shuffled by the seed."""
    relation, forward = steps[0]
    triples = np.asarray(kg.triples)
    ends = np.unique(triples[triples[:, 1] == relation][:, 0 if forward else 2])
    kind_ok = np.array([k.startswith(path.topic_kind) for k in kg.kinds], dtype=bool)
    ends = ends[kind_ok[np.asarray(kg.entity_kinds)[ends]]]
    order = ends.tolist()
    random.Random(f"{seed}\x1fcandidates\x1f{path.name}").shuffle(order)
    return order


def answer_set(kg, topic: int, steps: Sequence[tuple[int, bool]], max_frontier: int) -> np.ndarray | None:
    """Entities reachable from ``topic`` along ``steps``, the topic excluded; None if a frontier
    grows past ``max_frontier`` (the walk is abandoned, not truncated)."""
    frontier = np.array([topic], dtype=np.int64)
    for relation, forward in steps:
        frontier = follow(kg, frontier, relation, forward)
        if len(frontier) > max_frontier:
            return None
        if len(frontier) == 0:
            break
    return frontier[frontier != topic]


def _record(kg, topic: int, path: PathTemplates, template: tuple[str, str], answers: np.ndarray) -> dict:
    label = kg.entity_label(topic)
    question, span = render(template[1], label)
    return {"id": "", "question": question, "topic": kg.entity_id(topic), "topic_label": label,
            "topic_span": list(span), "hops": path.hops, "relations": list(path.relations),
            "template_id": template[0], "answers": [kg.entity_id(a) for a in answers.tolist()],
            "answer_labels": [kg.entity_label(a) for a in answers.tolist()]}


def generate_questions(kg, config: MakeQAConfig | None = None,
                       templates: Sequence[PathTemplates] = TEMPLATES) -> QADataset:
    """Every split's questions plus the ``meta.json`` content (counts, templates, skips, graph)."""
    config = config or MakeQAConfig()
    start = time.perf_counter()
    check = TopicCheck(kg, config.min_prior)
    splits: dict[str, list[dict]] = {name: [] for name in (*SPLITS, PARAPHRASE)}
    skipped: Counter[str] = Counter()
    missing_paths: dict[str, str] = {}
    for path in track(templates, desc="make-qa paths", unit="path"):
        steps = _resolve(kg, path)
        if steps is None:
            missing_paths[path.name] = "a relation of the path is not in the graph"
            continue
        train_templates, heldout = path.template_ids(False), path.template_ids(True)
        rng = random.Random(f"{config.seed}\x1ftemplates\x1f{path.name}")
        made = 0
        for topic in _candidates(kg, path, steps, config.seed):
            if made >= config.per_relation:
                break
            problem = check.problem(topic)
            if problem is not None:
                skipped[problem] += 1
                continue
            answers = answer_set(kg, topic, steps, config.max_frontier)
            if answers is None:
                skipped["walk too wide (an intermediate set over max_frontier)"] += 1
                continue
            if len(answers) > config.max_answers:
                skipped["too many answers"] += 1
                continue
            if len(answers) == 0:
                skipped["no answer besides the topic"] += 1
                continue
            split = split_of(kg.entity_label(topic), config.seed, config.fractions)
            splits[split].append(_record(kg, topic, path, rng.choice(train_templates), answers))
            if split == "test":
                splits[PARAPHRASE].append(_record(kg, topic, path, rng.choice(heldout), answers))
            made += 1
    for name, records in splits.items():
        for i, record in enumerate(records):
            record["id"] = f"{name}-{i:06d}"
    if not splits["train"]:
        raise QAError(f"no question could be generated from {kg.path}: it has none of the WordNet or GeoNames "
                      "relations the templates use (see kgnlu.qa.data.templates), or no unambiguous topics")
    meta = {"format": FORMAT, "graph": graph_meta(kg), "config": asdict(config),
            "counts": counts(splits), "templates": template_meta(templates), "skipped": dict(sorted(skipped.items())),
            "skipped_paths": missing_paths, "seconds": round(time.perf_counter() - start, 3)}
    return QADataset(splits, meta)


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
            by_path[r["template_id"].split("/")[0]] += 1
        out[name] = {"total": len(records), "by_hops": dict(sorted(by_hops.items())),
                     "by_path": dict(sorted(by_path.items())),
                     "topics": len({r["topic"] for r in records})}
    return out


def template_meta(templates: Sequence[PathTemplates]) -> dict:
    return {p.name: {"relations": list(p.relations), "hops": p.hops, "topic_kind": p.topic_kind,
                     "train": dict(p.template_ids(False)), "heldout": dict(p.template_ids(True))}
            for p in templates}
