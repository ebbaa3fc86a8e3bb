"""A tiny geography + WordNet-like graph for QA tests, and a QA data set over it written in the
`kgnlu data make-qa` format (train/dev/test/paraphrase_dev JSONL: paraphrase_dev twins the dev
questions in held-out wordings), answers computed by walking the fixture's own triple list (not by
kgnlu)."""

from __future__ import annotations

import json
from pathlib import Path

from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources.base import Source

CONTINENTS = ["Europe", "Asia", "Africa", "Oceania"]
# country, continent, capital, other cities
COUNTRIES = [
    ("France", "Europe", "Paris", ["Lyon", "Marseille"]),
    ("Germany", "Europe", "Berlin", ["Munich", "Hamburg"]),
    ("Spain", "Europe", "Madrid", ["Barcelona", "Valencia"]),
    ("Italy", "Europe", "Rome", ["Milan", "Naples"]),
    ("Japan", "Asia", "Tokyo", ["Osaka", "Kyoto"]),
    ("China", "Asia", "Beijing", ["Shanghai", "Wuhan"]),
    ("India", "Asia", "New Delhi", ["Mumbai", "Chennai"]),
    ("Nepal", "Asia", "Kathmandu", ["Pokhara"]),
    ("Kenya", "Africa", "Nairobi", ["Mombasa", "Kisumu"]),
    ("Egypt", "Africa", "Cairo", ["Alexandria", "Giza"]),
    ("Nigeria", "Africa", "Abuja", ["Lagos", "Kano"]),
    ("Ghana", "Africa", "Accra", ["Kumasi"]),
    ("Australia", "Oceania", "Canberra", ["Sydney", "Perth"]),
    ("Fiji", "Oceania", "Suva", ["Nadi"]),
]
NEIGHBOURS = [("France", "Germany"), ("France", "Spain"), ("France", "Italy"), ("Germany", "Italy"),
              ("China", "India"), ("China", "Nepal"), ("India", "Nepal"), ("Kenya", "Egypt"),
              ("Nigeria", "Ghana"), ("Australia", "Fiji"), ("Japan", "China"), ("Egypt", "Nigeria")]
# WordNet-like part for multiple choice: id, label, kind, gloss
WORDS = [
    ("shovel", "wordnet:noun.artifact", "a hand tool for lifting loose material such as soil"),
    ("excavator", "wordnet:noun.artifact", "a large machine for digging and moving earth on building sites"),
    ("hand tool", "wordnet:noun.artifact", "a tool used with workers' hands"),
    ("machine", "wordnet:noun.artifact", "any mechanical or electrical device that transmits or modifies energy"),
    ("tool", "wordnet:noun.artifact", "an implement used in the practice of a vocation"),
    ("garden", "wordnet:noun.artifact", "a plot of ground where plants are cultivated"),
    ("flower", "wordnet:noun.plant", "a plant cultivated for its blooms or blossoms"),
    ("gardening", "wordnet:noun.act", "the cultivation of plants"),
    ("house", "wordnet:noun.artifact", "a dwelling that serves as living quarters for one or more families"),
    ("foundation", "wordnet:noun.artifact", "lowest support of a structure"),
    ("construction", "wordnet:noun.act", "the act of constructing something"),
    ("building", "wordnet:noun.artifact", "a structure that has a roof and walls"),
]
WORD_TRIPLES = [
    ("shovel", "wnrel:hypernym", "hand tool"), ("hand tool", "wnrel:hypernym", "tool"),
    ("excavator", "wnrel:hypernym", "machine"), ("flower", "wnrel:domain_topic", "gardening"),
    ("garden", "wnrel:domain_topic", "gardening"), ("shovel", "wnrel:domain_topic", "gardening"),
    ("house", "wnrel:hypernym", "building"), ("foundation", "wnrel:part_holonym", "building"),
    ("excavator", "wnrel:domain_topic", "construction"), ("building", "wnrel:domain_topic", "construction"),
]

# (template id, relation path, question templates used in train/dev/test, held-out (paraphrase_dev) templates)
TEMPLATES = [
    ("city_country", ["gnrel:country"], ["Which country is {} in?", "{} is a city in which country?"],
     ["In what nation can one find {}?"]),
    ("country_capital", ["gnrel:capital"], ["What is the capital of {}?", "Which city is the capital of {}?"],
     ["Name the seat of government of {}."]),
    ("country_continent", ["gnrel:continent"], ["Which continent is {} on?", "{} lies on which continent?"],
     ["On what landmass is the nation {}?"]),
    ("country_cities", ["gnrel:country^-1"], ["Which cities are in {}?", "Name a city in {}."],
     ["Give me a town located in {}."]),
    ("city_continent", ["gnrel:country", "gnrel:continent"],
     ["Which continent is the city {} in?", "{} is a city on which continent?"],
     ["On what landmass is the town {} found?"]),
    ("city_capital", ["gnrel:country", "gnrel:capital"],
     ["What is the capital of the country of {}?", "{} is in a country whose capital is what?"],
     ["Name the seat of government of the nation containing {}."]),
    ("city_neighbour_capital", ["gnrel:country", "gnrel:neighbour", "gnrel:capital"],
     ["What is the capital of a country bordering the country of {}?",
      "{} is in a country; which capitals do its neighbouring countries have?"],
     ["Name the seat of government of a nation next to the one containing {}."]),
]


