"""Cross-source equivalence: ``owl:sameAs`` between WordNet's places and GeoNames' entities.

WordNet names thousands of real places as *instance* synsets (France ``@i`` European country,
Paris ``@i`` national capital, Texas ``@i`` American state). :func:`link_equivalents` finds them
from the graph itself, never from a hand-made table:

1. Place classes. Walk up the hypernyms of each instance-hypernym target (``noun.location``
   synsets, and ``noun.object`` ones, where WordNet files "continent") until one is *named* (its
   first lemma) what it is: "continent" → ``geonames:continent``, "American state" and "federal
   district" → ``geonames:us_state``, "country"/"nation" → ``geonames:country``, "city"/"town"/
   "port"/"national capital"/"state capital" → ``geonames:city``. The first lemma, not any:
   "country" is also a lemma of "area" (as in "open country"), above "vicinity" and "seat".
   A place of no such class that holds a national capital (a part-holonym of one) and bears a
   GeoNames country's name is a country too: Estonia is a "Baltic State", Serbia a "geographical
   area", each with its capital.
2. Candidates. GeoNames entities of that kind sharing a normalised name with any of the
   synset's lemmas ("City of Light" counts, if GeoNames has it).
3. Context. The GeoNames places the synset is known to lie in: the links already made for its
   WordNet part-holonyms (Paris ``#p`` France, followed up to three steps: Cambridge → England →
   United Kingdom), plus countries, US states and continents its gloss names ("a town in
   northeastern Texas"). Kinds are linked outermost first (continents, states, countries, then
   cities), so cities can use the countries' links.
4. Choice. With a context (its innermost places: Idaho, not also the United States), only
   candidates lying in it (in its country, state or continent, or being it) qualify. For a city,
   none qualifying means no link: an ancient "city in Asia Minor" is not Troy, Michigan. For a
   continent, US state or country the context only breaks ties, since their glosses mostly name
   places around or inside them ("bordered by India", "containing 50 states"). Among those left,
   a WordNet capital prefers a GeoNames capital, a GeoNames main name beats an alternate name,
   a GeoNames main name equal to WordNet's first lemma beats the other lemmas, then the most
   populous (the highest GeoNames alias prior) wins.
5. Renamed countries. A country still unlinked takes the GeoNames country whose capital is the
   twin of one of its cities ("Czech Republic" → Czechia through Prague, "Swaziland" → Eswatini
   through Mbabane, "Holy See" → Vatican through Vatican City), unless that country is already
   another synset's twin by name (England's London is the United Kingdom's capital).
"""

from __future__ import annotations

import re
from collections import defaultdict

from kgnlu.kg.graph_builder import GraphBuilder, alias_key

SAME_AS = "owl:sameAs"

# Names (normalised first lemmas) of WordNet class synsets → the GeoNames kind their instances
# are. Where one ancestor chain meets several, the nearest class decides.
CLASS_LEMMAS: dict[str, str] = {
    "continent": "geonames:continent",
    "american state": "geonames:us_state",
    "federal district": "geonames:us_state",  # GeoNames files the District of Columbia as one
    "country": "geonames:country",
    "nation": "geonames:country",
    "city": "geonames:city",
    "town": "geonames:city",
    "port": "geonames:city",
    "national capital": "geonames:city",
    "state capital": "geonames:city",
}
CAPITAL_LEMMAS = frozenset({"national capital"})
LINK_ORDER = ("geonames:continent", "geonames:us_state", "geonames:country", "geonames:city")
COUNTRY, CITY = "geonames:country", "geonames:city"
# Lexicographer files of place classes: "continent" is a noun.object (a landmass), the rest are
# noun.location; elsewhere "port" is a wine and "state" a political body (noun.group).
PLACE_LEXNAMES = frozenset({"wordnet:noun.location", "wordnet:noun.object"})
CLASS_SEARCH_DEPTH = 6  # hypernym steps from an instance's class to a lemma above
HOLONYM_DEPTH = 3  # part-holonym steps followed for context (city → region → country)
MAX_NGRAM = 4  # longest place name looked up in glosses ("Democratic Republic of the Congo" is 5,
# but such names are rare in glosses, which say "Congo")
_WORD = re.compile(r"[^\W_]+(?:[-'.][^\W_]+)*", re.UNICODE)


