"""A tiny graph for linker tests: two Parises, two banks, a sameAs pair, rivers and money."""

from __future__ import annotations

from pathlib import Path

from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources.base import Source

# id, label, kind, text, [(alias, weight)]
ENTITIES = [
    ("geo:paris_fr", "Paris", "geonames:city", "Paris, a city in France; population 2,138,551",
     [("Paris", 0.9), ("City of Light", 1.0)]),
    ("geo:paris_tx", "Paris", "geonames:city", "Paris, a city in Texas, United States; population 24,782",
     [("Paris", 0.1)]),
    ("geo:france", "France", "geonames:country", "France, a country in Europe; capital Paris", [("France", 1.0)]),
    ("geo:texas", "Texas", "geonames:us_state", "Texas, a state of the United States", [("Texas", 1.0)]),
    ("geo:us", "United States", "geonames:country", "United States, a country in North America",
     [("United States", 1.0), ("US", 1.0)]),
    ("geo:nyc", "New York City", "geonames:city", "New York City, a city in New York, United States",
     [("New York City", 1.0), ("New York", 0.3)]),
    ("geo:ny", "New York", "geonames:us_state", "New York, a state of the United States", [("New York", 0.7)]),
    ("geo:london", "London", "geonames:city", "London, a city in United Kingdom", [("London", 1.0)]),
    ("wn:00000001-n", "Paris", "wordnet:noun.location",
     "the capital and largest city of France; international center of culture", [("Paris", 1.0)]),
    ("wn:00000002-n", "bank", "wordnet:noun.object",
     "sloping land (especially the slope beside a body of water such as a river or stream)",
     [("bank", 0.55)]),
    ("wn:00000003-n", "depository financial institution", "wordnet:noun.group",
     "a financial institution that accepts deposits and channels the money into lending activities",
     [("bank", 0.45), ("depository financial institution", 1.0)]),
    ("wn:00000004-v", "bank", "wordnet:verb.possession", "do business with a bank or keep an account at a bank",
     [("bank", 0.05)]),
    ("wn:00000005-n", "river", "wordnet:noun.object", "a large natural stream of water", [("river", 1.0)]),
    ("wn:00000006-n", "money", "wordnet:noun.possession", "the most common medium of exchange; deposits in a bank",
     [("money", 1.0)]),
    ("wn:00000007-n", "city", "wordnet:noun.location", "a large and densely populated urban area",
     [("city", 1.0)]),
    # GeoNames carries junk alternate names like this one ("The Bank" for a town).
    ("geo:bankville", "Bankville", "geonames:city", "Bankville, a city in Texas, United States",
     [("Bankville", 1.0), ("The Bank", 1.0)]),
    ("wn:00000008-n", "dog", "wordnet:noun.animal", "a domesticated carnivorous mammal", [("dog", 1.0)]),
]
TRIPLES = [
    ("geo:paris_fr", "gnrel:country", "geo:france"),
    ("geo:paris_tx", "gnrel:us_state", "geo:texas"),
    ("geo:paris_tx", "gnrel:country", "geo:us"),
    ("geo:texas", "gnrel:country", "geo:us"),
    ("geo:nyc", "gnrel:us_state", "geo:ny"),
    ("geo:ny", "gnrel:country", "geo:us"),
    ("wn:00000001-n", "owl:sameAs", "geo:paris_fr"),
    ("wn:00000002-n", "wnrel:hypernym", "wn:00000005-n"),
    ("wn:00000003-n", "wnrel:hypernym", "wn:00000006-n"),
]


class FixtureSource(Source):
    """A source of ``entities`` (rows like :data:`ENTITIES`) and ``triples``; tests with graphs of
    their own pass both and a ``checksum`` of their own."""

    name = "fixture"

    def __init__(self, entities=ENTITIES, triples=TRIPLES, checksum: str = "fixture-v1"):
        self.entities, self.triples, self._checksum = entities, triples, checksum

    @classmethod
    def from_spec(cls, argument):
        return cls()

    @property
    def spec(self) -> str:
        return "fixture"

    def checksum(self) -> str:
        return self._checksum

    def emit(self, builder: GraphBuilder) -> None:
        builder.begin_source(self.spec, self.name, self.checksum())
        builder.namespace("geo")
        for ext, label, kind, text, aliases in self.entities:
            builder.entity(ext, label=label, kind=kind, text=text)
            for surface, weight in aliases:
                builder.alias(surface, ext, weight)
        for h, r, t in self.triples:
            builder.triple(h, r, t)


def build_fixture_graph(out: Path, source: FixtureSource | None = None):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    return KnowledgeGraph.load(build_graph([source or FixtureSource()], out, store=False))
