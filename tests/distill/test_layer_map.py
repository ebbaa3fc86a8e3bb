"""Layer maps (TinyBERT's uniform g(m)) and initialisation layers (DistilBERT's one out of two)."""

import pytest

from kgnlu.distill.layer_map import (
    every_other_layers,
    uniform_layer_map,
    validate_init_layers,
    validate_layer_map,
)
from kgnlu.errors import DistillationError


def test_uniform_map_matches_tinybert():
    assert uniform_layer_map(2, 6) == [0, 3, 6]
    assert uniform_layer_map(3, 6) == [0, 2, 4, 6]
    assert uniform_layer_map(4, 12) == [0, 3, 6, 9, 12]  # TinyBERT-4 from BERT-base
    assert uniform_layer_map(4, 6) == [0, 1, 3, 4, 6]  # rounds down, still ends on the last layer
    assert uniform_layer_map(6, 6) == list(range(7))


def test_every_other_matches_distilbert():
    assert every_other_layers(6, 12) == [0, 2, 4, 7, 9, 11]  # DistilBERT's published choice
    assert every_other_layers(3, 6) == [0, 3, 5]
    assert every_other_layers(2, 6) == [0, 5]
    assert every_other_layers(1, 6) == [5]


@pytest.mark.parametrize("student,teacher", [(0, 6), (7, 6)])
def test_impossible_depths(student, teacher):
    with pytest.raises(DistillationError):
        uniform_layer_map(student, teacher)


def test_user_maps_are_checked():
    assert validate_layer_map([2, 6], 2, 6) == [0, 2, 6]
    assert validate_layer_map([0, 1, 5], 2, 6) == [0, 1, 5]
    for bad in ([3, 3], [0, 4, 7], [1, 2, 3], [2]):
        with pytest.raises(DistillationError):
            validate_layer_map(bad, 2, 6)
    assert validate_init_layers([1, 4], 2, 6) == [1, 4]
    with pytest.raises(DistillationError):
        validate_init_layers([1, 6], 2, 6)
