"""A tiny WordNet + GeoNames-shaped graph for make-qa and few-shot tests: a hypernym tree,
meronyms, countries and cities, and two ambiguous labels ("bank", "Paris") that a question cannot
name unambiguously. (tests/qa/qa_graph.py is the KGQA model's fixture; this one is make-qa's.)"""

from __future__ import annotations

from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources.base import Source

# id, label, kind
SYNSETS = [
    ("wn:00000001-n", "animal", "wordnet:noun.Tops"),
    ("wn:00000002-n", "mammal", "wordnet:noun.animal"),
    ("wn:00000003-n", "carnivore", "wordnet:noun.animal"),
    ("wn:00000004-n", "canine", "wordnet:noun.animal"),
    ("wn:00000005-n", "dog", "wordnet:noun.animal"),
    ("wn:00000006-n", "wolf", "wordnet:noun.animal"),
    ("wn:00000007-n", "feline", "wordnet:noun.animal"),
    ("wn:00000008-n", "cat", "wordnet:noun.animal"),
    ("wn:00000009-n", "lion", "wordnet:noun.animal"),
    ("wn:00000010-n", "car", "wordnet:noun.artifact"),
    ("wn:00000011-n", "wheel", "wordnet:noun.artifact"),
    ("wn:00000012-n", "engine", "wordnet:noun.artifact"),
    ("wn:00000013-n", "tree", "wordnet:noun.plant"),
    ("wn:00000014-n", "branch", "wordnet:noun.plant"),
    ("wn:00000015-n", "forest", "wordnet:noun.object"),
    ("wn:00000016-n", "bank", "wordnet:noun.object"),
    ("wn:00000017-n", "bank", "wordnet:noun.group"),
    ("wn:00000018-n", "slope", "wordnet:noun.object"),
    ("wn:00000019-n", "institution", "wordnet:noun.group"),
    ("wn:00000020-n", "motor vehicle", "wordnet:noun.artifact"),
    ("wn:00000021-n", "self-propelled vehicle", "wordnet:noun.artifact"),
    ("wn:00000022-n", "plant", "wordnet:noun.Tops"),
    ("wn:00000023-n", "woody plant", "wordnet:noun.plant"),
]
HYPERNYMS = [  # child, parent (each pointer's hyponym inverse is written too, as WordNet does)
    ("mammal", "animal"), ("carnivore", "mammal"), ("canine", "carnivore"), ("dog", "canine"), ("wolf", "canine"),
    ("feline", "carnivore"), ("cat", "feline"), ("lion", "feline"), ("car", "motor vehicle"),
    ("motor vehicle", "self-propelled vehicle"), ("tree", "woody plant"), ("woody plant", "plant"),
]
MERONYMS = [  # whole, relation, part
    ("car", "part_meronym", "wheel"), ("car", "part_meronym", "engine"), ("tree", "part_meronym", "branch"),
    ("forest", "member_meronym", "tree"),
]
INVERSE = {"part_meronym": "part_holonym", "member_meronym": "member_holonym"}

CONTINENTS = [("geonames:6255148", "Europe"), ("geonames:6255149", "North America")]
COUNTRIES = [  # id, name, continent, capital city name
    ("geonames:3017382", "France", "Europe", "Paris"), ("geonames:2921044", "Germany", "Europe", "Berlin"),
    ("geonames:2510769", "Spain", "Europe", "Madrid"), ("geonames:3175395", "Italy", "Europe", "Rome"),
    ("geonames:6252001", "United States", "North America", None),
]
CITIES = [  # id, name, country
    ("geonames:2988507", "Paris", "France"), ("geonames:2996944", "Lyon", "France"),
    ("geonames:2950159", "Berlin", "Germany"), ("geonames:2867714", "Munich", "Germany"),
    ("geonames:3117735", "Madrid", "Spain"), ("geonames:3128760", "Barcelona", "Spain"),
    ("geonames:3169070", "Rome", "Italy"), ("geonames:3173435", "Milan", "Italy"),
    ("geonames:4717560", "Paris", "United States"), ("geonames:4671654", "Austin", "United States"),
]
NEIGHBOURS = [("France", "Germany"), ("France", "Spain"), ("France", "Italy")]  # both directions written


class WnGeoFixtureSource(Source):
    name = "wn-geo-fixture"

    @classmethod
    def from_spec(cls, argument):
        return cls()

    @property
    def spec(self) -> str:
        return "wn-geo-fixture"

    def checksum(self) -> str:
        return "wn-geo-fixture-v1"

    def emit(self, builder: GraphBuilder) -> None:
        builder.begin_source(self.spec, self.name, self.checksum())
        synset = {}
        for ext, label, kind in SYNSETS:
            builder.entity(ext, label=label, kind=kind, text=f"{label}, a synset")
            builder.alias(label, ext, 1.0)
            synset.setdefault(label, ext)
        for child, parent in HYPERNYMS:
            builder.triple(synset[child], "wnrel:hypernym", synset[parent])
            builder.triple(synset[parent], "wnrel:hyponym", synset[child])
        builder.triple("wn:00000016-n", "wnrel:hypernym", "wn:00000018-n")  # bank (slope)
        builder.triple("wn:00000017-n", "wnrel:hypernym", "wn:00000019-n")  # bank (institution)
        for whole, rel, part in MERONYMS:
            builder.triple(synset[whole], f"wnrel:{rel}", synset[part])
            builder.triple(synset[part], f"wnrel:{INVERSE[rel]}", synset[whole])
        place = {}
        for ext, name in CONTINENTS:
            builder.entity(ext, label=name, kind="geonames:continent", text=f"{name}, a continent")
            builder.alias(name, ext, 1.0)
            place[name] = ext
        for ext, name, continent, _ in COUNTRIES:
            builder.entity(ext, label=name, kind="geonames:country", text=f"{name}, a country")
            builder.alias(name, ext, 1.0)
            place[name] = ext
            builder.triple(ext, "gnrel:continent", place[continent])
        for ext, name, country in CITIES:
            builder.entity(ext, label=name, kind="geonames:city", text=f"{name}, a city in {country}")
            builder.alias(name, ext, 1.0)
            builder.triple(ext, "gnrel:country", place[country])
            place.setdefault(name, ext)  # the first Paris is France's
        for ext, _, _, capital in COUNTRIES:
            if capital:
                builder.triple(ext, "gnrel:capital", place[capital])
        for a, b in NEIGHBOURS:
            builder.triple(place[a], "gnrel:neighbour", place[b])
            builder.triple(place[b], "gnrel:neighbour", place[a])


def build_wn_geo_graph(out):
    """Build the fixture into ``out`` (no SPARQL store: not needed, and slower) and load it."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    return KnowledgeGraph.load(build_graph([WnGeoFixtureSource()], out, store=False))
