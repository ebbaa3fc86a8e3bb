"""Hand-written QA sets: questions people wrote, gold answers walked from the graph.

A set is a JSON-lines file, one question a line, written by hand before anything was tuned on it:

    {"id": "default-0001", "question": "What is the capital of France?", "topic_mention": "France",
     "topic": "geonames:3017382", "relations": ["gnrel:capital"], "split": "test",
     "family": "geonames:capital", "answers": [...], "answer_labels": [...]}

``topic`` and ``relations`` (external ids, ``^-1`` walks a relation backwards, 1 to 3 steps) say
what the question asks; the gold answers are every entity the path reaches from the topic, the
topic itself excluded (MetaQA's convention), computed from the graph by :func:`gold_answers`.
``answers`` / ``answer_labels`` are a snapshot written by ``scripts/natural_qa_gold.py`` for
readers; evaluation recomputes them from the graph it runs on (:func:`load_examples`), and a data
test checks that the snapshot still matches the default graph. ``split`` is ``dev`` or ``test``,
fixed when the question was written: tune on dev, score test once per release.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgnlu.errors import QAError
from kgnlu.qa.dataset import QAExample

SETS_DIR = Path(__file__).with_name("natural")
SPLITS = ("dev", "test")
REQUIRED = ("id", "question", "topic_mention", "topic", "relations")
MAX_FRONTIER = 200_000  # gold is walked exhaustively: only absurd intermediate sets are refused


@dataclass(frozen=True)
class NaturalQuestion:
    id: str
    question: str
    topic_mention: str
    topic: str
    relations: tuple[str, ...]
    split: str
    family: str
    record: dict  # the line as written (snapshot fields included)

    @property
    def topic_span(self) -> tuple[int, int]:
        """Where ``topic_mention`` sits in the question (first case-insensitive occurrence)."""
        at = self.question.lower().find(self.topic_mention.lower())
        return at, at + len(self.topic_mention)


def split_for(question_id: str, dev_share: float = 0.5) -> str:
    """The split a question gets when it is written: a hash of its id, so it never moves."""
    u = int.from_bytes(hashlib.sha256(question_id.encode()).digest()[:8], "big") / 2**64
    return "dev" if u < dev_share else "test"


def read_set(path: str | Path) -> list[NaturalQuestion]:
    """Every question of a set file (or a shipped set by name), validated (ids unique, mention inside
    the question, 1-3 steps)."""
    if isinstance(path, str) and path in SETS:
        path = set_path(path)
    return _read_set(Path(path))


def _read_set(path: Path) -> list[NaturalQuestion]:
    from kgnlu.io import iter_json_lines

    if not path.is_file():
        raise QAError(f"{path}: no such question set")
    out, seen = [], set()
    for lineno, obj in iter_json_lines(path, "a JSON object per question"):
        where = f"{path}:{lineno}"
        missing = [k for k in REQUIRED if not obj.get(k)]
        if missing:
            raise QAError(f"{where}: missing {', '.join(missing)}")
        relations = obj["relations"]
        if not (isinstance(relations, list) and 1 <= len(relations) <= 3 and all(isinstance(r, str) for r in relations)):
            raise QAError(f"{where}: relations must be a list of 1 to 3 relation ids")
        split = obj.get("split") or split_for(obj["id"])
        if split not in SPLITS:
            raise QAError(f"{where}: split must be dev or test, got {split!r}")
        if obj["id"] in seen:
            raise QAError(f"{where}: duplicate id {obj['id']!r}")
        seen.add(obj["id"])
        q = NaturalQuestion(obj["id"], obj["question"], obj["topic_mention"], obj["topic"], tuple(relations),
                            split, obj.get("family") or "/".join(relations), obj)
        if q.topic_span[0] < 0:
            raise QAError(f"{where}: topic_mention {q.topic_mention!r} is not in the question")
        out.append(q)
    return out


def gold_answers(kg, question: NaturalQuestion) -> np.ndarray:
    """int64 [a]: the entities ``question.relations`` reaches from its topic, the topic excluded."""
    from kgnlu.qa.data.generate import answer_set
    from kgnlu.qa.paths import RelationPath

    topic = kg.index_of(question.topic)
    if topic < 0:
        raise QAError(f"question {question.id}: topic {question.topic} is not in graph {kg.name!r}")
    path = RelationPath.parse(list(question.relations), kg)
    answers = answer_set(kg, topic, path.steps, MAX_FRONTIER)
    if answers is None:
        raise QAError(f"question {question.id}: a step of its path reaches over {MAX_FRONTIER:,} entities")
    return answers


def with_twins(kg, answers: np.ndarray) -> np.ndarray:
    """``answers`` and their ``owl:sameAs`` twins: WordNet's France and GeoNames' France are one
    answer, whichever of the two a path reaches."""
    same_as = kg.relation_names.get("owl:sameAs")
    if same_as is None or not len(answers):
        return answers
    twins = [s.target if s.source == a else s.source for a in answers.tolist()
             for s in kg.walker.neighbors(a, "both", [same_as])]
    return np.unique(np.concatenate([answers, np.array(twins, dtype=np.int64)]))


def load_examples(path: str | Path, kg, split: str | None = None) -> list[QAExample]:
    """The set's questions (one split, or all) as QAExamples with gold walked on ``kg`` (sameAs twins
    of a gold answer count as gold); a question whose path reaches nothing raises QAError (a set
    must only hold answerable questions)."""
    out = []
    for q in read_set(path):
        if split is not None and q.split != split:
            continue
        answers = gold_answers(kg, q)
        if not len(answers):
            raise QAError(f"{path}: question {q.id} has no answer in graph {kg.name!r}")
        answers = with_twins(kg, answers)
        out.append(QAExample(id=q.id, question=q.question, topic=q.topic, topic_span=q.topic_span,
                             relations=q.relations, answers=tuple(kg.entity_id(a) for a in answers.tolist()),
                             hops=len(q.relations), template_id=q.family))
    return out


# ---------------------------------------------------------------------- the shipped sets
# name → (set file, the graph it is about: "default" is $KGNLU_HOME/graphs/default, else a shipped
# Turtle file under natural/graphs/ that `graph_for` builds once into $KGNLU_HOME/graphs/NAME)
SETS = {
    "default": ("default_qa.jsonl", None),
    "software": ("software_qa.jsonl", "graphs/software.ttl"),
    "university": ("university_qa.jsonl", "graphs/university.ttl"),
}


def set_path(name: str) -> Path:
    if name not in SETS:
        raise QAError(f"no hand-written QA set {name!r}; known: {', '.join(SETS)}")
    return SETS_DIR / SETS[name][0]


def graph_for(name: str, home: Path | None = None) -> Path:
    """The graph a shipped set is about: the default graph (built by `make run`), or the set's
    Turtle file built into ``$KGNLU_HOME/graphs/NAME`` (rebuilt when the file changed)."""
    from kgnlu.integrity import source_checksum as file_sha256  # "sha256:HEX", as manifests record
    from kgnlu.kg.build import build_graph, default_graph_path, kgnlu_home
    from kgnlu.kg.graph_files import graph_exists, read_manifest

    set_path(name)
    source = SETS[name][1]
    if source is None:
        path = default_graph_path()
        if not graph_exists(path):
            raise QAError(f"the default graph is not built at {path}; run `make run` or "
                          "`kgnlu graph build wordnet geonames:15000 --out ...`")
        return path
    ttl = SETS_DIR / source
    out = Path(home or kgnlu_home()) / "graphs" / name
    if graph_exists(out):
        recorded = {s.get("checksum") for s in read_manifest(out).get("sources", [])}
        if file_sha256(ttl) in recorded:
            return out
    build_graph([str(ttl)], out, force=True, name=name)
    return out


def evaluate_set(qa, path: str | Path, split: str, k: int = 5) -> dict:
    """hits@1/hits@5/MRR of ``qa`` on one split of a set, overall, per hop and per family, with
    each question's top answers (for reading the errors)."""
    from kgnlu.eval.qa import qa_metrics
    from kgnlu.qa.evaluate import gold_records

    if split not in SPLITS:
        raise QAError(f"split must be dev or test, got {split!r}")
    examples = load_examples(path, qa.kg, split=split)
    results = qa.answer_batch([ex.question for ex in examples], k)
    predictions = [{"id": ex.id, "answers": [a.entity for a in res]} for ex, res in zip(examples, results, strict=True)]
    metrics = qa_metrics(predictions, gold_records(examples))
    families: dict[str, list[bool]] = {}
    for ex, pred in zip(examples, predictions, strict=True):
        families.setdefault(ex.template_id, []).append(bool(pred["answers"]) and pred["answers"][0] in ex.answers)
    metrics["by_family"] = {f: {"questions": len(h), "hits@1": sum(h) / len(h)} for f, h in sorted(families.items())}
    metrics["answers"] = [{"id": ex.id, "question": ex.question, "top": [a.label for a in res][:3],
                           "correct": bool(pred["answers"]) and pred["answers"][0] in ex.answers}
                          for ex, res, pred in zip(examples, results, predictions, strict=True)]
    return metrics


def markdown_sets(results: dict) -> str:
    """The hand-written sets' results: one row per set and hop count, then per family."""
    lines = ["## Hand-written sets", "", "| set | mode | split | hops | questions | hits@1 | hits@5 | MRR | p50 ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, m in results.items():
        for hop, row in [("all", m), *m["by_hops"].items()]:
            lines.append(f"| {name} | {m['mode']} | {m['split']} | {hop} | {row['questions']} | {row['hits@1']:.3f} "
                         f"| {row['hits@5']:.3f} | {row['mrr']:.3f} | {m['latency_ms']['p50'] if hop == 'all' else ''} |")
    for name, m in results.items():
        lines += ["", f"### {name}: per family", "", "| family | questions | hits@1 |", "|---|---|---|"]
        lines += [f"| {f} | {row['questions']} | {row['hits@1']:.3f} |" for f, row in m["by_family"].items()]
    return "\n".join(lines) + "\n"
