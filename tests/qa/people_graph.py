"""A small RDF graph written the way people write their own: no labels on most things (names come
from IRI local names: ``ex:AdaLovelace`` → "Ada Lovelace", ``ex:bornIn`` → "born in"), classes by
``rdf:type`` with a ``rdfs:subClassOf``, one declared and labelled predicate, and an ``owl:sameAs``
pair (``ex:Britain`` = ``ex:UnitedKingdom``) whose twin carries a relation the other lacks."""

from __future__ import annotations

from pathlib import Path

EX = "http://example.org/people#"
TURTLE = """
@prefix ex: <http://example.org/people#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .

ex:Person a owl:Class .
ex:Scientist a owl:Class ; rdfs:subClassOf ex:Person .
ex:City a owl:Class .
ex:Country a owl:Class .
ex:Company a owl:Class ; rdfs:label "business" .
ex:worksFor a owl:ObjectProperty ; rdfs:label "works for" .

ex:AdaLovelace a ex:Scientist ; ex:bornIn ex:London ; ex:worksFor ex:AnalyticalSociety .
ex:AlanTuring a ex:Scientist ; ex:bornIn ex:London ; ex:worksFor ex:BletchleyPark .
ex:MarieCurie a ex:Scientist ; ex:bornIn ex:Warsaw ; ex:worksFor ex:SorbonneLab .
ex:VictorHugo a ex:Person ; ex:bornIn ex:Besancon .
ex:FredericChopin a ex:Person ; ex:bornIn ex:Warsaw .
ex:GustaveEiffel a ex:Person ; ex:bornIn ex:Dijon ; ex:worksFor ex:EiffelCompany .

ex:London a ex:City ; ex:locatedIn ex:UnitedKingdom .
ex:Warsaw a ex:City ; ex:locatedIn ex:Poland .
ex:Besancon a ex:City ; ex:locatedIn ex:France .
ex:Dijon a ex:City ; ex:locatedIn ex:France .
ex:Paris a ex:City ; ex:locatedIn ex:France .
ex:Krakow a ex:City ; ex:locatedIn ex:Poland .

ex:UnitedKingdom a ex:Country ; ex:hasCapital ex:London .
ex:Poland a ex:Country ; ex:hasCapital ex:Warsaw .
ex:France a ex:Country ; ex:hasCapital ex:Paris .

ex:AnalyticalSociety a ex:Company ; ex:basedIn ex:London .
ex:BletchleyPark a ex:Company ; ex:basedIn ex:London .
ex:SorbonneLab a ex:Company ; ex:basedIn ex:Paris .
ex:EiffelCompany a ex:Company ; ex:basedIn ex:Paris .

ex:Britain owl:sameAs ex:UnitedKingdom ; ex:memberOf ex:Commonwealth .
ex:Commonwealth ex:foundedBy ex:Britain .
"""
# (subject, predicate, object) local names of the statements between things (no rdf:type)
FACTS = [
    ("AdaLovelace", "bornIn", "London"), ("AlanTuring", "bornIn", "London"), ("MarieCurie", "bornIn", "Warsaw"),
    ("VictorHugo", "bornIn", "Besancon"), ("FredericChopin", "bornIn", "Warsaw"), ("GustaveEiffel", "bornIn", "Dijon"),
    ("AdaLovelace", "worksFor", "AnalyticalSociety"), ("AlanTuring", "worksFor", "BletchleyPark"),
    ("MarieCurie", "worksFor", "SorbonneLab"), ("GustaveEiffel", "worksFor", "EiffelCompany"),
    ("London", "locatedIn", "UnitedKingdom"), ("Warsaw", "locatedIn", "Poland"), ("Besancon", "locatedIn", "France"),
    ("Dijon", "locatedIn", "France"), ("Paris", "locatedIn", "France"), ("Krakow", "locatedIn", "Poland"),
    ("UnitedKingdom", "hasCapital", "London"), ("Poland", "hasCapital", "Warsaw"), ("France", "hasCapital", "Paris"),
    ("AnalyticalSociety", "basedIn", "London"), ("BletchleyPark", "basedIn", "London"),
    ("SorbonneLab", "basedIn", "Paris"), ("EiffelCompany", "basedIn", "Paris"),
    ("Britain", "memberOf", "Commonwealth"), ("Commonwealth", "foundedBy", "Britain"),
]


def build_people_graph(out: Path):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    out.mkdir(parents=True, exist_ok=True)
    (out / "people.ttl").write_text(TURTLE, encoding="utf-8")
    return KnowledgeGraph.load(build_graph([str(out / "people.ttl")], out / "graph", store=False))
