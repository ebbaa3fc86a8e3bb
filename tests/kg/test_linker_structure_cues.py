"""Structure cues (issue 18, items 1 and 3): the tagged part of speech chooses between noun and verb
senses and keeps lower-case verbs off place names; a comma-qualified place binds its head ("London,
Ontario" with a province of another country, not only US states), per occurrence ("Paris, Texas is
not Paris, France"), and a qualifier that no candidate fits leaves the head unlinked (NIL); lists of
places are not qualifiers."""

from __future__ import annotations

import numpy as np
import pytest

from kgnlu.kg.linker import EntityLinker, Weights
from kgnlu.kg.linker.pos_cue import PosCue
from tests.kg.linker_graph import FixtureSource, build_fixture_graph

# id, label, kind, text, [(alias, prior weight)]
ENTITIES = [
    ("geo:paris_fr", "Paris", "geonames:city", "Paris, a city in France", [("Paris", 0.9)]),
    ("geo:paris_tx", "Paris", "geonames:city", "Paris, a city in the United States", [("Paris", 0.1)]),
    ("geo:france", "France", "geonames:country", "France, a country in Europe", [("France", 1.0)]),
    ("geo:us", "United States", "geonames:country", "United States, a country", [("United States", 1.0)]),
    ("geo:texas", "Texas", "geonames:us_state", "Texas, a state of the United States", [("Texas", 1.0)]),
    ("geo:kentucky", "Kentucky", "geonames:us_state", "Kentucky, a state of the United States",
     [("Kentucky", 1.0)]),
    ("geo:canada", "Canada", "geonames:country", "Canada, a country in North America", [("Canada", 1.0)]),
    ("geo:uk", "United Kingdom", "geonames:country", "United Kingdom, a country in Europe",
     [("United Kingdom", 1.0)]),
    ("geo:london_uk", "London", "geonames:city", "London, a city in the United Kingdom", [("London", 0.95)]),
    ("geo:london_on", "London", "geonames:city", "London, a city in Canada", [("London", 0.05)]),
    ("geo:ontario_ca", "Ontario", "geonames:city", "Ontario, a city in the United States", [("Ontario", 0.7)]),
    ("wn:00000010-n", "Ontario", "wordnet:noun.location", "a province of central Canada", [("Ontario", 0.3)]),
    ("geo:makes", "Makesville", "geonames:city", "Makesville, a town", [("Makesville", 0.5), ("Makes", 0.5)]),
    ("wn:00000011-n", "drove", "wordnet:noun.group", "a group of animals driven together", [("drove", 0.6)]),
    ("wn:00000012-v", "drive", "wordnet:verb.motion", "travel or be transported in a vehicle", [("drove", 0.4)]),
    ("geo:dallas", "Dallas", "geonames:city", "Dallas, a city in the United States", [("Dallas", 1.0)]),
]
TRIPLES = [
    ("geo:paris_fr", "gnrel:country", "geo:france"),
    ("geo:paris_tx", "gnrel:us_state", "geo:texas"),
    ("geo:paris_tx", "gnrel:country", "geo:us"),
    ("geo:texas", "gnrel:country", "geo:us"),
    ("geo:kentucky", "gnrel:country", "geo:us"),
    ("geo:london_uk", "gnrel:country", "geo:uk"),
    ("geo:london_on", "gnrel:country", "geo:canada"),
    ("geo:ontario_ca", "gnrel:country", "geo:us"),
    ("wn:00000010-n", "wnrel:part_holonym", "geo:canada"),
    ("geo:dallas", "gnrel:country", "geo:us"),
]


@pytest.fixture(scope="module")
def kg(tmp_path_factory):
    source = FixtureSource(ENTITIES, TRIPLES, checksum="cues-v1")
    return build_fixture_graph(tmp_path_factory.mktemp("cues") / "g", source)


@pytest.fixture(scope="module")
def linker(kg):
    return EntityLinker.from_graph(kg, mode="fast", save=False)


def links_of(linker, text: str) -> dict[tuple[str, int], str]:
    """(surface, occurrence) → linked entity id."""
    seen: dict[str, int] = {}
    out = {}
    for link in linker.link(text):
        k = seen[link.surface] = seen.get(link.surface, -1) + 1
        out[link.surface, k] = link.entity
    return out


def test_a_verb_use_takes_the_verb_sense_and_a_noun_use_the_noun_sense(linker, kg):
    assert links_of(linker, "We drove from Dallas to the coast.")["drove", 0] == "wn:00000012-v"
    assert links_of(linker, "A drove of cattle blocked the road.")["drove", 0] == "wn:00000011-n"


def test_without_the_cue_the_prior_picks_the_noun_for_the_verb_use(kg):
    plain = EntityLinker.from_graph(kg, mode="fast", save=False, weights=Weights(pos=0.0))
    assert links_of(plain, "We drove from Dallas to the coast.")["drove", 0] == "wn:00000011-n"


def test_a_lower_case_verb_does_not_link_to_a_place_named_like_it(linker, kg):
    assert ("makes", 0) not in links_of(linker, "She makes bread every Sunday.")
    plain = EntityLinker.from_graph(kg, mode="fast", save=False, weights=Weights(pos=0.0))
    assert links_of(plain, "She makes bread every Sunday.")["makes", 0] == "geo:makes"


def test_each_occurrence_follows_its_own_qualifier(linker):
    got = links_of(linker, "Paris, Texas is not Paris, France.")
    assert got["Paris", 0] == "geo:paris_tx"
    assert got["Paris", 1] == "geo:paris_fr"


def test_a_province_of_another_country_qualifies_its_city(linker):
    got = links_of(linker, "My cousin teaches in London, Ontario, near the lake.")
    assert got["London", 0] == "geo:london_on"
    assert got["Ontario", 0] == "wn:00000010-n"  # the province, not the US city


def test_a_qualifier_no_candidate_fits_leaves_the_head_unlinked(linker):
    got = links_of(linker, "She was born in Paris, Kentucky, a small town.")
    assert ("Paris", 0) not in got  # neither Paris is in Kentucky: NIL
    assert got["Kentucky", 0] == "geo:kentucky"


def test_a_list_of_places_is_not_a_qualifier(linker):
    got = links_of(linker, "Flights leave for London, Paris and Dallas every day.")
    assert got["London", 0] == "geo:london_uk" and got["Paris", 0] == "geo:paris_fr"


def test_the_cue_scores_disagreement_by_the_taggers_confidence():
    entity_pos = np.array([1, 2, 0, 0], dtype=np.uint8)  # a noun synset, a verb synset, a name, a common noun
    proper = np.array([False, False, True, False])
    cue = PosCue(entity_pos, proper)
    assert cue.agreement("v", 1.0, 0, capitalised=False) == -1.0
    assert cue.agreement("v", 0.5, 0, capitalised=False) == -0.5
    assert cue.agreement("v", 1.0, 1, capitalised=False) == 0.0
    assert cue.agreement("v", 1.0, 2, capitalised=False) == -1.0  # "makes" → a town
    assert cue.agreement("v", 1.0, 2, capitalised=True) == 0.0  # "Makes" may be the town
    assert cue.agreement("n", 1.0, 2, capitalised=False) == 0.0
    assert cue.agreement(None, 1.0, 0, capitalised=False) == 0.0