def link_equivalents(builder: GraphBuilder) -> int:
    """Add ``owl:sameAs`` (WordNet synset → GeoNames entity) triples; returns how many were added.

    The triples count toward the builder's current source: call
    ``builder.begin_source("equivalence", "equivalence")`` first to report them apart.
    """
    instances: dict[str, list[str]] = defaultdict(list)
    for inst, cls in builder.triples_with_relation("wnrel:instance_hypernym"):
        instances[inst].append(cls)
    if not instances:
        return 0
    hypernyms: dict[str, list[str]] = defaultdict(list)
    for child, parent in builder.triples_with_relation("wnrel:hypernym"):
        hypernyms[child].append(parent)
    holonyms: dict[str, list[str]] = defaultdict(list)
    for part, whole in builder.triples_with_relation("wnrel:part_holonym"):
        holonyms[part].append(whole)

    names: dict[str, set[str]] = defaultdict(set)  # wn entity → its normalised lemmas
    geo_by_name: dict[str, dict[str, float]] = defaultdict(dict)  # name → geonames entity → prior
    for key, ext, weight in builder.iter_aliases():
        if ext.startswith("wn:"):
            names[ext].add(key)
        elif ext.startswith("geonames:"):
            geo_by_name[key][ext] = weight

    containers = _containers(builder)
    capitals = {tail for _, tail in builder.triples_with_relation("gnrel:capital")}
    # Places a gloss may name: countries, US states and continents, by normalised name.
    regions: dict[str, set[str]] = defaultdict(set)
    for key, bucket in geo_by_name.items():
        for ext in bucket:
            if builder.kind_of(ext) in ("geonames:country", "geonames:us_state", "geonames:continent"):
                regions[key].add(ext)

    class_memo: dict[str, tuple[str | None, bool]] = {}

    def classify(cls: str) -> tuple[str | None, bool]:
        """(GeoNames kind, is a national capital) for an instance-hypernym target."""
        if cls not in class_memo:
            class_memo[cls] = _classify(cls, hypernyms, names, builder)
        return class_memo[cls]

    by_kind: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    unclassified: list[str] = []
    for inst, classes in instances.items():
        kinds = {}
        for cls in classes:
            kind, capital = classify(cls)
            if kind is not None:
                kinds[kind] = kinds.get(kind, False) or capital
        kind = next((k for k in LINK_ORDER if k in kinds), None)  # outermost kind; one link each
        if kind is None:
            unclassified.append(inst)
        else:
            by_kind[kind].append((inst, kinds[kind]))

    city_parts: dict[str, list[str]] = defaultdict(list)  # place → the cities in it
    capital_parts: dict[str, list[str]] = defaultdict(list)  # place → the national capitals in it
    for inst, is_capital in by_kind[CITY]:
        for whole in holonyms.get(inst, ()):
            city_parts[whole].append(inst)
            if is_capital:
                capital_parts[whole].append(inst)
    # Countries WordNet files under no country class ("Baltic State", "geographical area"): a
    # place holding a national capital and named like a GeoNames country. Both cues are needed:
    # Honshu holds Tokyo, and the colony Georgia (one of the thirteen) bears a country's name.
    country_names = {key for key, bucket in geo_by_name.items()
                     if any(builder.kind_of(e) == COUNTRY for e in bucket)}
    by_kind[COUNTRY] += [(inst, False) for inst in unclassified
                         if inst in capital_parts and names[inst] & country_names
                         and builder.kind_of(inst) == "wordnet:noun.location"]

    links: dict[str, str] = {}
    for kind in LINK_ORDER:
        for inst, is_capital in by_kind[kind]:
            candidates: dict[str, float] = {}
            for key in names[inst]:
                for ext, weight in geo_by_name.get(key, {}).items():
                    if builder.kind_of(ext) == kind:
                        candidates[ext] = max(candidates.get(ext, 0.0), weight)
            if not candidates:
                continue
            context = _holonym_context(inst, holonyms, links) | _gloss_context(builder.text_of(inst), regions)
            # Keep the innermost places: "Idaho" and "United States" mean Idaho, or every US
            # Lewiston would qualify.
            context = {c for c in context
                       if not any(c in containers.get(o, ()) for o in context if o != c)}
            if context:
                inside = {e: w for e, w in candidates.items()
                          if e in context or containers.get(e, set()) & context}
                # Binding for a city only (step 4): Finland's gloss names Russia, the United
                # States' names Alaska and Hawaii, and neither contains its subject.
                candidates = inside if inside or kind == CITY else candidates
            if candidates:
                lemmas, label = names[inst], alias_key(builder.label(inst) or "")
                links[inst] = max(candidates, key=lambda e: (
                    is_capital and e in capitals,  # WordNet's capital is GeoNames' capital
                    alias_key(builder.label(e) or "") in lemmas,  # own name beats alternate name
                    # ... and WordNet's main name beats its others: Taiwan, not China (a lemma of
                    # the synset Taiwan, "Nationalist China").
                    alias_key(builder.label(e) or "") == label,
                    candidates[e], e))
    _link_by_capital([inst for inst, _ in by_kind[COUNTRY]], city_parts, links,
                     {city: country for country, city in builder.triples_with_relation("gnrel:capital")})

    builder.relation(SAME_AS, label="same as")
    for inst, ext in links.items():
        builder.triple(inst, SAME_AS, ext)
    return len(links)


