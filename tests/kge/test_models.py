"""Each model's score against numbers worked out by hand (not by the code under test)."""

from __future__ import annotations

import math

import pytest
import torch

from kgnlu.kge.models import MODELS, ModelConfig, build_model


def _model(name: str, entities: list[list[float]], relations: list[list[float]], p: int = 2):
    dim = len(entities[0]) // (2 if MODELS.get(name).complex_valued else 1)
    model = build_model(ModelConfig(name, dim=dim, p=p, normalize_entities=False), len(entities), len(relations))
    with torch.no_grad():
        model.entities.weight.copy_(torch.tensor(entities))
        model.relations.weight.copy_(torch.tensor(relations))
    return model


def _score(model, h: int, r: int, t: int) -> float:
    with torch.no_grad():
        return float(model.score_hrt(torch.tensor([h]), torch.tensor([r]), torch.tensor([t]))[0])


def _check_all_entity_scoring(model, h: int, r: int, t: int) -> None:
    """score_t / score_h against every entity agree with score_hrt, entry by entry."""
    n = model.num_entities
    with torch.no_grad():
        tails = model.score_t(torch.tensor([h]), torch.tensor([r]))[0]
        heads = model.score_h(torch.tensor([r]), torch.tensor([t]))[0]
    for e in range(n):
        assert tails[e].item() == pytest.approx(_score(model, h, r, e), abs=1e-4)
        assert heads[e].item() == pytest.approx(_score(model, e, r, t), abs=1e-4)


def test_transe_by_hand():
    # h = (1, 2), r = (0.5, -1), t = (2, 0): h + r - t = (-0.5, 1)
    model = _model("transe", [[1, 2], [2, 0], [0, 0]], [[0.5, -1]], p=1)
    assert _score(model, 0, 0, 1) == pytest.approx(-1.5)  # L1: 0.5 + 1
    model = _model("transe", [[1, 2], [2, 0], [0, 0]], [[0.5, -1]], p=2)
    assert _score(model, 0, 0, 1) == pytest.approx(-math.sqrt(1.25))  # L2: sqrt(0.25 + 1)
    _check_all_entity_scoring(model, 0, 0, 1)


def test_distmult_by_hand():
    # 1·0.5·2 + 2·(-1)·3 + (-1)·2·1 = 1 - 6 - 2 = -7
    model = _model("distmult", [[1, 2, -1], [2, 3, 1], [0, 1, 0]], [[0.5, -1, 2]])
    assert _score(model, 0, 0, 1) == pytest.approx(-7.0)
    _check_all_entity_scoring(model, 0, 0, 1)


def test_complex_by_hand():
    # d = 1: h = 1 + 2i, r = 3 - i, t = 2 + 1i. h·r = 3 - i + 6i - 2i² = 5 + 5i;
    # h·r·conj(t) = (5 + 5i)(2 - i) = 10 - 5i + 10i - 5i² = 15 + 5i → Re = 15
    model = _model("complex", [[1, 2], [2, 1], [0.5, -1]], [[3, -1]])  # rows are [re | im]
    assert _score(model, 0, 0, 1) == pytest.approx(15.0)
    # reversed: h = 2 + i, t = 1 + 2i: (2 + i)(3 - i) = 6 - 2i + 3i + 1 = 7 + i; (7 + i)(1 - 2i) = 7 - 14i + i + 2 = 9 - 13i
    assert _score(model, 1, 0, 0) == pytest.approx(9.0)
    _check_all_entity_scoring(model, 0, 0, 1)


def test_rotate_by_hand():
    # d = 2: r = (i, 1) (rotations by 90° and 0°), h = (1 + 0i, 0 + 1i), t = (0 + 1i, 1 + 1i).
    # h∘r = (i, i); h∘r - t = (0, -1) → ||·|| = 1 → score -1
    ents = [[1, 0, 0, 1], [0, 1, 1, 1], [1, 1, 0, 0]]  # [re1, re2 | im1, im2]
    model = _model("rotate", ents, [[0, 1, 1, 0]])
    assert _score(model, 0, 0, 1) == pytest.approx(-1.0)
    # t = entity 2 = (1, 1) real: h∘r - t = (-1 + i, -1 + i) → sqrt(1 + 1 + 1 + 1) = 2
    assert _score(model, 0, 0, 2) == pytest.approx(-2.0)
    _check_all_entity_scoring(model, 0, 0, 1)


def test_rotate_relations_stay_unit_modulus():
    model = build_model(ModelConfig("rotate", dim=4), 5, 3)
    with torch.no_grad():
        model.relations.weight.mul_(3.0)
    model.post_step()
    re, im = model.relations.weight.chunk(2, dim=-1)
    assert torch.allclose(re * re + im * im, torch.ones(3, 4), atol=1e-5)


def test_every_model_is_tested_and_cited():
    tested = {"transe", "distmult", "complex", "rotate"}
    for name, cls in MODELS.items():
        assert name in tested, f"add a hand-computed test for {name}"
        assert cls.citation, f"{name} needs a citation"
