"""The multiple-choice evaluation: the set's loader, tie-aware accuracy, the per-split and
per-family report, and ``kgnlu eval choice`` (Lesk only: no MiniLM needed)."""

from __future__ import annotations

import json

import pytest

from kgnlu.errors import QAError, UnknownNameError
from kgnlu.eval.choice import (
    CHOICE_SET,
    ChoiceQuestion,
    choosers,
    credit,
    evaluate_choices,
    markdown_report,
    read_choice_set,
)
from kgnlu.eval.natural_qa import split_for
from kgnlu.qa.answer import ChoiceResult, ChoiceScore
from tests.qa.test_multiple_choice import SYNSETS, ChoiceFixtureSource


def record(i: int, **change) -> dict:
    qid = f"t-{i:03d}"
    out = {"id": qid, "question": "Who excavates for the foundations of buildings?",
           "choices": ["a shovel", "an excavator"], "answer": "an excavator", "sense": SYNSETS["excavator"][0],
           "family": "people" if i % 2 else "tools", "split": split_for(qid)}
    out.update(change)
    return out


def write_set(path, records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def test_the_packaged_set_is_valid_and_large_enough():
    questions = read_choice_set(CHOICE_SET)
    assert len(questions) >= 60 and {q.split for q in questions} == {"dev", "test"}
    assert len({q.family for q in questions}) >= 8
    assert all(2 <= len(q.choices) <= 4 and q.sense.startswith("wn:") for q in questions)
    # the answer is not always the first choice (else "pick the first" would score)
    assert len({q.answer_index for q in questions}) >= 2
    dev = read_choice_set(CHOICE_SET, ["dev"])
    assert dev and all(q.split == "dev" for q in dev)


@pytest.mark.parametrize(("change", "message"), [
    ({"answer": "a spade"}, "is not one of the choices"),
    ({"choices": ["a", "b", "c", "d", "e"], "answer": "a"}, "2 to 4 distinct"),
    ({"choices": ["a shovel", "a shovel"], "answer": "a shovel"}, "2 to 4 distinct"),
    ({"sense": ""}, "missing sense"),
    ({"split": "train"}, "is not the id's split"),
])
def test_a_malformed_question_names_the_line_and_the_fault(tmp_path, change, message):
    path = write_set(tmp_path / "set.jsonl", [record(1), record(2, **change)])
    with pytest.raises(QAError, match=rf"set.jsonl:2: .*{message}"):
        read_choice_set(path)


def test_loader_refuses_duplicates_unknown_splits_and_missing_files(tmp_path):
    with pytest.raises(QAError, match="duplicate id"):
        read_choice_set(write_set(tmp_path / "dup.jsonl", [record(1), record(1)]))
    with pytest.raises(QAError, match="unknown split"):
        read_choice_set(write_set(tmp_path / "ok.jsonl", [record(1)]), ["train"])
    with pytest.raises(QAError, match="no such"):
        read_choice_set(tmp_path / "absent.jsonl")


def test_a_tie_earns_the_expected_accuracy_of_a_random_pick():
    assert credit([0.7, 0.3], 0) == 1.0 and credit([0.7, 0.3], 1) == 0.0
    assert credit([0.5, 0.5], 1) == 0.5 and credit([0.4, 0.4, 0.2], 2) == 0.0
    assert credit([1 / 3] * 3, 0) == pytest.approx(1 / 3)


def fixed(best: int, entity: str | None = None):
    """A chooser that always puts ``best`` first and reads every choice as ``entity``."""
    def choose(question, choices):
        return ChoiceResult(question, [ChoiceScore(c, 0.9 if i == best else 0.1, entity, "")
                                       for i, c in enumerate(choices)])
    return choose


def test_report_has_accuracy_per_split_and_family_and_sense_accuracy():
    questions = [ChoiceQuestion(f"q{i}", "?", ("a", "b"), "b", "wn:1", fam, split)
                 for i, (fam, split) in enumerate([("tools", "dev"), ("tools", "dev"), ("food", "dev"), ("food", "test")])]
    report = evaluate_choices(questions, {"right": fixed(1, "wn:1"), "wrong": fixed(0, "wn:2"), "blind": fixed(-1)})
    right, wrong, blind = (report["methods"][m] for m in ("right", "wrong", "blind"))
    assert report["chance"] == 0.5 and report["splits"] == {"dev": 3, "test": 1}
    assert right["splits"]["dev"]["accuracy"] == 1.0 and wrong["all"]["accuracy"] == 0.0
    assert right["all"]["sense_accuracy"] == 1.0 and wrong["all"]["sense_accuracy"] == 0.0
    assert blind["all"]["sense_accuracy"] is None and blind["all"]["accuracy"] == 0.5  # every choice tied
    assert set(right["splits"]["dev"]["families"]) == {"tools", "food"}
    assert right["splits"]["test"]["families"]["food"]["n"] == 1
    assert wrong["predictions"][0]["predicted"] == "a"
    md = markdown_report(report)
    assert "| right | 1.000 | 1.000 | 1.000 | 1.000 |" in md and "## test: accuracy per family" in md
    assert "| blind | 0.500 | 0.500 | - | - |" in md


def test_unknown_method_is_named():
    with pytest.raises(UnknownNameError, match="minilm"):
        choosers(None, ["minilmm"])


def test_eval_choice_command_writes_json_and_markdown(tmp_path):
    from kgnlu.cli import main
    from kgnlu.kg.build import build_graph

    graph = build_graph([ChoiceFixtureSource()], tmp_path / "graph", store=False)
    questions = write_set(tmp_path / "set.jsonl", [record(i) for i in range(1, 7)])
    out = tmp_path / "report"
    assert main(["eval", "choice", "--graph", str(graph), "--questions", questions, "--method", "lesk",
                 "--out", str(out)]) == 0
    report = json.loads((out / "choice.json").read_text())
    lesk = report["methods"]["lesk"]
    assert report["questions"] == 6 and lesk["all"]["accuracy"] == 1.0  # "excavates", "foundations", "buildings"
    assert lesk["all"]["sense_accuracy"] == 1.0
    assert (out / "choice.md").read_text().startswith("# Commonsense multiple choice")
