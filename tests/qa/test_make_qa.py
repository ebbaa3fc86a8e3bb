"""make-qa on any graph: the paths asked about come from the graph's catalog, answers equal a
brute-force walk over the triples (sameAs twins joining intermediate steps), splits are disjoint by
topic, paraphrase_dev twins the dev questions in held-out wordings, kgnlu's templates only add
wording, spans are exact, output is deterministic, and the CLI writes the files."""

from __future__ import annotations

import hashlib
import json

import pytest

from kgnlu.cli import main
from kgnlu.errors import ConfigError, QAError
from kgnlu.qa.data.files import load_meta, load_split
from kgnlu.qa.data.generate import HOP_SHARE, MakeQAConfig, generate_questions
from kgnlu.qa.data.templates import TEMPLATES
from kgnlu.qa.data.wording import render
from kgnlu.qa.graph_profile import GraphProfile
from tests.qa.people_graph import EX
from tests.qa.test_path_catalog import brute_walk

CONFIG = dict(fractions=(0.4, 0.3, 0.3), seed=0)
SPLITS = ("train", "dev", "test", "paraphrase_dev")


@pytest.fixture(scope="module")
def kg(wn_geo_graph):
    return wn_geo_graph


@pytest.fixture(scope="module")
def dataset(kg):
    return generate_questions(kg, MakeQAConfig(**CONFIG))


@pytest.fixture(scope="module")
def people_dataset(people_graph):
    return generate_questions(people_graph, MakeQAConfig(**CONFIG))


def brute_force_answers(triples: set[tuple[str, str, str]], topic: str, relations: list[str]) -> set[str]:
    frontier = {topic}
    for step in relations:
        if step.endswith("^-1"):
            name = step[:-3]
            frontier = {h for h, r, t in triples if r == name and t in frontier}
        else:
            frontier = {t for h, r, t in triples if r == step and h in frontier}
    return frontier - {topic}


def all_questions(dataset, splits=SPLITS):
    return [q for name in splits for q in dataset.splits[name]]


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


def test_the_paths_are_the_graphs_catalog(kg, dataset):
    from kgnlu.qa.path_catalog import CatalogConfig, path_catalog

    catalog = {s.path.key(kg) for s in path_catalog(kg, CatalogConfig(max_answers=20, max_two_hop=1000,
                                                                          max_three_hop=400))}
    asked = {"/".join(q["relations"]) for q in all_questions(dataset)}
    assert asked <= catalog and dataset.meta["paths"] == len(catalog)
    assert set(dataset.meta["wordings"]) <= catalog
    profile = GraphProfile(kg)
    assert not any(profile.redundant(2 * kg.relation_index(r.removesuffix("^-1")) + r.endswith("^-1"))
                   for q in all_questions(dataset) for r in q["relations"])  # part_holonym^-1 is part_meronym


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


def test_per_path_caps_each_paths_questions(kg):
    capped = generate_questions(kg, MakeQAConfig(per_path=1, **CONFIG))
    per_path: dict[str, int] = {}
    for q in all_questions(capped, ("train", "dev", "test")):
        key = "/".join(q["relations"])
        per_path[key] = per_path.get(key, 0) + 1
    assert per_path and all(n <= max(1, int(HOP_SHARE[key.count("/") + 1])) for key, n in per_path.items())
    assert max(per_path.values()) == int(HOP_SHARE[1])


def test_splits_are_disjoint_by_topic_and_paraphrase_dev_twins_dev(dataset):
    topics = {name: {q["topic"] for q in records} for name, records in dataset.splits.items()}
    labels = {name: {q["topic_label"].lower() for q in records} for name, records in dataset.splits.items()}
    for a, b in [("train", "dev"), ("train", "test"), ("dev", "test")]:
        assert topics[a] and topics[b]
        assert not topics[a] & topics[b] and not labels[a] & labels[b]
    twins = sorted((q["topic"], tuple(q["relations"]), tuple(q["answers"])) for q in dataset.splits["dev"])
    assert sorted((q["topic"], tuple(q["relations"]), tuple(q["answers"]))
                  for q in dataset.splits["paraphrase_dev"]) == twins


