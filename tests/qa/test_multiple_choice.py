"""Multiple choice on a tiny WordNet-shaped graph: the senses a type word keeps, the evidence the
chosen sense carries, and the two baselines. The graph copies WordNet's shape around the seed's
example: shovel is a hand tool; "excavator" is a workman (prior 0.67) or the power shovel, a
machine (0.33), filed under device, not tool; "tool" is also a person used by others."""

from __future__ import annotations

import zlib
from types import SimpleNamespace

import numpy as np
import pytest

from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources.base import Source
from kgnlu.qa import QAConfig
from kgnlu.qa.choice_baselines import MiniLMChooser, lesk_choose, most_frequent_sense
from kgnlu.qa.choice_senses import Hypernyms, keep_distinct, read_senses, restrict
from kgnlu.qa.choice_text import choice_context, choice_name
from kgnlu.qa.multiple_choice import score_choices

SYNSETS = {  # key: (id, label, gloss)
    "instrumentality": ("wn:00000001-n", "instrumentality", "an artifact that is instrumental in accomplishing some end"),
    "implement": ("wn:00000002-n", "implement", "instrumentation used to accomplish some task"),
    "tool": ("wn:00000003-n", "tool", "an implement used in the practice of a vocation"),
    "hand tool": ("wn:00000004-n", "hand tool", "a tool used with workers' hands"),
    "shovel": ("wn:00000005-n", "shovel", "a hand tool for lifting loose material"),
    "dibble": ("wn:00000006-n", "dibble", "a hand tool used to make holes in the ground for planting seeds and flowers"),
    "device": ("wn:00000007-n", "device", "an instrumentality invented for a particular purpose"),
    "machine": ("wn:00000008-n", "machine", "a mechanical device that performs a task"),
    "power shovel": ("wn:00000009-n", "power shovel", "a machine for excavating"),
    "person": ("wn:00000010-n", "person", "a human being"),
    "workman": ("wn:00000011-n", "workman", "an employee who performs manual labor"),
    "excavator": ("wn:00000012-n", "excavator", "a workman who excavates for foundations of buildings or for quarrying"),
    "creature": ("wn:00000013-n", "creature", "a person who is controlled by others"),
    "shovelful": ("wn:00000014-n", "shovel", "the quantity a shovel can hold"),
    "dig": ("wn:00000020-v", "dig", "turn up, loosen, or remove earth"),
    "shovel (verb)": ("wn:00000021-v", "shovel", "dig with or as if with a shovel"),
}
HYPERNYMS = [("implement", "instrumentality"), ("tool", "implement"), ("hand tool", "tool"), ("shovel", "hand tool"),
             ("dibble", "hand tool"), ("device", "instrumentality"), ("machine", "device"),
             ("power shovel", "machine"), ("workman", "person"), ("excavator", "workman"), ("creature", "person")]
DERIVATIONS = [("power shovel", "dig"), ("shovel", "shovel (verb)")]
ALIASES = {  # surface: [(synset, weight)]  (WordNet's cntlist-style counts become priors)
    "shovel": [("shovel", 49), ("shovel (verb)", 33), ("shovelful", 8), ("power shovel", 4)],
    "excavator": [("excavator", 2), ("power shovel", 1)],
    "tool": [("tool", 61), ("creature", 2)],
}


class ChoiceFixtureSource(Source):
    name = "choice-fixture"

    @classmethod
    def from_spec(cls, argument):
        return cls()

    @property
    def spec(self) -> str:
        return "choice-fixture"

    def checksum(self) -> str:
        return "choice-fixture-v1"

    def emit(self, builder: GraphBuilder) -> None:
        builder.begin_source(self.spec, self.name, self.checksum())
        for key, (ext, label, gloss) in SYNSETS.items():
            builder.entity(ext, label=label, kind="wordnet:noun.artifact", text=gloss)
            if key not in {surface for surface in ALIASES} | {"shovelful", "shovel (verb)"}:
                builder.alias(label, ext, 1.0)
        for surface, senses in ALIASES.items():
            for key, weight in senses:
                builder.alias(surface, SYNSETS[key][0], weight)
        for child, parent in HYPERNYMS:
            builder.triple(SYNSETS[child][0], "wnrel:hypernym", SYNSETS[parent][0])
            builder.triple(SYNSETS[parent][0], "wnrel:hyponym", SYNSETS[child][0])
        for a, b in DERIVATIONS:
            builder.triple(SYNSETS[a][0], "wnrel:sense/derivation", SYNSETS[b][0])
            builder.triple(SYNSETS[b][0], "wnrel:sense/derivation", SYNSETS[a][0])


