"""Graph slots (KGLM-style local knowledge graph): candidates from the graph, never from the hidden entity."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from kgnlu.data.instances import IGNORE
from kgnlu.errors import ConfigError
from kgnlu.fusion import EntityInputs
from kgnlu.fusion.data import FusionCollator, FusionDataConfig
from kgnlu.fusion.slots import GraphNeighbourhood, add_slots, mask_runs, masked_mentions_to_slots
from tests.kg.linker_graph import build_fixture_graph


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return build_fixture_graph(tmp_path_factory.mktemp("slots") / "graph")


def rows(graph, *ids):
    return [graph.index_of(i) for i in ids]


def test_neighbourhood_follows_forward_edges_and_same_as_twins(graph):
    hood = GraphNeighbourhood(graph, max_candidates=8)
    paris_tx, texas, us, france = rows(graph, "geo:paris_tx", "geo:texas", "geo:us", "geo:france")
    assert set(hood([paris_tx])) == {texas, us}
    assert hood([texas]) == [us]
    assert hood([us]) == []  # only incoming edges: nothing a slot could name
    # WordNet's Paris has no edge of its own but a sameAs twin in GeoNames, whose country is France
    assert hood(rows(graph, "wn:00000001-n")) == [france]


def test_neighbourhood_is_capped_nearest_entity_first_and_round_robin(graph):
    nyc, paris_tx, ny, texas, us = rows(graph, "geo:nyc", "geo:paris_tx", "geo:ny", "geo:texas", "geo:us")
    assert GraphNeighbourhood(graph, max_candidates=1)([nyc, paris_tx]) == [ny]
    assert GraphNeighbourhood(graph, max_candidates=1)([paris_tx, nyc]) in ([texas], [us])
    three = GraphNeighbourhood(graph, max_candidates=3)([nyc, paris_tx])
    assert three[0] == ny and set(three) == {ny, texas, us}
    with pytest.raises(ConfigError):
        GraphNeighbourhood(graph, max_candidates=0)


def two_mentions(graph, hidden: str) -> EntityInputs:
    """One row, mentions at [1, 3) (Paris, Texas) and [4, 6) (``hidden``), one candidate each."""
    paris_tx, other = rows(graph, "geo:paris_tx", hidden)
    return EntityInputs(
        entity_ids=torch.tensor([[paris_tx, other]]), entity_mask=torch.tensor([[True, True]]),
        spans=torch.tensor([[[1, 3], [4, 6]]]), weights=torch.tensor([[0.9, 0.8]]),
        candidate_ids=torch.tensor([[[paris_tx], [other]]]), candidate_scores=torch.tensor([[[0.9], [0.8]]]),
        candidate_mask=torch.tensor([[[True], [True]]]))


def test_masked_mention_becomes_a_slot_whose_candidates_ignore_the_hidden_entity(graph):
    hood = GraphNeighbourhood(graph, max_candidates=4)
    labels = torch.full((1, 8), IGNORE)
    labels[0, 4] = 7  # a token of the second mention carries an MLM label
    texas, us = rows(graph, "geo:texas", "geo:us")
    slots = {}
    for hidden in ("geo:texas", "geo:london"):
        entities, originals = masked_mentions_to_slots(two_mentions(graph, hidden), labels, hood)
        slots[hidden] = entities
        assert entities.entity_mask.tolist() == [[True, True]]
        assert originals["entity_original_ids"][0, 1] == graph.index_of(hidden)  # the el objective's gold
        assert originals["entity_original_mask"].tolist() == [[True, True]]
        assert originals["entity_slot_mask"].tolist() == [[False, True]]
        chosen = entities.candidate_ids[0, 1][entities.candidate_mask[0, 1]].tolist()
        assert set(chosen) == {texas, us}  # Paris, Texas's neighbours
        assert (entities.candidate_scores[0, 1] == 0).all()  # no prior: the context must choose
        assert entities.entity_ids[0, 1] == chosen[0]
        # the unmasked mention is untouched
        assert entities.candidate_ids[0, 0, 0] == graph.index_of("geo:paris_tx") and entities.candidate_mask[0, 0, 0]
        assert entities.candidate_scores[0, 0, 0] == pytest.approx(0.9)
    assert torch.equal(slots["geo:texas"].candidate_ids, slots["geo:london"].candidate_ids)
    assert torch.equal(slots["geo:texas"].entity_ids, slots["geo:london"].entity_ids)


def test_a_slot_with_no_graph_context_is_dropped(graph):
    hood = GraphNeighbourhood(graph, max_candidates=4)
    labels = torch.full((1, 8), IGNORE)
    labels[0, 1] = 7  # mask Paris, Texas; the remaining context (London) has no outgoing edge
    entities, originals = masked_mentions_to_slots(two_mentions(graph, "geo:london"), labels, hood)
    assert entities.entity_mask.tolist() == [[False, True]]
    assert not entities.candidate_mask[0, 0].any()
    assert originals["entity_original_mask"].tolist() == [[False, True]]
    assert not originals["entity_slot_mask"].any()


def test_add_slots_appends_after_the_linked_entities(graph):
    hood = GraphNeighbourhood(graph, max_candidates=4)
    base = two_mentions(graph, "geo:nyc")
    out, added = add_slots(base, [[(6, 8)]], hood)
    assert added.tolist() == [[False, False, True]]
    assert out.entity_ids.shape == (1, 3) and out.entity_mask.tolist() == [[True, True, True]]
    assert out.spans[0, 2].tolist() == [6, 8]
    chosen = out.candidate_ids[0, 2][out.candidate_mask[0, 2]].tolist()
    # nearest context first: New York City's state, then Paris, Texas's neighbours
    assert chosen[0] == graph.index_of("geo:ny")
    assert set(chosen) == set(rows(graph, "geo:ny", "geo:texas", "geo:us"))
    assert torch.equal(out.entity_ids[:, :2], base.entity_ids)
    assert torch.equal(out.candidate_ids[:, :2, :1], base.candidate_ids)
    assert not add_slots(base, [[]], hood)[0].entity_mask[:, 2:].any()
    with pytest.raises(ConfigError):
        add_slots(base, [[], []], hood)


@given(st.lists(st.lists(st.booleans(), min_size=1, max_size=12), min_size=1, max_size=4).filter(
    lambda rows: len({len(r) for r in rows}) == 1))
def test_mask_runs_are_the_maximal_runs_of_mask_tokens(flags):
    ids = torch.tensor([[9 if f else 1 for f in row] for row in flags])
    runs = mask_runs(ids, 9)
    for row, spans in zip(flags, runs, strict=True):
        covered = [False] * len(row)
        for start, end in spans:
            assert start < end
            assert all(row[start:end])
            assert start == 0 or not row[start - 1]  # maximal on the left
            assert end == len(row) or not row[end]  # and on the right
            covered[start:end] = [True] * (end - start)
        assert covered == row


def test_collator_needs_the_graph_for_slots():
    class Tok:
        mask_id = 3

    with pytest.raises(ConfigError, match="graph_slots"):
        FusionCollator(Tok(), {}, FusionDataConfig(graph_slots=4))
    with pytest.raises(ConfigError):
        FusionDataConfig(graph_slots=-1)
