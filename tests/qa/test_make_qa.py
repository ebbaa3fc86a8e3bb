"""make-qa: answers equal a brute-force walk over the triples, splits disjoint by topic, paraphrase
templates held out, spans exact, deterministic output, and the CLI's files."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgnlu.cli import main
from kgnlu.qa.data.files import load_meta, load_split
from kgnlu.qa.data.generate import MakeQAConfig, generate_questions
from kgnlu.qa.data.templates import TEMPLATES, render
from tests.qa.wn_geo_graph import build_wn_geo_graph

CONFIG = dict(fractions=(0.4, 0.3, 0.3), seed=0)


@pytest.fixture(scope="module")
def kg(tmp_path_factory):
    return build_wn_geo_graph(tmp_path_factory.mktemp("qa") / "graph")


@pytest.fixture(scope="module")
def dataset(kg):
    return generate_questions(kg, MakeQAConfig(**CONFIG))


def brute_force_answers(triples: set[tuple[str, str, str]], topic: str, relations: list[str]) -> set[str]:
    frontier = {topic}
    for step in relations:
        if step.endswith("^-1"):
            name = step[:-3]
            frontier = {h for h, r, t in triples if r == name and t in frontier}
        else:
            frontier = {t for h, r, t in triples if r == step and h in frontier}
    return frontier - {topic}


def all_questions(dataset):
    return [q for records in dataset.splits.values() for q in records]


def test_answers_are_exactly_the_entities_reachable_by_the_path(kg, dataset):
    triples = kg.external_triples()
    questions = all_questions(dataset)
    assert {q["hops"] for q in questions} == {1, 2, 3}
    for q in questions:
        expected = brute_force_answers(triples, q["topic"], q["relations"])
        assert set(q["answers"]) == expected, q
        assert len(q["answers"]) == len(set(q["answers"])) and 1 <= len(q["answers"]) <= 20
        assert q["answer_labels"] == [kg.entity_label(kg.lookup(a)) for a in q["answers"]]
        assert q["hops"] == len(q["relations"])


def test_known_questions_and_the_topic_is_never_its_own_answer(dataset):
    by = {(q["topic_label"], tuple(q["relations"])): sorted(q["answer_labels"]) for q in all_questions(dataset)}
    assert by["dog", ("wnrel:hypernym", "wnrel:hypernym")] == ["carnivore"]
    assert by["cat", ("wnrel:hypernym", "wnrel:hyponym")] == ["lion"]
    assert by["France", ("gnrel:neighbour",)] == ["Germany", "Italy", "Spain"]
    assert by["Germany", ("gnrel:neighbour", "gnrel:neighbour")] == ["Italy", "Spain"]  # not Germany itself
    assert by["Rome", ("gnrel:capital^-1", "gnrel:neighbour", "gnrel:capital")] == ["Paris"]
    assert by["car", ("wnrel:part_meronym",)] == ["engine", "wheel"]


def test_ambiguous_labels_are_never_topics(dataset):
    # "bank" names two synsets and "Paris" two cities, half the prior each: no single reading.
    labels = {q["topic_label"] for q in all_questions(dataset)}
    assert "bank" not in labels and "Paris" not in labels
    assert dataset.meta["skipped"]["ambiguous topic label"] > 0


def test_max_answers_skips_large_answer_sets(kg):
    small = generate_questions(kg, MakeQAConfig(max_answers=2, **CONFIG))
    assert all(len(q["answers"]) <= 2 for q in all_questions(small))
    assert ("France", ("gnrel:neighbour",)) not in {(q["topic_label"], tuple(q["relations"])) for q in all_questions(small)}
    assert small.meta["skipped"]["too many answers"] > 0


def test_splits_are_disjoint_by_topic(dataset):
    topics = {name: {q["topic"] for q in records} for name, records in dataset.splits.items()}
    labels = {name: {q["topic_label"].lower() for q in records} for name, records in dataset.splits.items()}
    for a, b in [("train", "dev"), ("train", "test"), ("dev", "test")]:
        assert topics[a] and topics[b]
        assert not topics[a] & topics[b] and not labels[a] & labels[b]
    assert topics["paraphrase_test"] == topics["test"]


def test_paraphrase_test_uses_held_out_templates_only(dataset):
    train_ids = {q["template_id"] for q in dataset.splits["train"]}
    para_ids = {q["template_id"] for q in dataset.splits["paraphrase_test"]}
    assert para_ids and not para_ids & train_ids
    assert all("/p" in t for t in para_ids) and all("/t" in t for t in train_ids)
    train_texts = {t for p in TEMPLATES for t in p.train}
    assert not train_texts & {t for p in TEMPLATES for t in p.heldout}  # no wording is shared across paths either
    twins = {(q["topic"], tuple(q["relations"]), tuple(q["answers"])) for q in dataset.splits["test"]}
    assert {(q["topic"], tuple(q["relations"]), tuple(q["answers"])) for q in dataset.splits["paraphrase_test"]} == twins
    questions_in_train = {q["question"] for q in dataset.splits["train"]}
    assert not questions_in_train & {q["question"] for q in dataset.splits["paraphrase_test"]}


def test_topic_span_slices_the_question_to_the_label(dataset):
    for q in all_questions(dataset):
        start, end = q["topic_span"]
        assert q["question"][start:end] == q["topic_label"]


@given(label=st.text(min_size=1, max_size=40), index=st.integers(0, 10_000))
def test_render_span_is_exact_for_any_label(label, index):
    path = TEMPLATES[index % len(TEMPLATES)]
    texts = path.train + path.heldout
    question, (start, end) = render(texts[index % len(texts)], label)
    assert question[start:end] == label
    assert start > 0  # no template starts with the topic


def test_generation_is_deterministic_by_seed(kg, dataset):
    again = generate_questions(kg, MakeQAConfig(**CONFIG))
    assert again.splits == dataset.splits
    other = generate_questions(kg, MakeQAConfig(fractions=(0.4, 0.3, 0.3), seed=1))
    assert other.splits != dataset.splits


def test_cli_writes_splits_and_meta(kg, tmp_path, capsys):
    out = tmp_path / "qa"
    assert main(["data", "make-qa", str(kg.path), "--out", str(out), "--json", "--seed", "3"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    meta = load_meta(out)
    for split in ("train", "dev", "test", "paraphrase_test"):
        records = load_split(out, split)
        assert len(records) == meta["counts"][split]["total"] == summary["counts"][split]["total"]
        assert [r["id"] for r in records] == [f"{split}-{i:06d}" for i in range(len(records))]
    assert meta["graph"]["manifest_sha256"] == hashlib.sha256((kg.path / "manifest.json").read_bytes()).hexdigest()
    assert meta["config"]["seed"] == 3 and meta["templates"]["hypernym"]["heldout"]
    assert sorted(p.name for p in TEMPLATES) == sorted(meta["templates"])
    assert not list(tmp_path.glob(".qa.*"))  # the staging folder is gone