def test_paraphrase_dev_uses_held_out_wordings_only(dataset):
    wordings = dataset.meta["wordings"]
    for name in SPLITS:
        for q in dataset.splits[name]:
            path, _, tag = q["template_id"].rpartition("/")
            side = "heldout" if name == "paraphrase_dev" else "train"
            assert tag[0] == ("h" if side == "heldout" else "w") and q["template_id"] in wordings[path][side], q
            assert render(wordings[path][side][q["template_id"]], q["topic_label"])[0] == q["question"]
    train_questions = {q["question"] for q in dataset.splits["train"]}
    assert not train_questions & {q["question"] for q in dataset.splits["paraphrase_dev"]}
    dev = {(q["topic"], tuple(q["relations"])): q["question"] for q in dataset.splits["dev"]}
    assert all(dev[q["topic"], tuple(q["relations"])] != q["question"] for q in dataset.splits["paraphrase_dev"])


def test_templates_only_add_wording(kg, dataset):
    hypernym = dataset.meta["wordings"]["wnrel:hypernym"]
    template = next(t for t in TEMPLATES if t.relations == ("wnrel:hypernym",))
    assert {t.replace("{topic}", "{x}") for t in template.train} <= set(hypernym["train"].values())
    assert {t.replace("{topic}", "{x}") for t in template.heldout} <= set(hypernym["heldout"].values())
    plain = generate_questions(kg, MakeQAConfig(templates=False, **CONFIG))
    assert plain.meta["paths"] == dataset.meta["paths"]
    assert {"/".join(q["relations"]) for q in all_questions(plain)} == \
        {"/".join(q["relations"]) for q in all_questions(dataset)}
    texts = set(plain.meta["wordings"]["wnrel:hypernym"]["train"].values())
    assert not {t.replace("{topic}", "{x}") for t in template.train} <= texts


def test_topic_span_slices_the_question_to_the_label(dataset, people_dataset):
    for q in all_questions(dataset) + all_questions(people_dataset):
        start, end = q["topic_span"]
        assert q["question"][start:end] == q["topic_label"]


def test_generation_is_deterministic_by_seed(kg, dataset):
    again = generate_questions(kg, MakeQAConfig(**CONFIG))
    assert again.splits == dataset.splits
    other = generate_questions(kg, MakeQAConfig(fractions=(0.4, 0.3, 0.3), seed=1))
    assert other.splits != dataset.splits


def test_any_rdf_graph_gets_questions_in_its_own_words(people_graph, people_dataset):
    kg = people_graph
    questions = all_questions(people_dataset)
    assert {q["hops"] for q in questions} == {1, 2, 3}
    triples = {tuple(int(x) for x in t) for t in kg.triples}
    same_as = kg.relation_index("owl:sameAs")
    profile = GraphProfile(kg)
    for q in questions:
        topic = kg.index_of(q["topic"])
        symbols = [2 * kg.relation_index(r.removesuffix("^-1")) + r.endswith("^-1") for r in q["relations"]]
        expected = brute_walk(triples, topic, symbols, same_as, len(symbols) - 1) - {topic}
        assert {kg.index_of(a) for a in q["answers"]} == expected, q
        assert not profile.is_schema(topic)  # classes and predicates are never what a question is about
        assert "owl:sameAs" not in q["relations"]
    labels = {q["topic_label"] for q in questions}
    assert {"Ada Lovelace", "Marie Curie"} & labels  # named from their IRIs
    born = [q["question"] for q in questions if q["relations"] == [EX + "bornIn"]]
    assert born and all("born" in text for text in born)
    assert people_dataset.meta["warnings"] == []


