"""Prefixes for compact external ids (CURIEs) and the vocabulary kgnlu writes into its stores.

Entities keep a CURIE as their external id when a prefix below matches (``wn:02084071-n``,
``geonames:2988507``), else their full IRI. ``expand``/``compact`` convert between the two.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

PREFIXES: dict[str, str] = {
    # Princeton's own WordNet RDF id scheme: <http://wordnet-rdf.princeton.edu/id/02084071-n>.
    "wn": "http://wordnet-rdf.princeton.edu/id/",
    # WordNet pointer types as relations (hypernym, part_meronym, ...); sense-level under "sense/".
    "wnrel": "https://w3id.org/kgnlu/wordnet/",
    # GeoNames' own feature URIs: <https://sws.geonames.org/2988507/> (trailing slash dropped).
    "geonames": "https://sws.geonames.org/",
    # Relations of the GeoNames source (country, continent, capital, neighbour, us_state, ...).
    "gnrel": "https://w3id.org/kgnlu/geonames/",
    # kgnlu's own vocabulary (kind, alias prior, ...).
    "kgnlu": "https://w3id.org/kgnlu/ns#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "schema": "https://schema.org/",
}

# Sources whose records carry no IRIs (TSV files, PyKEEN data sets) mint ids under this scheme:
# the CURIE ``nations:brazil`` expands to ``urn:kgnlu:nations:brazil``.
MINTED_SCHEME = "urn:kgnlu:"

RDFS_LABEL = PREFIXES["rdfs"] + "label"
RDFS_COMMENT = PREFIXES["rdfs"] + "comment"
SKOS_ALT_LABEL = PREFIXES["skos"] + "altLabel"
OWL_SAME_AS = PREFIXES["owl"] + "sameAs"
KGNLU_KIND = PREFIXES["kgnlu"] + "kind"

# Literal-valued predicates that become labels, aliases or entity text when an RDF source is read.
LABEL_PREDICATES = frozenset(
    PREFIXES[p] + local
    for p, local in [("rdfs", "label"), ("skos", "prefLabel"), ("schema", "name")]
)
ALIAS_PREDICATES = frozenset(
    PREFIXES[p] + local for p, local in [("skos", "altLabel"), ("schema", "alternateName")]
)
TEXT_PREDICATES = frozenset(
    PREFIXES[p] + local
    for p, local in [("rdfs", "comment"), ("skos", "definition"), ("schema", "description")]
)


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[_\-.\s]+")


def local_name(iri_or_curie: str) -> str:
    """The last segment of an IRI or CURIE: ``http://ex.org/ns#dependsOn`` → ``dependsOn``."""
    tail = re.split(r"[#/:]", iri_or_curie.rstrip("/#"))[-1]
    return unquote(tail) or iri_or_curie


def name_words(name: str) -> str:
    """An identifier as words, case kept: ``AdaLovelace`` → "Ada Lovelace", ``has_part`` → "has part"."""
    return " ".join(_SEPARATORS.sub(" ", _CAMEL.sub(" ", name)).split())


def mint(namespace: str, local: str) -> str:
    """CURIE for a record without an IRI: ``mint("nations", "south korea") == "nations:south%20korea"``.

    The builder registers ``namespace`` as a prefix for ``urn:kgnlu:NAMESPACE:`` in the graph's
    manifest, so the CURIE expands to a real IRI for SPARQL and RDF export.
    """
    return f"{namespace}:{quote(local, safe='')}"


def minted_prefix(namespace: str) -> str:
    return f"{MINTED_SCHEME}{namespace}:"


def expand(curie_or_iri: str, prefixes: dict[str, str] = PREFIXES) -> str:
    """Full IRI of a CURIE (``wn:x`` → ``http://wordnet-rdf.princeton.edu/id/x``).

    Anything whose prefix is not in ``prefixes`` is already an IRI and passes through unchanged.
    """
    prefix, sep, local = curie_or_iri.partition(":")
    if sep and prefix in prefixes:
        return prefixes[prefix] + local
    return curie_or_iri


def compact(iri: str, prefixes: dict[str, str] = PREFIXES) -> str:
    """CURIE for an IRI under a known prefix (longest base wins), else the IRI itself."""
    best = ""
    for prefix, base in prefixes.items():
        if iri.startswith(base) and len(iri) > len(base) and len(base) > len(prefixes.get(best, "")):
            best = prefix
    return f"{best}:{iri[len(prefixes[best]):]}" if best else iri
