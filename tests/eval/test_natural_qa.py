"""Hand-written QA sets (kgnlu.eval.natural_qa, scripts/natural_qa_gold.py, `kgnlu eval qa --set`):
validation, gold walked from the graph (sameAs twins of a gold answer count), the shipped sets'
snapshots against graphs built from the shipped Turtle (default_qa.jsonl against the default graph:
data), graph_for, evaluate_set and its report. The shipped sets are read through read_set only."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from kgnlu.cli import main
from kgnlu.errors import QAError
from kgnlu.eval import natural_qa
from kgnlu.eval.natural_qa import (
    SETS,
    SPLITS,
    evaluate_set,
    gold_answers,
    graph_for,
    load_examples,
    markdown_sets,
    read_set,
    set_path,
    split_for,
    with_twins,
)
from tests.qa.people_graph import EX, FACTS

REPO = Path(__file__).resolve().parents[2]


def line(**fields) -> str:
    base = {"id": "p-1", "question": "Where was Ada Lovelace born?", "topic_mention": "Ada Lovelace",
            "topic": EX + "AdaLovelace", "relations": [EX + "bornIn"], "split": "dev"}
    return json.dumps({**base, **fields})


def write_set(path: Path, *lines: str) -> Path:
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return path


PEOPLE_SET = [
    line(id="p-1"),
    line(id="p-2", question="Who was born in warsaw?", topic_mention="Warsaw", topic=EX + "Warsaw",
         relations=[EX + "bornIn^-1"], family="born"),
    line(id="p-3", question="Which country is London in?", topic_mention="London", topic=EX + "London",
         relations=[EX + "locatedIn"], split="test"),
    line(id="p-4", question="Which group is the country of London a member of?", topic_mention="London",
         topic=EX + "London", relations=[EX + "locatedIn", EX + "memberOf"]),  # through the UK = Britain twin
]


@pytest.mark.parametrize(("fields", "message"), [
    (dict(question=""), "missing question"),
    (dict(topic=None), "missing topic"),
    (dict(relations=[]), "missing relations"),
    (dict(relations=[EX + "bornIn"] * 4), "1 to 3"),
    (dict(relations=EX + "bornIn"), "1 to 3"),
    (dict(split="train"), "dev or test"),
    (dict(topic_mention="Babbage"), "not in the question"),
])
def test_read_set_names_the_line_of_a_bad_question(tmp_path, fields, message):
    path = write_set(tmp_path / "set.jsonl", line(id="ok"), line(**fields))
    with pytest.raises(QAError, match=f"set.jsonl:2: .*{message}"):
        read_set(path)


def test_read_set_refuses_duplicates_and_missing_files(tmp_path):
    with pytest.raises(QAError, match="duplicate id 'p-1'"):
        read_set(write_set(tmp_path / "set.jsonl", line(), line()))
    with pytest.raises(QAError, match="no such question set"):
        read_set(tmp_path / "nope.jsonl")
    with pytest.raises(QAError, match="known: default, software, university"):
        set_path("nope")


def test_questions_read_back_with_their_split_family_and_span(tmp_path):
    unsplit = json.dumps({k: v for k, v in json.loads(line(id="q-7")).items() if k != "split"})
    qs = read_set(write_set(tmp_path / "set.jsonl", *PEOPLE_SET, unsplit))
    assert [q.id for q in qs] == ["p-1", "p-2", "p-3", "p-4", "q-7"]
    assert qs[1].family == "born" and qs[0].family == EX + "bornIn"  # the path when no family is written
    assert qs[4].split == split_for("q-7") and split_for("q-7") in SPLITS
    start, end = qs[1].topic_span  # case-insensitive: "warsaw" in the question
    assert qs[1].question[start:end] == "warsaw"
    assert qs[2].relations == (EX + "locatedIn",) and qs[2].record["split"] == "test"


def test_split_for_is_a_fixed_function_of_the_id():
    splits = [split_for(f"x-{i}") for i in range(400)]
    assert splits == [split_for(f"x-{i}") for i in range(400)] and set(splits) == set(SPLITS)
    assert 0.4 < splits.count("dev") / len(splits) < 0.6
    assert split_for("x-1", dev_share=1.0) == "dev" and split_for("x-1", dev_share=0.0) == "test"


def brute(kg, topic: str, relations) -> set[str]:
    """The walk over the fixture's own fact list (no twins: gold is the path's own answers)."""
    frontier = {topic.removeprefix(EX)}
    for rel in relations:
        name, back = rel.removeprefix(EX).removesuffix("^-1"), rel.endswith("^-1")
        frontier = {(s if back else o) for s, p, o in FACTS if p == name and (o if back else s) in frontier}
    return {EX + e for e in frontier} - {topic}


def test_gold_is_walked_from_the_graph_and_twins_count(tmp_path, people_graph):
    kg = people_graph
    qs = read_set(write_set(tmp_path / "set.jsonl", *PEOPLE_SET))
    for q in qs[:3]:
        assert {kg.entity_id(a) for a in gold_answers(kg, q)} == brute(kg, q.topic, q.relations)
    assert gold_answers(kg, qs[3]).tolist() == []  # no twins while walking the gold path itself
    uk, britain = kg.index_of(EX + "UnitedKingdom"), kg.index_of(EX + "Britain")
    assert with_twins(kg, np.array([uk])).tolist() == sorted([uk, britain])
    assert with_twins(kg, np.zeros(0, dtype=np.int64)).tolist() == []
    dev = load_examples(tmp_path / "set.jsonl", kg, split="test")
    assert [(e.id, set(e.answers)) for e in dev] == [("p-3", {EX + "UnitedKingdom", EX + "Britain"})]
    assert dev[0].hops == 1 and dev[0].template_id == EX + "locatedIn"
    with pytest.raises(QAError, match="p-4 has no answer"):
        load_examples(tmp_path / "set.jsonl", kg)
    missing = read_set(write_set(tmp_path / "bad.jsonl", line(topic=EX + "Nobody")))
    with pytest.raises(QAError, match="not in graph"):
        gold_answers(kg, missing[0])


# ---------------------------------------------------------------------- the shipped sets
@pytest.fixture(scope="module")
def shipped_graphs(tmp_path_factory):
    """The shipped Turtle graphs, built the way graph_for builds them, under a throwaway home."""
    home = tmp_path_factory.mktemp("home")
    return {name: graph_for(name, home=home) for name in ("software", "university")}


@pytest.mark.parametrize("name", ["software", "university"])
def test_shipped_sets_validate_and_their_snapshots_equal_the_gold(shipped_graphs, name):
    from kgnlu.kg import KnowledgeGraph

    kg = KnowledgeGraph.load(shipped_graphs[name], verify=False)
    qs = read_set(name)
    assert len(qs) >= 100 and {q.split for q in qs} == set(SPLITS)
    assert len({q.id for q in qs}) == len(qs) and all(q.id.startswith(f"{name}-") for q in qs)
    for q in qs:
        snapshot = q.record["answers"]
        gold = {kg.entity_id(a) for a in gold_answers(kg, q).tolist()}
        assert set(snapshot) == gold and len(snapshot) == len(gold) > 0, q.id
        assert q.record["hops"] == len(q.relations), q.id
        labels = {kg.entity_id(a): kg.entity_label(a) for a in gold_answers(kg, q).tolist()}
        assert q.record["answer_labels"] == [labels[a] for a in snapshot], q.id


@pytest.mark.data
def test_the_default_set_snapshot_equals_the_gold_on_the_default_graph():
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import default_graph_path
    from kgnlu.kg.graph_files import graph_exists

    path = default_graph_path()
    if not graph_exists(path):
        pytest.skip(f"the default graph is not built at {path} (`make run` builds it)")
    kg = KnowledgeGraph.load(path, verify=False)
    qs = read_set("default")
    assert len(qs) >= 400 and {q.split for q in qs} == set(SPLITS)
    for q in qs:
        assert set(q.record["answers"]) == {kg.entity_id(a) for a in gold_answers(kg, q).tolist()}, q.id


def test_graph_for_builds_a_shipped_turtle_once(tmp_path, monkeypatch):
    first = graph_for("university", home=tmp_path)
    assert first == tmp_path / "graphs" / "university" and (first / "manifest.json").is_file()
    stamp = (first / "manifest.json").stat().st_mtime_ns
    assert graph_for("university", home=tmp_path) == first
    assert (first / "manifest.json").stat().st_mtime_ns == stamp  # not rebuilt while the file is unchanged
    monkeypatch.setenv("KGNLU_HOME", str(tmp_path / "empty"))
    with pytest.raises(QAError, match="make run"):
        graph_for("default")
    with pytest.raises(QAError, match="no hand-written QA set"):
        graph_for("nope", home=tmp_path)


# ---------------------------------------------------------------------- evaluation
@pytest.fixture(scope="module")
def people_qa(people_graph):
    from kgnlu.kg.linker import EntityLinker
    from kgnlu.qa import KGQA
    from tests.qa.bag_of_words import BagOfWordsEncoder, Vocabulary, WordTokenizer

    return KGQA.from_graph(people_graph, EntityLinker.from_graph(people_graph, mode="fast", save=False),
                           encoder=BagOfWordsEncoder(), tokenizer=WordTokenizer(Vocabulary()), report=lambda s: None)


def test_evaluate_set_scores_one_split_per_hop_and_family(tmp_path, people_qa):
    path = write_set(tmp_path / "set.jsonl", *PEOPLE_SET[:3])
    metrics = evaluate_set(people_qa, path, "dev")
    assert metrics["questions"] == 2 and metrics["hits@1"] == 1.0 and metrics["mrr"] == 1.0
    assert set(metrics["by_family"]) == {EX + "bornIn", "born"}
    assert [a["id"] for a in metrics["answers"]] == ["p-1", "p-2"] and all(a["correct"] for a in metrics["answers"])
    assert metrics["answers"][0]["top"][0] == "London"
    with pytest.raises(QAError, match="dev or test"):
        evaluate_set(people_qa, path, "train")
    md = markdown_sets({"people": {**metrics, "mode": "zero-shot", "split": "dev", "latency_ms": {"p50": 3.0}}})
    assert "| people | zero-shot | dev | all | 2 | 1.000 |" in md and "### people: per family" in md


def test_eval_qa_command_scores_a_hand_written_set(tmp_path, monkeypatch, people_qa, capsys):
    import kgnlu.qa.default as qa_default

    folder = tmp_path / "natural"
    folder.mkdir()
    write_set(folder / "people_qa.jsonl", *PEOPLE_SET[:3])
    monkeypatch.setattr(natural_qa, "SETS_DIR", folder)
    monkeypatch.setitem(SETS, "people", ("people_qa.jsonl", None))
    monkeypatch.setattr(natural_qa, "graph_for", lambda name, home=None: people_qa.kg.path)
    opened = []

    def open_qa(graph, model, zero_shot=False):
        opened.append((Path(graph), model, zero_shot))
        return people_qa

    monkeypatch.setattr(qa_default, "open_qa", open_qa)
    out = tmp_path / "report"
    args = ["eval", "qa", "--set", "people@zero-shot", "--natural-split", "test", "--out", str(out), "--json"]
    assert main(args) == 0
    assert opened == [(people_qa.kg.path, None, True)]
    report = json.loads((out / "qa.json").read_text())
    result = report["sets"]["people@zero-shot"]
    assert result["split"] == "test" and result["mode"] == "zero-shot" and result["questions"] == 1
    assert result["hits@1"] == 1.0 and 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p95"]
    assert "## Hand-written sets" in (out / "qa.md").read_text()
    assert (out / "qa_hits_by_hops.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["eval", "qa", "--set", f"people@{tmp_path / 'model'}", "--out", str(out)]) == 0
    assert opened[-1] == (people_qa.kg.path, tmp_path / "model", False)
    capsys.readouterr()
    assert main(["eval", "qa", "--set", "nope", "--out", str(out)]) == 2
    assert "known:" in capsys.readouterr().err


# ---------------------------------------------------------------------- scripts/natural_qa_gold.py
def gold_script():
    spec = importlib.util.spec_from_file_location("natural_qa_gold", REPO / "scripts" / "natural_qa_gold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gold_script_fills_the_snapshot_and_checks_without_writing(tmp_path, people_graph, capsys):
    script = gold_script()
    unsplit = json.dumps({k: v for k, v in json.loads(line(id="p-9")).items() if k != "split"})
    path = write_set(tmp_path / "set.jsonl", *PEOPLE_SET[:3], unsplit)
    before = path.read_text()
    assert script.main([str(path), "--graph", str(people_graph.path), "--check"]) == 0
    assert path.read_text() == before
    assert script.main([str(path), "--graph", str(people_graph.path)]) == 0
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["p-1", "p-2", "p-3", "p-9"]
    warsaw = rows[1]
    assert warsaw["hops"] == 1 and warsaw["answer_labels"] == sorted(warsaw["answer_labels"])
    assert set(warsaw["answers"]) == {EX + "MarieCurie", EX + "FredericChopin"}
    assert rows[3]["split"] == split_for("p-9")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["ok"] == summary["questions"] == 4 and summary["problems"] == 0


def test_gold_script_lists_problems_and_leaves_the_file_alone(tmp_path, people_graph, capsys):
    script = gold_script()
    path = write_set(tmp_path / "set.jsonl", *PEOPLE_SET)  # p-4 reaches nothing without twins
    before = path.read_text()
    assert script.main([str(path), "--graph", str(people_graph.path)]) == 2
    assert path.read_text() == before and "p-4: 0 answers" in capsys.readouterr().err
    assert script.main([str(path), "--graph", str(people_graph.path), "--max-answers", "1"]) == 2
    assert "p-2: 2 answers" in capsys.readouterr().err
