"""Question wordings for any path (kgnlu.qa.data.wording: training vs held-out wordings, the topic
placeholder once, render's exact spans) and sampling training questions evenly
(kgnlu.qa.dataset.sample_evenly: hop shares, then even over paths, then over wordings)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgnlu.qa.data.wording import HELD_OUT_SHARE, path_wordings, render, split_wordings
from kgnlu.qa.dataset import HOP_SHARES, QAExample, sample_evenly
from kgnlu.qa.graph_profile import GraphProfile
from kgnlu.qa.paths import RelationPath
from tests.qa.people_graph import EX

PATHS = [[EX + "bornIn"], [EX + "bornIn^-1"], [EX + "hasCapital"], [EX + "bornIn", EX + "locatedIn"],
         [EX + "worksFor", EX + "basedIn", EX + "locatedIn"], ["rdf:type"]]


@pytest.mark.parametrize("steps", PATHS)
def test_wordings_hold_the_topic_once_and_never_cross_sides(lexicon, people_graph, steps):
    path = RelationPath.parse(steps, people_graph)
    w = path_wordings(people_graph, path, GraphProfile(people_graph))
    assert w.train and w.heldout and not set(w.train) & set(w.heldout)
    for text in (*w.train, *w.heldout):
        assert text.count("{x}") == 1, text
        assert "{t}" not in text and "{ts}" not in text and "{np}" not in text
        assert text[:1].isupper() or text.startswith("{x}")
    assert path_wordings(people_graph, path, GraphProfile(people_graph)) == w  # deterministic


def test_one_step_wordings_include_the_steps_own_question_frames(lexicon, people_graph):
    path = RelationPath.parse([EX + "bornIn^-1"], people_graph)
    w = path_wordings(people_graph, path, GraphProfile(people_graph))
    assert "What is born in {x}?" in w.train + w.heldout
    assert any("person" in text for text in w.train + w.heldout)  # the answer type, from the graph


def test_template_wordings_join_the_pool(lexicon, people_graph):
    path = RelationPath.parse([EX + "hasCapital"], people_graph)
    profile = GraphProfile(people_graph)
    plain = path_wordings(people_graph, path, profile)
    extra = path_wordings(people_graph, path, profile, (("Capital of {x}?",), ("{x} is governed from which city?",)))
    assert extra.train[0] == "Capital of {x}?" and extra.heldout[0] == "{x} is governed from which city?"
    assert set(extra.train) == {"Capital of {x}?", *plain.train}
    assert set(extra.heldout) == {"{x} is governed from which city?", *plain.heldout}


def test_a_template_wording_that_the_generator_also_writes_stays_on_one_side(lexicon, qa_graph):
    path = RelationPath.parse(["gnrel:capital"], qa_graph)
    profile = GraphProfile(qa_graph)
    generated = path_wordings(qa_graph, path, profile)
    both_ways = path_wordings(qa_graph, path, profile, (generated.heldout[:1], generated.train[:1]))
    assert not set(both_ways.train) & set(both_ways.heldout)


@given(st.lists(st.text(min_size=1, max_size=12), unique=True, max_size=40), st.integers(0, 5))
def test_split_wordings_partitions_any_pool(pool, key):
    train, held = split_wordings(pool, key)
    assert sorted(train + held) == sorted(pool) and not set(train) & set(held)
    assert train == [p for p in pool if p in set(train)]  # pool order kept
    if len(pool) >= 2:
        assert train and held
    assert split_wordings(pool, key) == (train, held)


def test_split_wordings_holds_out_about_a_quarter_and_a_wording_keeps_its_side():
    pool = [f"Wording number {i} of {{x}}?" for i in range(400)]
    train, held = split_wordings(pool, key=(3, 5))
    assert abs(len(held) / len(pool) - HELD_OUT_SHARE) < 0.07
    more_train, more_held = split_wordings(pool + ["A new wording of {x}?"], key=(3, 5))
    assert set(train) <= set(more_train) and set(held) <= set(more_held)
    _, other = split_wordings(pool, key=(4, 5))
    assert set(other) != set(held)  # each path splits its own way


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=30))
def test_render_slices_back_to_the_label_verbatim(before, after, label):
    template = before.replace("{x}", "") + "{x}" + after.replace("{x}", "")
    question, (start, end) = render(template, label)
    assert question[start:end] == label
    assert question == template.replace("{x}", label, 1)


def test_render_keeps_braces_in_a_label():
    assert render("What is {x}'s capital?", "{weird} {x}") == ("What is {weird} {x}'s capital?", (8, 19))


# ---------------------------------------------------------------------- sample_evenly
def example(i: int, hops: int, path: str, wording: str) -> QAExample:
    return QAExample(f"q{i}", "What is x?", "t", (8, 9), tuple(f"{path}{j}" for j in range(hops)), ("a",), hops,
                     f"{path}/{wording}")


def pool(spec: dict[tuple[int, str, str], int]) -> list[QAExample]:
    out: list[QAExample] = []
    for (hops, path, wording), n in spec.items():
        out += [example(len(out) + i, hops, path, wording) for i in range(n)]
    return out


def test_sample_evenly_shares_hops_then_paths_then_wordings():
    examples = pool({(1, "a", "w0"): 300, (1, "a", "w1"): 10, (1, "b", "w0"): 200,
                     (2, "c", "w0"): 200, (3, "d", "w0"): 100, (3, "e", "w0"): 100})
    sample = sample_evenly(examples, 100, seed=0)
    assert len(sample) == 100 and len({e.id for e in sample}) == 100
    by_hops = Counter(e.hops for e in sample)
    assert by_hops == {h: round(100 * share) for h, share in HOP_SHARES.items()}
    by_path = Counter(e.relations[0] for e in sample)
    assert by_path["a0"] == by_path["b0"] == 25 and by_path["d0"] == by_path["e0"] == 10
    a = Counter(e.template_id for e in sample if e.relations[0] == "a0")
    assert a == {"a/w0": 15, "a/w1": 10}  # the rare wording is used up first, evenly before that


def test_sample_evenly_passes_a_short_lengths_share_on():
    examples = pool({(1, "a", "w0"): 500, (2, "b", "w0"): 500, (3, "c", "w0"): 3})
    sample = sample_evenly(examples, 100, seed=0)
    by_hops = Counter(e.hops for e in sample)
    assert len(sample) == 100 and by_hops[3] == 3 and by_hops[1] + by_hops[2] == 97
    assert by_hops[1] > by_hops[2]


def test_sample_evenly_keeps_small_pools_and_is_seeded():
    examples = pool({(1, "a", "w0"): 5, (2, "b", "w0"): 5})
    assert sample_evenly(examples, 10) == examples
    big = pool({(1, "a", "w0"): 50, (1, "a", "w1"): 50, (2, "b", "w0"): 50})
    assert sample_evenly(big, 20, seed=1) == sample_evenly(big, 20, seed=1)
    assert [e.id for e in sample_evenly(big, 20, seed=1)] != [e.id for e in sample_evenly(big, 20, seed=2)]
