"""RotatE's two distances against hand computations: the paper's sum of complex moduli and
PyKEEN's L2 norm over real coordinates (issue 23, item 5)."""

from __future__ import annotations

import math

import pytest
import torch

from kgnlu.errors import ConfigError
from kgnlu.kge.models import ModelConfig, build_model

# d = 2 complex coordinates, rows are [re1, re2 | im1, im2]
ENTITIES = [[1, 0, 0, 1],   # h = (1, i)
            [0, 1, 1, 1],   # t = (i, 1 + i)
            [1, 1, 0, 0],   # (1, 1)
            [3, 0, 4, 0]]   # (3 + 4i, 0)
RELATIONS = [[0, 1, 1, 0]]  # r = (i, 1): rotations by 90° and 0°


def rotate(distance: str):
    model = build_model(ModelConfig("rotate", dim=2, distance=distance, normalize_entities=False), 4, 1)
    with torch.no_grad():
        model.entities.weight.copy_(torch.tensor(ENTITIES, dtype=torch.float))
        model.relations.weight.copy_(torch.tensor(RELATIONS, dtype=torch.float))
    return model


def score(model, h: int, t: int) -> float:
    with torch.no_grad():
        return float(model.score_hrt(torch.tensor([h]), torch.tensor([0]), torch.tensor([t]))[0])


def test_modulus_distance_is_the_papers_sum_of_complex_moduli():
    model = rotate("modulus")
    # h∘r = (1·i, i·1) = (i, i). Against t = (i, 1 + i): h∘r - t = (0, -1) → |0| + |-1| = 1
    assert score(model, 0, 1) == pytest.approx(-1.0)
    # against (1, 1): (-1 + i, -1 + i) → √2 + √2 = 2√2 (L2 over the 4 reals would say 2)
    assert score(model, 0, 2) == pytest.approx(-2 * math.sqrt(2))
    # against (3 + 4i, 0): (-3 - 3i, i) → √18 + 1 (L2: √(9 + 9 + 1) = √19)
    assert score(model, 0, 3) == pytest.approx(-(math.sqrt(18) + 1))
    assert score(rotate("l2"), 0, 2) == pytest.approx(-2.0)
    assert score(rotate("l2"), 0, 3) == pytest.approx(-math.sqrt(19))


@pytest.mark.parametrize("distance", ["modulus", "l2"])
def test_ranking_against_all_entities_matches_single_scores(distance):
    model = rotate(distance)
    with torch.no_grad():
        tails = model.score_t(torch.tensor([0, 2]), torch.tensor([0, 0]))  # [2, 4]
        heads = model.score_h(torch.tensor([0]), torch.tensor([1]))[0]  # [4]
    for e in range(4):
        assert tails[0, e].item() == pytest.approx(score(model, 0, e), abs=1e-5)
        assert tails[1, e].item() == pytest.approx(score(model, 2, e), abs=1e-5)
        # unit-modulus r: |h∘r - t| = |h - t∘conj(r)| coordinate-wise, so the head side agrees too
        assert heads[e].item() == pytest.approx(score(model, e, 1), abs=1e-5)


def test_modulus_gradient_is_finite_at_zero_distance():
    model = rotate("modulus")
    with torch.no_grad():
        model.entities.weight[1].copy_(torch.tensor([0.0, 0.0, 1.0, 1.0]))  # t = h∘r exactly
    loss = -model.score_hrt(torch.tensor([0]), torch.tensor([0]), torch.tensor([1])).sum()
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-6) and torch.isfinite(model.entities.weight.grad).all()


def test_distance_is_validated():
    with pytest.raises(ConfigError, match="modulus"):
        ModelConfig("transe", distance="modulus")
    with pytest.raises(ConfigError, match="distance"):
        ModelConfig("rotate", distance="l1")
    assert ModelConfig("rotate").distance == "l2"  # saved models (no distance key) keep PyKEEN's scores
