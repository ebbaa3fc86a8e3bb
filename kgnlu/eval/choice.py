"""Commonsense multiple choice answerable from WordNet: kgnlu's ``KGQA.choose`` beside two baselines.

The set (``kgnlu/eval/natural/choice.jsonl``) was written by hand before the scorer was tuned,
one question a line:

    {"id": "choice-001", "question": "We dug the ground to plant flowers. Which tool did we need?",
     "choices": ["a shovel", "an excavator"], "answer": "a shovel", "sense": "wn:04208210-n",
     "family": "tools", "split": "test"}

``sense`` is the synset the answer means here; ``split`` (dev or test) is a hash of the id
(:func:`kgnlu.eval.natural_qa.split_for`), fixed when the question was written: tune on dev,
score test once. choice-001 and choice-002 (issue 17's own shovel/excavator example) hash to test
but were in view while the sense behaviour was built (tests/qa/test_multiple_choice_data.py
asserts them): quote test accuracy with and without them. Methods (the registry :data:`METHODS`):

- ``kgnlu``: :meth:`KGQA.choose` (sense-aware gloss, graph and encoder evidence; no trained model);
- ``lesk``: gloss overlap with each choice's most frequent sense;
- ``minilm``: cosine between the question and the choice text with the packaged MiniLM.

Accuracy counts a tie among the top choices as 1/(number tied) when the answer is among them
(the expected accuracy of breaking ties at random), so a method that cannot tell gets chance, not
the credit of whichever choice was written first. ``sense_accuracy``: for methods that read a
choice as an entity, how often the answer choice was read as the annotated sense.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kgnlu.errors import QAError
from kgnlu.eval.natural_qa import SETS_DIR, SPLITS, split_for
from kgnlu.qa.answer import ChoiceResult
from kgnlu.registry import Registry

CHOICE_SET = SETS_DIR / "choice.jsonl"
REQUIRED = ("id", "question", "choices", "answer", "sense", "family")
MAX_CHOICES = 4


@dataclass(frozen=True)
class ChoiceQuestion:
    id: str
    question: str
    choices: tuple[str, ...]
    answer: str
    sense: str  # the answer's intended synset
    family: str  # tools, materials, places, ...
    split: str

    @property
    def answer_index(self) -> int:
        return self.choices.index(self.answer)


def read_choice_set(path: str | Path = CHOICE_SET, splits: Sequence[str] = SPLITS) -> list[ChoiceQuestion]:
    """The questions of ``splits``, validated: unique ids, 2-4 distinct choices, the answer among
    them, the stored split equal to the id's hash (a split edited by hand would leak test items)."""
    from kgnlu.io import iter_json_lines

    path = Path(path)
    if not path.is_file():
        raise QAError(f"{path}: no such multiple-choice set")
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise QAError(f"unknown split(s) {', '.join(unknown)}; choose from {', '.join(SPLITS)}")
    out, seen = [], set()
    for lineno, obj in iter_json_lines(path, "a JSON object per question"):
        where = f"{path}:{lineno}"
        missing = [k for k in REQUIRED if not obj.get(k)]
        if missing:
            raise QAError(f"{where}: missing {', '.join(missing)}")
        choices = obj["choices"]
        if not (isinstance(choices, list) and 2 <= len(choices) <= MAX_CHOICES
                and all(isinstance(c, str) and c.strip() for c in choices) and len(set(choices)) == len(choices)):
            raise QAError(f"{where}: choices must be 2 to {MAX_CHOICES} distinct non-empty strings")
        if obj["answer"] not in choices:
            raise QAError(f"{where}: the answer {obj['answer']!r} is not one of the choices")
        if obj["id"] in seen:
            raise QAError(f"{where}: duplicate id {obj['id']!r}")
        seen.add(obj["id"])
        split = split_for(obj["id"])
        if obj.get("split", split) != split:
            raise QAError(f"{where}: split {obj.get('split')!r} is not the id's split {split!r}; "
                          "splits are fixed by the id (kgnlu.eval.natural_qa.split_for)")
        if split in splits:
            out.append(ChoiceQuestion(obj["id"], obj["question"], tuple(choices), obj["answer"], obj["sense"],
                                      obj["family"], split))
    return out


# ---------------------------------------------------------------------------- methods
Chooser = Callable[[str, Sequence[str]], ChoiceResult]


class _Shared:
    """What several methods use, made once and only when asked for: the KGQA (graph, linker, MiniLM)."""

    def __init__(self, kg, qa=None):
        self.kg, self._qa = kg, qa

    @property
    def qa(self):
        if self._qa is None:
            from kgnlu.qa.api import KGQA

            self._qa = KGQA(self.kg)
        return self._qa


METHODS: Registry[Callable[[_Shared], Chooser]] = Registry("multiple-choice method")


@METHODS.register("kgnlu")
def _kgnlu(shared: _Shared) -> Chooser:
    return shared.qa.choose


@METHODS.register("lesk")
def _lesk(shared: _Shared) -> Chooser:
    from kgnlu.qa.choice_baselines import lesk_choose

    kg = shared.kg
    return lambda question, choices: lesk_choose(kg, question, choices)