class HashingEncoder:
    """Bag of words hashed into 64 dims, unit rows: cosine follows shared words (a stand-in for
    MiniLM that needs no weights)."""

    def encode(self, texts):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in text.lower().replace(",", " ").replace(":", " ").split():
                out[i, zlib.crc32(w.encode()) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture(scope="module")
def choice_kg(tmp_path_factory):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    out = tmp_path_factory.mktemp("choice") / "graph"
    return KnowledgeGraph.load(build_graph([ChoiceFixtureSource()], out, store=False))


@pytest.fixture(scope="module")
def choice_qa(choice_kg):
    """What ``score_choices`` reads from a KGQA, with the hashing encoder in MiniLM's place."""
    from kgnlu.kg.linker import EntityLinker

    linker = EntityLinker.from_graph(choice_kg, mode="fast", save=False)
    return SimpleNamespace(kg=choice_kg, linker=linker, config=QAConfig(), questions=HashingEncoder())


def ext(key: str) -> str:
    return SYNSETS[key][0]


def starts_at(path, entity: str) -> bool:
    first = path.triples[0]
    return (first.head if first.forward else first.tail) == entity


FOUNDATIONS = "We dug the ground to lay the foundations of a house. Which tool did we need?"
FLOWERS = "We dug the ground to plant flowers. Which tool did we need?"


def test_type_word_reads_excavator_as_the_machine_not_the_workman(choice_qa):
    result = score_choices(choice_qa, FOUNDATIONS, ["a shovel", "an excavator"])
    shovel, excavator = result.choices
    assert sum(c.score for c in result.choices) == pytest.approx(1.0)
    # the workman's gloss shares "foundations" with the question, but a workman is no kind of tool
    assert excavator.entity == ext("power shovel") and excavator.label == "power shovel"
    assert shovel.entity == ext("shovel")  # the hand tool: not the verb, the shovelful, or the machine
    assert excavator.evidence and all(starts_at(p, ext("power shovel")) for p in excavator.evidence)
    route = excavator.evidence[0].triples  # machine → device → instrumentality ← implement ← tool
    assert (route[-1].head if not route[-1].forward else route[-1].tail) == ext("tool")
    assert ext("excavator") not in {t.head for p in excavator.evidence for t in p.triples}
    assert excavator.matched.startswith("power shovel: a machine for excavating")


def test_without_a_type_word_the_workman_sense_is_read(choice_qa):
    result = score_choices(choice_qa, "We dug the ground to lay the foundations of a house. Who did we need?",
                           ["a shovel", "an excavator"])
    assert result.choices[1].entity == ext("excavator")


def test_a_sibling_tools_gloss_is_not_evidence(choice_qa):
    """dibble's gloss ("... planting seeds and flowers") matches the question, but it is another
    tool: the shovel's evidence comes from the shovel sense and its own neighbours."""
    shovel = score_choices(choice_qa, FLOWERS, ["a shovel", "an excavator"]).choices[0]
    assert shovel.entity == ext("shovel")
    assert all(starts_at(p, ext("shovel")) for p in shovel.evidence)
    assert ext("dibble") not in {x for p in shovel.evidence for t in p.triples for x in (t.head, t.tail)}
    assert "dibble" not in shovel.matched


def test_unknown_choices_say_why(choice_qa):
    result = score_choices(choice_qa, "Which one?", ["xyzzy", "plugh"])
    assert result.reason == "no choice names an entity of the graph"
    assert [c.entity for c in result.choices] == [None, None]
    assert score_choices(choice_qa, "Which one?", []).reason == "no choices given"


def test_a_choice_the_graph_cannot_read_ranks_last(choice_qa):
    result = score_choices(choice_qa, FLOWERS, ["a plugh", "a shovel"])
    assert result.best.choice == "a shovel" and result.choices[0].entity is None


def test_the_type_sense_needing_fewest_steps_wins(choice_kg, choice_qa):
    kg, hyp = choice_kg, Hypernyms(choice_kg)
    senses = [read_senses(kg, choice_qa.linker.index, c) for c in ("a shovel", "an excavator")]
    keep_distinct(senses)
    tool, creature = kg.index_of(ext("tool")), kg.index_of(ext("creature"))
    # creature (a person) covers the workman at once; tool covers the shovel at once and the machine
    # after two steps (implement, instrumentality) — but creature needs four to reach the shovel
    chosen = restrict(senses, [creature, tool], {tool: 0.97, creature: 0.03}, hyp)
    assert chosen == tool
    kept = {kg.entity_id(s.entity) for group in senses for s in group if s.weight > 0}
    assert kept == {ext("shovel"), ext("power shovel")}


def test_a_sense_two_choices_can_mean_goes_to_the_one_naming_it_most(choice_kg, choice_qa):
    kg = choice_kg
    senses = [read_senses(kg, choice_qa.linker.index, c) for c in ("a shovel", "an excavator")]
    assert ext("power shovel") in {kg.entity_id(s.entity) for s in senses[0]}
    keep_distinct(senses)
    assert ext("power shovel") not in {kg.entity_id(s.entity) for s in senses[0]}
    assert ext("power shovel") in {kg.entity_id(s.entity) for s in senses[1]}
    for group in senses:
        assert sum(s.weight for s in group) == pytest.approx(1.0)


def test_choices_are_read_as_nouns_and_plurals_through_morphology(choice_kg, choice_qa):
    kg = choice_kg
    senses = read_senses(kg, choice_qa.linker.index, "shovels")
    assert senses and all(kg.entity_id(s.entity).endswith("-n") for s in senses)
    assert kg.entity_id(senses[0].entity) == ext("shovel")
    assert read_senses(kg, choice_qa.linker.index, "xyzzy") == []


def test_hypernym_routes_are_shortest_and_cached(choice_kg):
    kg, hyp = choice_kg, Hypernyms(choice_kg)
    up = hyp.ancestors(kg.index_of(ext("power shovel")))
    assert len(up[kg.index_of(ext("instrumentality"))]) == 3 and up[kg.index_of(ext("power shovel"))] == ()
    assert hyp.ancestors(kg.index_of(ext("power shovel"))) is up


def test_choice_text_strips_articles_and_removes_whole_words_only():
    assert choice_name(" An excavator.") == "excavator" and choice_name("gloves") == "gloves"
    assert choice_context("I saw sawdust: a saw or an axe?", ["a saw", "an axe"]) == "I sawdust: or ?"


def test_lesk_counts_words_shared_with_the_most_frequent_senses_gloss(choice_kg):
    kg = choice_kg
    assert kg.entity_id(most_frequent_sense(kg, "an excavator")) == ext("excavator")  # the workman
    assert kg.entity_id(most_frequent_sense(kg, "shovels")) == ext("shovel")  # crude singular
    assert most_frequent_sense(kg, "a plugh") == -1
    result = lesk_choose(kg, "Who excavates for the foundations of buildings?", ["a shovel", "an excavator"])
    assert result.best.choice == "an excavator" and "foundation" in result.best.matched
    tie = lesk_choose(kg, "Which one?", ["a shovel", "an excavator"])
    assert tie.choices[0].score == tie.choices[1].score == pytest.approx(0.5)


def test_minilm_chooser_ranks_by_cosine_with_the_question():
    chooser = MiniLMChooser(HashingEncoder())
    result = chooser("which hand tool lifts loose soil", ["a hand tool", "a machine"])
    assert result.best.choice == "a hand tool" and result.choices[0].entity is None
    assert sum(c.score for c in result.choices) == pytest.approx(1.0)

