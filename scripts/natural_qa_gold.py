"""Fill the gold snapshot of a hand-written QA set from its graph, and check every question.

    python scripts/natural_qa_gold.py kgnlu/eval/natural/default_qa.jsonl --graph ~/.cache/kgnlu/graphs/default
    python scripts/natural_qa_gold.py SET.jsonl --graph DIR --check     # report only, write nothing

For each question: the topic must be in the graph, the path's relations too, and the path must
reach 1 to ``--max-answers`` entities. Written back (atomically, order kept): ``split`` (a hash
of the id when missing, then fixed), ``hops``, ``answers`` and ``answer_labels`` (sorted by label).
Problems are listed and the file is left alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from kgnlu.errors import KgnluError
    from kgnlu.eval.natural_qa import gold_answers, read_set
    from kgnlu.io import atomic_write
    from kgnlu.kg import KnowledgeGraph

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", type=Path)
    ap.add_argument("--graph", type=Path, required=True)
    ap.add_argument("--max-answers", type=int, default=500)
    ap.add_argument("--check", action="store_true", help="Report problems and counts; write nothing.")
    args = ap.parse_args(argv)
    kg = KnowledgeGraph.load(args.graph, verify=False)
    try:
        questions = read_set(args.set)
    except KgnluError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    problems, records = [], []
    for q in questions:
        try:
            answers = gold_answers(kg, q)
        except KgnluError as err:
            problems.append(f"{q.id}: {err}")
            continue
        if not 1 <= len(answers) <= args.max_answers:
            problems.append(f"{q.id}: {len(answers)} answers (want 1..{args.max_answers}): {q.question}")
            continue
        labels = sorted((kg.entity_label(a), kg.entity_id(a)) for a in answers.tolist())
        records.append({**q.record, "split": q.split, "hops": len(q.relations),
                        "answers": [e for _, e in labels], "answer_labels": [lb for lb, _ in labels]})
    for p in problems:
        print(p, file=sys.stderr)
    splits = Counter(r["split"] for r in records)
    hops = Counter(r["hops"] for r in records)
    families = Counter(r.get("family") or "/".join(r["relations"]) for r in records)
    print(json.dumps({"questions": len(questions), "ok": len(records), "problems": len(problems),
                      "splits": dict(splits), "hops": dict(sorted(hops.items())), "families": dict(families)}))
    if problems or args.check:
        return 2 if problems else 0
    with atomic_write(args.set) as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
