"""Reading the QA data sets ``kgnlu data make-qa`` writes: ``DIR/{train,dev,test,paraphrase_test}.jsonl``.

One question a line: ``{"id", "question", "topic", "topic_label", "topic_span": [start, end],
"hops", "relations", "template_id", "answers", "answer_labels"}`` (external ids; ``^-1`` marks an
inverse step). Questions are data: they are only ever tokenised, never pasted into a query.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kgnlu.errors import QAError

SPLITS = ("train", "dev", "test", "paraphrase_test")
REQUIRED = ("question", "topic", "topic_span", "relations", "answers")


@dataclass(frozen=True)
class QAExample:
    id: str
    question: str
    topic: str
    topic_span: tuple[int, int]
    relations: tuple[str, ...]
    answers: tuple[str, ...]
    hops: int
    template_id: str = ""

    @classmethod
    def from_json(cls, obj: dict, where: str) -> QAExample:
        missing = [k for k in REQUIRED if k not in obj]
        if missing:
            raise QAError(f"{where}: missing {', '.join(missing)}; regenerate with `kgnlu data make-qa`")
        span = obj["topic_span"]
        if not (isinstance(span, list | tuple) and len(span) == 2
                and 0 <= int(span[0]) < int(span[1]) <= len(obj["question"])):
            raise QAError(f"{where}: topic_span {span!r} is not a [start, end) range inside the question")
        relations = tuple(obj["relations"])
        return cls(id=str(obj.get("id", where)), question=obj["question"], topic=obj["topic"],
                   topic_span=(int(span[0]), int(span[1])), relations=relations,
                   answers=tuple(obj["answers"]), hops=int(obj.get("hops", len(relations))),
                   template_id=str(obj.get("template_id", "")))


def read_split(path: str | Path) -> list[QAExample]:
    path = Path(path)
    if not path.is_file():
        raise QAError(f"{path} does not exist; generate QA data with `kgnlu data make-qa GRAPH --out {path.parent}`")
    return list(iter_jsonl(path))


def iter_jsonl(path: Path) -> Iterator[QAExample]:
    from kgnlu.io import iter_json_lines

    for lineno, obj in iter_json_lines(path, "a JSON object per question (kgnlu data make-qa's format)"):
        yield QAExample.from_json(obj, f"{path}:{lineno}")


def sample_evenly(examples: list[QAExample], limit: int, seed: int = 0) -> list[QAExample]:
    """At most ``limit`` examples, spread evenly over (template, hops) so rare templates stay."""
    if len(examples) <= limit:
        return list(examples)
    groups: dict[tuple[str, int], list[QAExample]] = defaultdict(list)
    for ex in examples:
        groups[(ex.template_id, ex.hops)].append(ex)
    rng = random.Random(seed)
    for items in groups.values():
        rng.shuffle(items)
    out: list[QAExample] = []
    queues = [groups[k] for k in sorted(groups)]
    while len(out) < limit:
        progressed = False
        for queue in queues:
            if queue and len(out) < limit:
                out.append(queue.pop())
                progressed = True
        if not progressed:
            break
    return out