def _classify(cls: str, hypernyms: dict[str, list[str]], names: dict[str, set[str]],
              builder: GraphBuilder) -> tuple[str | None, bool]:
    """Breadth-first up the hypernyms of a class until a place class's first lemma names a kind."""
    frontier, seen = [cls], {cls}
    for _ in range(CLASS_SEARCH_DEPTH):
        for node in frontier:
            if builder.kind_of(node) not in PLACE_LEXNAMES:
                continue
            kind = CLASS_LEMMAS.get(alias_key(builder.label(node) or ""))
            if kind is not None:
                lemmas = names.get(node, set()) | names.get(cls, set())
                return kind, bool(lemmas & CAPITAL_LEMMAS)
        frontier = [p for node in frontier for p in hypernyms.get(node, ()) if p not in seen]
        seen.update(frontier)
        if not frontier:
            break
    return None, False


def _link_by_capital(countries: list[str], city_parts: dict[str, list[str]],
                     links: dict[str, str], capital_of: dict[str, str]) -> None:
    """Link countries GeoNames names otherwise through their capitals (step 5); mutates links.

    Any city of the country counts, not only WordNet's national capitals: WordNet files Vatican
    City as a plain city of the Holy See, GeoNames as the capital of "Vatican".
    """
    taken = set(links.values())
    for inst in countries:
        if inst not in links:
            twins = {capital_of.get(links.get(c, "")) for c in city_parts.get(inst, ())}
            twins = twins - taken - {None}
            if len(twins) == 1:
                links[inst] = twins.pop()


def _containers(builder: GraphBuilder) -> dict[str, set[str]]:
    """GeoNames entity → the places it lies in: country, US state, and the country's continent."""
    out: dict[str, set[str]] = defaultdict(set)
    continent_of: dict[str, str] = dict(builder.triples_with_relation("gnrel:continent"))
    for country, continent in continent_of.items():
        out[country].add(continent)
    for place, country in builder.triples_with_relation("gnrel:country"):
        out[place].add(country)
        if country in continent_of:
            out[place].add(continent_of[country])
    for city, state in builder.triples_with_relation("gnrel:us_state"):
        out[city].add(state)
    return out


def _holonym_context(inst: str, holonyms: dict[str, list[str]], links: dict[str, str]) -> set[str]:
    """GeoNames entities already linked to the synset's part-holonyms, a few steps up."""
    out: set[str] = set()
    frontier, seen = [inst], {inst}
    for _ in range(HOLONYM_DEPTH):
        frontier = [w for node in frontier for w in holonyms.get(node, ()) if w not in seen]
        seen.update(frontier)
        out.update(links[w] for w in frontier if w in links)
    return out


def _gloss_context(gloss: str, regions: dict[str, set[str]]) -> set[str]:
    """Countries, US states and continents a gloss names; the longest name at each word wins."""
    words = [m.group() for m in _WORD.finditer(gloss)]
    out: set[str] = set()
    i = 0
    while i < len(words):
        if not words[i][0].isupper():  # place names are capitalised; "turkey", "chad" are not
            i += 1
            continue
        for n in range(min(MAX_NGRAM, len(words) - i), 0, -1):
            hit = regions.get(alias_key(" ".join(words[i:i + n])))
            if hit:
                out.update(hit)
                i += n
                break
        else:
            i += 1
    return out