def test_a_relation_without_words_is_named_in_the_warnings(tmp_path, capsys):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    names = "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima".split()
    ttl = "".join(f"<http://ex.org/{a}> <http://ex.org/rel/42> <http://ex.org/{b}> .\n" for a, b in zip(names[:-1], names[1:], strict=True))
    ttl += "".join(f"<http://ex.org/{a}> <http://ex.org/next> <http://ex.org/{b}> .\n" for a, b in zip(names[:-1], names[1:], strict=True))
    (tmp_path / "g.ttl").write_text(ttl, encoding="utf-8")
    kg = KnowledgeGraph.load(build_graph([str(tmp_path / "g.ttl")], tmp_path / "graph", store=False))
    ds = generate_questions(kg, MakeQAConfig(**CONFIG))
    (warning,) = ds.meta["warnings"]
    assert "http://ex.org/rel/42" in warning and "rdfs:label" in warning
    assert ds.splits["train"]
    assert main(["data", "make-qa", str(kg.path), "--out", str(tmp_path / "qa")]) == 0
    assert f"warning: {warning}" in capsys.readouterr().err  # not fatal: said, and the data is written


def test_a_graph_without_a_usable_question_is_a_clear_error(tmp_path):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    ttl = ('<http://ex.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "same" .\n'
           '<http://ex.org/b> <http://www.w3.org/2000/01/rdf-schema#label> "same" .\n'
           "<http://ex.org/a> <http://ex.org/knows> <http://ex.org/b> .\n"
           "<http://ex.org/b> <http://ex.org/knows> <http://ex.org/a> .\n")
    (tmp_path / "g.ttl").write_text(ttl, encoding="utf-8")
    kg = KnowledgeGraph.load(build_graph([str(tmp_path / "g.ttl")], tmp_path / "graph", store=False))
    with pytest.raises(QAError, match="no question could be generated"):
        generate_questions(kg, MakeQAConfig(**CONFIG))


@pytest.mark.parametrize("bad", [dict(per_path=0), dict(max_questions=0), dict(max_answers=0), dict(min_prior=0.0),
                                 dict(min_prior=1.5), dict(max_hops=4), dict(fractions=(0.5, 0.5, 0.5))])
def test_config_is_validated(bad):
    with pytest.raises(ConfigError):
        MakeQAConfig(**bad)


def test_cli_writes_splits_and_meta(kg, tmp_path, capsys):
    out = tmp_path / "qa"
    assert main(["data", "make-qa", str(kg.path), "--out", str(out), "--json", "--seed", "3"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    meta = load_meta(out)
    for split in SPLITS:
        records = load_split(out, split)
        assert len(records) == meta["counts"][split]["total"] == summary["counts"][split]["total"]
        assert [r["id"] for r in records] == [f"{split}-{i:06d}" for i in range(len(records))]
    assert meta["graph"]["manifest_sha256"] == hashlib.sha256((kg.path / "manifest.json").read_bytes()).hexdigest()
    assert meta["config"]["seed"] == 3 and summary["paths"] == meta["paths"] > 0
    assert meta["wordings"]["wnrel:hypernym"]["heldout"] and summary["warnings"] == meta["warnings"] == []
    assert not list(tmp_path.glob(".qa.*"))  # the staging folder is gone


def test_cli_options_reach_the_generator(kg, tmp_path, capsys):
    out = tmp_path / "qa"
    args = ["data", "make-qa", str(kg.path), "--out", str(out), "--max-hops", "1", "--no-templates",
            "--per-path", "2", "--max-questions", "500"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "| split | questions | 1-hop | 2-hop | 3-hop | topics |" in text and "relation paths" in text
    meta = load_meta(out)
    assert meta["config"]["max_hops"] == 1 and not meta["config"]["templates"]
    assert (meta["config"]["per_path"], meta["config"]["max_questions"]) == (2, 500)
    assert {r["hops"] for split in SPLITS for r in load_split(out, split)} == {1}
