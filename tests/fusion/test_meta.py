"""Every registered injection layer and KG objective has a test and cites its paper."""

from __future__ import annotations

import re

import pytest

from kgnlu.encoders.objectives import OBJECTIVES
from kgnlu.fusion import INJECTIONS
from kgnlu.fusion.objectives import FUSION_OBJECTIVES

from .test_injections import KINDS
from .test_objectives import TESTED_OBJECTIVES

CITATION = re.compile(r"et al\. \d{4}.*arXiv:\d{4}\.\d{4,5}", re.S)


def test_every_injection_is_tested():
    assert set(INJECTIONS) == set(KINDS)


def test_every_fusion_objective_is_registered_and_tested():
    assert set(FUSION_OBJECTIVES) <= set(OBJECTIVES)
    assert set(FUSION_OBJECTIVES) == set(TESTED_OBJECTIVES)


@pytest.mark.parametrize("cls", [cls for _, cls in INJECTIONS.items()]
                         + [OBJECTIVES.get(name) for name in FUSION_OBJECTIVES], ids=lambda c: c.__name__)
def test_docstring_cites_the_paper(cls):
    assert cls.__doc__ and CITATION.search(cls.__doc__), f"{cls.__name__} must cite its paper (authors year, arXiv id)"
