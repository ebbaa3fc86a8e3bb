"""Reading the QA data sets ``kgnlu data make-qa`` writes: ``DIR/{train,dev,test,paraphrase_dev}.jsonl``.

One question a line: ``{"id", "question", "topic", "topic_label", "topic_span": [start, end],
"hops", "relations", "template_id", "answers", "answer_labels"}`` (external ids; ``^-1`` marks an
inverse step). Questions are data: they are only ever tokenised, never pasted into a query.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kgnlu.errors import QAError

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
    """A split file's questions as :class:`QAExample` (read by :func:`kgnlu.qa.data.files.split_lines`)."""
    from kgnlu.qa.data.files import split_lines

    return [QAExample.from_json(obj, f"{path}:{lineno}") for lineno, obj in split_lines(path)]


# how a sample of training questions spreads over path lengths: most questions people ask take one
# step; three-step paths are many (every chain the graph has) but each is asked rarely
HOP_SHARES = {1: 0.5, 2: 0.3, 3: 0.2}


def sample_evenly(examples: list, limit: int, seed: int = 0) -> list:
    """At most ``limit`` examples: shared over path lengths by :data:`HOP_SHARES` (a length with
    fewer questions passes its unused share on), evenly over relation paths within a length, and
    evenly over wordings (template ids) within a path, so rare paths and wordings stay. Deterministic
    for a seed. ``examples``: :class:`QAExample` objects or make-qa records (dicts) — a split's file
    runs path by path, so its first ``limit`` lines would be one or a few relation paths."""
    if len(examples) <= limit:
        return list(examples)
    rng = random.Random(seed)
    tree: dict[int, dict[tuple[str, ...], dict[str, list[QAExample]]]] = defaultdict(lambda: defaultdict(dict))
    for ex in examples:
        hops, relations, template = _strata(ex)
        tree[hops][relations].setdefault(template, []).append(ex)
    queues: dict[int, list[list[list[QAExample]]]] = {}
    for hop, paths in tree.items():
        queues[hop] = []
        for path in sorted(paths):
            groups = [paths[path][t] for t in sorted(paths[path])]
            for g in groups:
                rng.shuffle(g)
            queues[hop].append(groups)
    sizes = {hop: sum(len(g) for groups in qs for g in groups) for hop, qs in queues.items()}
    budget, left = {}, limit
    for hop in sorted(sizes, key=lambda h: sizes[h]):  # smallest first: its unused share moves on
        weight = sum(HOP_SHARES.get(h, 0.1) for h in sizes if h not in budget)
        budget[hop] = min(sizes[hop], round(left * HOP_SHARES.get(hop, 0.1) / weight))
        left -= budget[hop]
    out: list[QAExample] = []
    for hop in sorted(queues):
        out += _round_robin(queues[hop], budget[hop])
    return out


def _strata(ex) -> tuple[int, tuple[str, ...], str]:
    """(hops, relation path, template id) of a :class:`QAExample` or a make-qa record."""
    if isinstance(ex, dict):
        relations = tuple(ex.get("relations") or ())
        return int(ex.get("hops", len(relations))), relations, str(ex.get("template_id", ""))
    return ex.hops, ex.relations, ex.template_id


def _round_robin(paths: list[list[list[QAExample]]], limit: int) -> list[QAExample]:
    """Up to ``limit`` examples: one path at a time, each path cycling through its wordings."""
    out: list[QAExample] = []
    turn = [0] * len(paths)
    while len(out) < limit:
        progressed = False
        for i, groups in enumerate(paths):
            if len(out) >= limit:
                break
            for _ in range(len(groups)):  # this path's next wording that still has examples
                g = groups[turn[i] % len(groups)]
                turn[i] += 1
                if g:
                    out.append(g.pop())
                    progressed = True
                    break
        if not progressed:
            break
    return out
