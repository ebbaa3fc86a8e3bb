"""Short names for people and organisations (kgnlu.kg.short_names): family names with priors below
the full name's, organisation names without legal forms or class words, common words left out,
accents folded. Tiny Turtle graphs written here; a stub stands in for WordNet except where marked."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.short_names import RULES_VERSION, SHORT_WEIGHT, add_short_names
from kgnlu.kg.sources.rdf import RdfSource
from tests.conftest import require_wordnet

PREFIXES = """@prefix ex: <http://example.org/t#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""
PEOPLE = PREFIXES + """
ex:Person a rdfs:Class ; rdfs:label "person" .
ex:Conductor rdfs:subClassOf ex:Person ; rdfs:label "conductor" .
ex:karajan a ex:Conductor ; rdfs:label "Herbert von Karajan" .
ex:rstrauss a ex:Person ; rdfs:label "Richard Strauss" .
ex:jstrauss a ex:Person ; rdfs:label "Johann Strauss II" .
ex:wood a ex:Conductor ; rdfs:label "Henry Wood" .
ex:dupre a ex:Person ; rdfs:label "Jacqueline du Pré" .
ex:dvorak a ex:Person ; rdfs:label "Antonín Dvořák" .
ex:king a ex:Person ; rdfs:label "Martin Luther King, Jr." .
ex:bach a ex:Person ; rdfs:label "Bach, Johann Sebastian" .
ex:madonna a ex:Person ; rdfs:label "Madonna" .
ex:anon a ex:Person ; rdfs:label "the unknown soldier" .
ex:AdaLovelace a ex:Person .
ex:rwagner a ex:Person ; rdfs:label "Richard Wagner" .
ex:wagner_town a ex:Town ; rdfs:label "Wagner" .
"""
ORGS = PREFIXES + """
ex:Organisation rdfs:label "organisation" .
ex:RecordLabel rdfs:subClassOf ex:Organisation ; rdfs:label "record label" .
ex:Festival rdfs:subClassOf ex:Organisation ; rdfs:label "music festival" .
ex:dg a ex:RecordLabel ; rdfs:label "Deutsche Grammophon GmbH" .
ex:emi a ex:RecordLabel ; rdfs:label "EMI Records Ltd" .
ex:acme a ex:Company ; rdfs:label "Acme Holdings Co., Ltd." .
ex:boeing a ex:Company ; rdfs:label "The Boeing Company" .
ex:apple a ex:Company ; rdfs:label "Apple Inc." .
ex:festival a ex:Festival ; rdfs:label "Salzburg Festival" .
ex:salzburg a ex:City ; rdfs:label "Salzburg" .
ex:initech rdfs:label "Initech LLC" .
ex:widget a ex:Product ; rdfs:label "Widget Ltd" .
"""


class StubWordNet:
    """What add_short_names asks WordNet: lemmas, hypernym closures, common words."""

    ANCESTORS = {"conductor": {"conductor", "musician", "person"}, "composer": {"composer", "person"},
                 "orchestra": {"orchestra", "organization"}, "publisher": {"publisher", "person", "organization"},
                 "town": {"town", "location"}}
    COMMON = {"wood", "apple"}

    def is_lemma(self, word: str, pos: str) -> bool:
        return word in self.ANCESTORS

    def ancestors(self, word: str) -> frozenset[str]:
        return frozenset(self.ANCESTORS.get(word, ()))

    def is_common_word(self, word: str) -> bool:
        return word.lower() in self.COMMON


def build(tmp_path: Path, turtle: str, wordnet=None) -> tuple[GraphBuilder, dict[str, dict[str, float]], int]:
    """(builder after finalize, {alias key: {entity label or id: prior}}, aliases added)."""
    path = tmp_path / "g.ttl"
    path.write_text(turtle, encoding="utf-8")
    builder = GraphBuilder("t")
    RdfSource(path).emit(builder)
    added = add_short_names(builder, wordnet=wordnet or StubWordNet())
    data = builder.finalize()
    table: dict[str, dict[str, float]] = {}
    for i, key in enumerate(data.alias_keys):
        lo, hi = int(data.alias_indptr[i]), int(data.alias_indptr[i + 1])
        for e, p in zip(data.alias_entities[lo:hi].tolist(), data.alias_priors[lo:hi].tolist(), strict=True):
            table.setdefault(key, {})[data.entity_labels[e] or data.entity_ids[e]] = round(p, 4)
    return builder, table, added


def test_family_names_get_a_prior_below_the_full_name(tmp_path):
    _, aliases, added = build(tmp_path, PEOPLE)
    assert added > 0
    assert aliases["karajan"] == {"Herbert von Karajan": 1.0}
    assert aliases["von karajan"] == {"Herbert von Karajan": 1.0}
    assert aliases["herbert von karajan"] == {"Herbert von Karajan": 1.0}
    # two people share a family name: the alias is shared, the prior split
    assert aliases["strauss"] == {"Richard Strauss": 0.5, "Johann Strauss II": 0.5}  # "II" is a suffix
    # a town's own name keeps 2/3 of the surface against a person's family name (weights 1 and 0.5)
    assert aliases["wagner"] == {"Wagner": pytest.approx(1 / (1 + SHORT_WEIGHT), abs=1e-4),
                                 "Richard Wagner": pytest.approx(SHORT_WEIGHT / (1 + SHORT_WEIGHT), abs=1e-4)}
    assert aliases["king"] == {"Martin Luther King, Jr.": 1.0}
    assert aliases["bach"] == {"Bach, Johann Sebastian": 1.0}  # family name first
    assert aliases["lovelace"] == {"Ada Lovelace": 1.0}  # an unlabelled person is named by the IRI first