def ext(name: str) -> str:
    return "geo:" + name.lower().replace(" ", "_")


def word_ext(name: str) -> str:
    return "wn:" + name.replace(" ", "_")


def fixture_triples() -> list[tuple[str, str, str]]:
    out = []
    for country, continent, capital, cities in COUNTRIES:
        out.append((ext(country), "gnrel:continent", ext(continent)))
        out.append((ext(country), "gnrel:capital", ext(capital)))
        for city in [capital, *cities]:
            out.append((ext(city), "gnrel:country", ext(country)))
    for a, b in NEIGHBOURS:
        out += [(ext(a), "gnrel:neighbour", ext(b)), (ext(b), "gnrel:neighbour", ext(a))]
    out += [(word_ext(h), r, word_ext(t)) for h, r, t in WORD_TRIPLES]
    return out


class QAFixtureSource(Source):
    name = "qafixture"

    @classmethod
    def from_spec(cls, argument):
        return cls()

    @property
    def spec(self) -> str:
        return "qafixture"

    def checksum(self) -> str:
        return "qafixture-v1"

    def emit(self, builder: GraphBuilder) -> None:
        builder.begin_source(self.spec, self.name, self.checksum())
        builder.namespace("geo")
        builder.namespace("wn")
        for c in CONTINENTS:
            builder.entity(ext(c), label=c, kind="geonames:continent", text=f"{c}, a continent")
            builder.alias(c, ext(c), 1.0)
        for country, continent, capital, cities in COUNTRIES:
            builder.entity(ext(country), label=country, kind="geonames:country",
                           text=f"{country}, a country in {continent}; capital {capital}")
            builder.alias(country, ext(country), 1.0)
            for city in [capital, *cities]:
                builder.entity(ext(city), label=city, kind="geonames:city", text=f"{city}, a city in {country}")
                builder.alias(city, ext(city), 1.0)
        for word, kind, gloss in WORDS:
            builder.entity(word_ext(word), label=word, kind=kind, text=gloss)
            builder.alias(word, word_ext(word), 1.0)
        for h, r, t in fixture_triples():
            builder.triple(h, r, t)


def build_qa_graph(out: Path):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    return KnowledgeGraph.load(build_graph([QAFixtureSource()], out, store=False))


def walk(topic: str, relations: list[str]) -> set[str]:
    """Answers by walking the fixture's triple list (independent of kgnlu's walker)."""
    triples = fixture_triples()
    frontier = {topic}
    for rel in relations:
        inverse = rel.endswith("^-1")
        name = rel.removesuffix("^-1")
        frontier = {h if inverse else t for h, r, t in triples for node in frontier
                    if r == name and (t if inverse else h) == node}
    return frontier - {topic}


def _topics(template_id: str) -> list[str]:
    if template_id.startswith("city"):
        return [city for _, _, capital, cities in COUNTRIES for city in [capital, *cities]]
    return [country for country, *_ in COUNTRIES]


def make_qa_data(out: Path) -> Path:
    """train/dev/test split by topic entity (every 5th topic to test, every 7th to dev); each dev topic
    also gets one paraphrase_dev question in its path's held-out wording."""
    out.mkdir(parents=True, exist_ok=True)
    labels = {ext(n): n for n in CONTINENTS + [c for c, *_ in COUNTRIES]}
    labels.update({ext(c): c for _, _, cap, cities in COUNTRIES for c in [cap, *cities]})
    rows = {s: [] for s in ("train", "dev", "test", "paraphrase_dev")}
    for tid, relations, templates, paraphrases in TEMPLATES:
        for i, name in enumerate(_topics(tid)):
            answers = sorted(walk(ext(name), relations))
            if not answers:
                continue
            split = "test" if i % 5 == 0 else "dev" if i % 7 == 3 else "train"
            uses = [(split, t, f"{tid}/t{j}") for j, t in enumerate(templates)]
            if split == "test":
                j = i % len(templates)
                uses = [("test", templates[j], f"{tid}/t{j}")]
            if split == "dev":
                uses.append(("paraphrase_dev", paraphrases[0], f"{tid}/p0"))
            for s, template, template_id in uses:
                q = template.format(name)
                start = q.index(name)
                rows[s].append({"id": f"{s}-{len(rows[s])}", "question": q, "topic": ext(name),
                                "topic_label": name, "topic_span": [start, start + len(name)],
                                "hops": len(relations), "relations": relations, "template_id": template_id,
                                "answers": answers, "answer_labels": [labels[a] for a in answers]})
    for s, items in rows.items():
        (out / f"{s}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    (out / "meta.json").write_text(json.dumps({"source": "qa fixture"}), encoding="utf-8")
    return out
