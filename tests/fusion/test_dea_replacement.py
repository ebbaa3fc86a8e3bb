"""dEA's replacement draws another entity, never the original (ERNIE §3.4; issue 23, item 6)."""

from __future__ import annotations

import math

import torch

from kgnlu.encoders.objectives import OBJECTIVES
from kgnlu.fusion.objectives.dea import other_entities

from .conftest import NUM_ENTITIES
from .test_objectives import fused


def test_other_entities_never_returns_the_original_and_is_uniform_over_the_rest():
    generator = torch.Generator().manual_seed(0)
    ids = torch.full((60_000,), 2)  # one original id, many draws
    drawn = other_entities(ids, 5, generator)
    assert not (drawn == ids).any() and drawn.min() >= 0 and drawn.max() <= 4
    counts = torch.bincount(drawn, minlength=5)
    assert counts[2] == 0
    n, p = len(ids), 1 / 4  # uniform over the 4 others
    for e in (0, 1, 3, 4):
        assert abs(counts[e].item() - n * p) <= 4.5 * math.sqrt(n * p * (1 - p))
    every = torch.arange(5).repeat(1000)  # each id in turn, the ends (0, E - 1) included
    assert not (other_entities(every, 5, generator) == every).any()


def test_prepare_batch_replacements_are_always_another_entity():
    torch.manual_seed(0)
    objective = OBJECTIVES.get("dea")(fused(), replace_fraction=1.0, mask_fraction=0.0)  # replace every one
    ids = torch.randint(0, NUM_ENTITIES, (200, 50))
    linked = torch.rand(200, 50) < 0.8
    batch = objective.prepare_batch({"entity_ids": ids, "entity_mask": linked})
    # a uniform draw over all E entities would leave 1/E of them (~500 here) unchanged
    assert (batch["entity_ids"][linked] != ids[linked]).all()
    assert torch.equal(batch["entity_ids"][~linked], ids[~linked]) and torch.equal(batch["entity_mask"], linked)