def test_common_words_particles_and_accents(tmp_path):
    _, aliases, _ = build(tmp_path, PEOPLE)
    assert "wood" not in aliases  # "wood" is a common word: Henry Wood keeps his full name only
    assert aliases["henry wood"] == {"Henry Wood": 1.0}
    assert aliases["du pré"] == {"Jacqueline du Pré": 1.0} and aliases["du pre"] == {"Jacqueline du Pré": 1.0}
    assert "pré" not in aliases and "pre" not in aliases  # "du" stays with the name in use
    assert aliases["dvořák"] == aliases["dvorak"] == aliases["antonin dvorak"] == {"Antonín Dvořák": 1.0}
    assert "madonna" in aliases and "the unknown soldier" in aliases
    assert "soldier" not in aliases  # not written as a name


def test_organisations_lose_legal_forms_and_class_words(tmp_path):
    _, aliases, _ = build(tmp_path, ORGS)
    assert aliases["deutsche grammophon"] == {"Deutsche Grammophon GmbH": 1.0}
    assert aliases["emi records"] == aliases["emi"] == {"EMI Records Ltd": 1.0}  # "Records" names its class
    assert aliases["acme holdings"] == {"Acme Holdings Co., Ltd.": 1.0}
    assert aliases["boeing"] == {"The Boeing Company": 1.0} and "the boeing" in aliases
    assert "apple" not in aliases  # a common word
    assert aliases["salzburg"] == {"Salzburg": 1.0}  # the festival never takes the city's name
    assert aliases["initech"] == {"Initech LLC": 1.0}  # untyped, but its label has a legal form
    assert "widget" not in aliases  # typed as something that is not an organisation


def test_class_kinds_come_from_the_graph_words_before_wordnet(tmp_path):
    turtle = PREFIXES + """
ex:Publisher rdfs:label "publisher" .
ex:Orchestra rdfs:label "orchestra" .
ex:p a ex:Publisher ; rdfs:label "Faber Music Ltd" .
ex:o a ex:Orchestra ; rdfs:label "Hallé Orchestra" .
ex:c a ex:Conductor ; rdfs:label "Mark Elder" .
ex:x a ex:Town ; rdfs:label "Lower Slaughter" .
"""
    _, aliases, _ = build(tmp_path, turtle)
    assert "faber music" in aliases  # "publisher" is one of ORG_WORDS although WordNet finds both
    assert aliases["hallé"] == aliases["halle"] == {"Hallé Orchestra": 1.0}
    assert aliases["elder"] == {"Mark Elder": 1.0}  # WordNet: a conductor is a person (local name)
    assert "slaughter" not in aliases  # a town is neither


def test_graphs_without_people_or_organisations_are_unchanged(tmp_path):
    turtle = PREFIXES + 'ex:a rdfs:label "Alpha Beta" ; ex:rel ex:b .\nex:b rdfs:label "Gamma" .\n'
    builder, aliases, added = build(tmp_path, turtle)
    assert added == 0 and set(aliases) == {"alpha beta", "gamma"}
    assert [s.kind for s in builder._sources] == ["rdf"]


def test_build_graph_records_the_rules_and_the_linker_finds_family_names(tmp_path):
    require_wordnet()
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph
    from kgnlu.kg.linker import EntityLinker

    (tmp_path / "g.ttl").write_text(PREFIXES + """
ex:karajan a ex:Composer ; rdfs:label "Herbert von Karajan" .
ex:wood a ex:Conductor ; rdfs:label "Henry Wood" .
ex:solti a ex:Conductor ; rdfs:label "Georg Solti" .
ex:dg a ex:Organization ; rdfs:label "Deutsche Grammophon GmbH" .
""", encoding="utf-8")
    kg = KnowledgeGraph.load(build_graph([str(tmp_path / "g.ttl")], tmp_path / "graph", store=False))
    assert {"short-names": RULES_VERSION}.items() <= {s["kind"]: s["checksum"] for s in kg.manifest["sources"]}.items()
    linker = EntityLinker.from_graph(kg, "fast", save=False)
    text = "Karajan and Solti both recorded for Deutsche Grammophon; the wood of the stage creaked."
    links = {link.surface: kg.entity_label(kg.index_of(link.entity)) for link in linker.link(text)}
    assert links == {"Karajan": "Herbert von Karajan", "Solti": "Georg Solti",
                     "Deutsche Grammophon": "Deutsche Grammophon GmbH"}


def test_common_words_in_real_wordnet():
    from kgnlu.kg.sources.wordnet_lookup import WordNetLookup

    wn = WordNetLookup.open(require_wordnet())
    assert all(wn.is_common_word(w) for w in ("wood", "rattle", "mutter", "Apple"))
    # persons only, or a sense SemCor never saw ("bach": to live as a bachelor)
    assert not any(wn.is_common_word(w) for w in ("Bach", "Gould", "Strauss", "Karajan", "", "du Pré"))
