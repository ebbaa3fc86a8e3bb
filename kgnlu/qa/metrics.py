"""KGQA metrics: hits@1, hits@5 and MRR over ranked answers, overall, per hop and per relation path.

They live in the qa layer so QA training and evaluation can score themselves without importing
kgnlu.eval (docs/architecture.md); :mod:`kgnlu.eval.qa` re-exports them with its reports.

    report = qa_metrics(predictions, gold)     # gold: question records of a make-qa split
    report["hits@1"], report["by_hops"]["2"]["mrr"], report["by_path"]["gnrel:capital"]["hits@5"]

``predictions`` maps each question to its ranked answers (best first): a dict id → list, or a
list of ``{"id" | "question", "answers": [...]}`` objects — the ``kgnlu qa --json`` output — whose
answers are entity ids or ``{"entity": ...}`` objects. A gold question without a prediction
counts as wrong (rank ∞). hits@k = share of questions with a gold answer among the top k; MRR =
mean of 1 / rank of the first gold answer (0 when none is ranked). Filtering is not needed: every
gold answer counts as correct, as in MetaQA.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from kgnlu.errors import QAError

KS = (1, 5)


def _entity(answer) -> str:
    if isinstance(answer, str):
        return answer
    if isinstance(answer, Mapping) and isinstance(answer.get("entity"), str):
        return answer["entity"]
    if hasattr(answer, "entity"):
        return str(answer.entity)
    raise QAError(f"an answer must be an entity id or an object with an 'entity' field, got {answer!r}")


def ranked_answers(predictions, gold: Sequence[Mapping]) -> list[list[str] | None]:
    """Each gold question's ranked entity ids (None when nothing was predicted for it), matched by
    id, else by question text."""
    by_id: dict[str, list[str]] = {}
    by_text: dict[str, list[str]] = {}
    items: Iterable = predictions.items() if isinstance(predictions, Mapping) else predictions
    for item in items:
        if isinstance(item, tuple):
            key, answers = item
            by_id[str(key)] = [_entity(a) for a in answers]
            continue
        if not isinstance(item, Mapping) or "answers" not in item:
            raise QAError(f'a prediction must be an object with "answers" (and "id" or "question"), got {item!r}')
        answers = [_entity(a) for a in item["answers"]]
        if item.get("id") is not None:
            by_id[str(item["id"])] = answers
        if item.get("question") is not None:
            by_text[item["question"]] = answers
    return [by_id.get(str(q.get("id")), by_text.get(q["question"])) for q in gold]


def rank_of_first_hit(ranked: Sequence[str] | None, answers: Iterable[str]) -> int | None:
    """1-based rank of the first gold answer in ``ranked``; None when none is there."""
    gold = set(answers)
    for i, entity in enumerate(ranked or (), start=1):
        if entity in gold:
            return i
    return None


def _summary(ranks: list[int | None]) -> dict:
    n = len(ranks)
    out = {"questions": n}
    for k in KS:
        out[f"hits@{k}"] = sum(r is not None and r <= k for r in ranks) / n if n else 0.0
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n if n else 0.0
    return out


def path_key(question: Mapping) -> str:
    """A question's relation path as text: ``gnrel:country/gnrel:capital``."""
    return "/".join(question["relations"])


def qa_metrics(predictions, gold: Sequence[Mapping]) -> dict:
    """``{"hits@1", "hits@5", "mrr", "questions", "predicted", "by_hops": {"1": {...}},
    "by_path": {"wnrel:hypernym": {...}}}`` over the ``gold`` questions."""
    if not gold:
        raise QAError("qa_metrics needs at least one gold question")
    ranked = ranked_answers(predictions, gold)
    ranks = [rank_of_first_hit(r, q["answers"]) for r, q in zip(ranked, gold, strict=True)]
    hops: dict[str, list[int | None]] = defaultdict(list)
    paths: dict[str, list[int | None]] = defaultdict(list)
    for q, rank in zip(gold, ranks, strict=True):
        hops[str(q["hops"])].append(rank)
        paths[path_key(q)].append(rank)
    return {**_summary(ranks), "predicted": sum(r is not None for r in ranked),
            "by_hops": {h: _summary(hops[h]) for h in sorted(hops)},
            "by_path": {p: _summary(paths[p]) for p in sorted(paths)}}
