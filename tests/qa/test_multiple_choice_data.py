"""Multiple choice on real WordNet with the packaged MiniLM: the seed's shovel/excavator pair rests
on the tool senses, the set's annotated senses exist, and the three methods run end to end.

Uses the default graph when it is built (``kgnlu graph build wordnet geonames:15000 --out
~/.cache/kgnlu/graphs/default``), else builds a WordNet-only graph (~20 s)."""

from __future__ import annotations

import pytest

from kgnlu.eval.choice import CHOICE_SET, choosers, evaluate_choices, read_choice_set
from tests.conftest import require_wordnet

pytestmark = pytest.mark.data

SHOVEL = "wn:04208210-n"  # a hand tool for lifting loose material
POWER_SHOVEL = "wn:03996416-n"  # {power shovel, excavator, digger, shovel}: a machine for excavating
WORKMAN = "wn:09617292-n"  # excavator: a workman who excavates for foundations of buildings
DIBBLE = "wn:03190458-n"  # a hand tool ... to make holes in the ground for planting seeds


@pytest.fixture(scope="module")
def wordnet_qa(tmp_path_factory):
    require_wordnet()
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph, default_graph_path
    from kgnlu.qa.api import KGQA

    path = default_graph_path()
    if not (path / "manifest.json").is_file():
        path = build_graph(["wordnet"], tmp_path_factory.mktemp("wn") / "wn", store=False)
    return KGQA(KnowledgeGraph.load(path, verify=False))  # the packaged MiniLM comes with `make setup`


def starts_at(path, entity: str) -> bool:
    first = path.triples[0]
    return (first.head if first.forward else first.tail) == entity


@pytest.mark.parametrize(("purpose", "answer", "sense"), [
    pytest.param("to plant flowers", "a shovel", SHOVEL, marks=pytest.mark.xfail(strict=True, reason=(
        "since the linker tags parts of speech (issue 18), 'dug' links to the verb dig instead of the "
        "noun dug (an udder), and WordNet's derivation dig -> digger (power shovel) now outweighs the "
        "shovel's gloss: 0.82 excavator / 0.18 shovel. The item is in choice.jsonl's test split, so the "
        "chooser is not retuned on it; strict: a fix makes this test fail until the mark is removed"))),
    ("to lay the foundations of a house", "an excavator", POWER_SHOVEL),
])
def test_the_seed_example_rests_on_the_tool_senses(wordnet_qa, purpose, answer, sense):
    result = wordnet_qa.choose(f"We dug the ground {purpose}. Which tool did we need?", ["a shovel", "an excavator"])
    best = result.best
    assert best.choice == answer and best.entity == sense
    assert [c.entity for c in result.choices] == [SHOVEL, POWER_SHOVEL]  # both read as tools, whichever wins
    assert best.evidence and all(starts_at(p, sense) for p in best.evidence)
    used = {x for c in result.choices for p in c.evidence for t in p.triples for x in (t.head, t.tail)}
    assert WORKMAN not in used and DIBBLE not in used


def test_every_annotated_sense_is_a_sense_of_its_answer(wordnet_qa):
    from kgnlu.qa.choice_senses import read_senses

    kg, index = wordnet_qa.kg, wordnet_qa.linker.index
    for q in read_choice_set(CHOICE_SET):
        senses = {kg.entity_id(s.entity) for s in read_senses(kg, index, q.answer)}
        assert q.sense in senses, (q.id, q.answer, q.sense)


def test_all_methods_run_on_a_few_dev_questions(wordnet_qa):
    questions = read_choice_set(CHOICE_SET, ["dev"])[:3]
    report = evaluate_choices(questions, choosers(wordnet_qa.kg, qa=wordnet_qa))
    assert set(report["methods"]) == {"kgnlu", "lesk", "minilm"}
    for m in report["methods"].values():
        assert m["all"]["n"] == 3 and 0.0 <= m["all"]["accuracy"] <= 1.0