@METHODS.register("minilm")
def _minilm(shared: _Shared) -> Chooser:
    from kgnlu.kg.linker.dense_index import TextEncoder
    from kgnlu.qa.choice_baselines import MiniLMChooser

    qa = shared.qa  # the packaged MiniLM KGQA loaded, not a second copy
    return MiniLMChooser(TextEncoder(qa.encoder, qa.tokenizer))


def choosers(kg, methods: Sequence[str] = tuple(METHODS), qa=None) -> dict[str, Chooser]:
    """Name → chooser. ``qa``: a KGQA over ``kg`` for ``kgnlu`` and ``minilm`` (default: ``KGQA(kg)``,
    no trained model; not loaded when only ``lesk`` is asked for)."""
    factories = {m: METHODS.get(m) for m in methods}  # unknown names fail before anything loads
    shared = _Shared(kg, qa)
    return {m: make(shared) for m, make in factories.items()}


# ---------------------------------------------------------------------------- evaluation
def credit(scores: Sequence[float], answer: int) -> float:
    """1/(number of top-scoring choices) when the answer is one of them, else 0."""
    top = max(scores)
    tied = [i for i, s in enumerate(scores) if s == top]
    return 1.0 / len(tied) if answer in tied else 0.0


def evaluate_choices(questions: Sequence[ChoiceQuestion], methods: dict[str, Chooser]) -> dict:
    """Per method: accuracy overall, per split and per (split, family); sense accuracy; each
    question's prediction (for reading the failures)."""
    report = {"questions": len(questions), "chance": _mean(1 / len(q.choices) for q in questions),
              "splits": {s: sum(q.split == s for q in questions) for s in SPLITS}, "methods": {}}
    for name, choose in methods.items():
        start = time.perf_counter()
        rows = []
        for q in questions:
            result = choose(q.question, list(q.choices))
            scores = [c.score for c in result.choices]
            read_as = result.choices[q.answer_index].entity
            best = max(range(len(scores)), key=lambda i: scores[i])
            rows.append({"id": q.id, "split": q.split, "family": q.family, "credit": credit(scores, q.answer_index),
                         "predicted": q.choices[best], "answer": q.answer,
                         "scores": [round(s, 4) for s in scores], "answer_read_as": read_as,
                         "sense_correct": None if read_as is None else read_as == q.sense,
                         "matched": result.choices[best].matched})
        report["methods"][name] = {"seconds": round(time.perf_counter() - start, 3), **_summary(rows),
                                   "predictions": rows}
    return report


def _summary(rows: list[dict]) -> dict:
    def acc(subset: list[dict]) -> dict:
        senses = [r["sense_correct"] for r in subset if r["sense_correct"] is not None]
        return {"n": len(subset), "accuracy": round(_mean(r["credit"] for r in subset), 4),
                "sense_accuracy": round(_mean(senses), 4) if senses else None}

    out = {"all": acc(rows), "splits": {}}
    for split in SPLITS:
        part = [r for r in rows if r["split"] == split]
        if part:
            families = sorted({r["family"] for r in part})
            out["splits"][split] = {**acc(part), "families": {f: acc([r for r in part if r["family"] == f])
                                                              for f in families}}
    return out


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def markdown_report(report: dict) -> str:
    methods = report["methods"]
    names = list(methods)
    splits = [s for s in SPLITS if report["splits"].get(s)]
    sizes = ", ".join(f"{report['splits'][s]} {s}" for s in splits)
    lines = ["# Commonsense multiple choice (WordNet)", "",
             f"{report['questions']} hand-written questions ({sizes}), "
             f"2-4 choices, chance {report['chance']:.3f}. A tie among the top choices earns 1/(number tied). "
             "Sense accuracy: how often the answer choice was read as the annotated synset. Written by "
             f"`kgnlu eval choice --graph {report.get('graph', 'GRAPH')} --out DIR`.", "",
             "| method | " + " | ".join(f"{s} accuracy" for s in splits) + " | "
             + " | ".join(f"{s} sense accuracy" for s in splits) + " | seconds |",
             "|---|" + "---|" * (2 * len(splits) + 1)]
    for name in names:
        m = methods[name]
        acc = [f"{m['splits'][s]['accuracy']:.3f}" for s in splits]
        sense = [m["splits"][s]["sense_accuracy"] for s in splits]
        lines.append(f"| {name} | " + " | ".join(acc) + " | "
                     + " | ".join("-" if x is None else f"{x:.3f}" for x in sense) + f" | {m['seconds']:.1f} |")
    for split in splits:
        families = sorted({f for m in methods.values() for f in m["splits"][split]["families"]})
        lines += ["", f"## {split}: accuracy per family", "", "| family | n | " + " | ".join(names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for f in families:
            cells = [methods[n]["splits"][split]["families"][f] for n in names]
            lines.append(f"| {f} | {cells[0]['n']} | " + " | ".join(f"{c['accuracy']:.2f}" for c in cells) + " |")
    return "\n".join(lines) + "\n"
