"""Short names for people and organisations: "Karajan" for Herbert von Karajan, "Deutsche
Grammophon" for Deutsche Grammophon GmbH. A graph labels them by full name; text names them short.

:func:`add_short_names` runs after every source has been read (``build_graph``) and adds aliases:

- **Who is a person, who an organisation.** An entity's classes are its ``rdf:type`` objects and
  their ``rdfs:subClassOf`` ancestors. A class whose name (label, else its IRI's local name in
  words; the whole name or its last word) is one of :data:`PERSON_WORDS` or :data:`ORG_WORDS`
  decides; the graph's own words come first. Otherwise the class name's WordNet noun senses decide
  (the two commonest, with their hypernym closure): reaching *person* makes a person class
  ("composer", "cellist"), reaching *organization* an organisation class ("orchestra", "bank"),
  reaching both ("publisher": a firm, or a person who publishes) decides nothing. An entity with
  person classes and no organisation class is a person, and the reverse. An untyped entity whose
  label ends in a legal form ("Acme Corporation") is an organisation.
- **Family names.** A person's label (parenthesised remarks and suffixes such as "Jr." or "II"
  dropped) of two or more capitalised words gives its last word ("Karajan"), and, after a particle,
  the particle with it ("von Karajan"); after a particle that stays with the name in use (de, du,
  da, di, la, le, ...: "du Pré", "da Ponte") only the phrase with it. The alias's weight is :data:`SHORT_WEIGHT`, half
  a label's, so p(e|m) stays below the full name's holder where a surface is shared: two Strausses
  split "Strauss" evenly, and a city named like a person keeps 2/3 of the name.
- **Organisation short forms.** The label and the other names without a legal form (GmbH, Inc.,
  Ltd, Corporation, Co., AG, S.A., LLC, plc, ...: "Deutsche Grammophon"), then without trailing
  words that name the entity's own class ("EMI Records" as a record label → "EMI", "Boosey & Hawkes
  Music Publishers" → "Boosey & Hawkes"), and without a leading "The". A short form that another
  entity already has as a name is not added: "Salzburg Festival" does not become "Salzburg".
- **Common words never become short names.** The alias table is case-insensitive, so "Wood" for
  Henry Wood would link the word "wood". A one-word short name is left out when WordNet writes it in
  lower case in a sense attested in SemCor (:meth:`WordNetLookup.is_common_word`: wood, rattle,
  mutter, berg), or when it is an English stop word. Without a WordNet folder only stop words are
  left out.
- **Spelling without accents.** Each name of a person or organisation, and each short name, also
  gets its form without diacritics ("Antonín Dvořák" → "Antonin Dvorak", "Dvorak"), as English text
  often writes them.

Nothing is added for graphs without people or organisations (WordNet, GeoNames, TSV triples).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import cache

from kgnlu.kg.graph_builder import GraphBuilder, alias_key
from kgnlu.kg.namespaces import local_name, name_words

# Recorded in the manifest as the checksum of the "short-names" source: a graph built under other
# rules is rebuilt by the evaluation's graph cache (kgnlu.eval.link_natural_scoring.graph_for).
RULES_VERSION = "short-names/1"
SHORT_WEIGHT = 0.5  # a short name's alias weight; a label's is 1
RDF_TYPE, SUBCLASS_OF = "rdf:type", "rdfs:subClassOf"
PERSON_WORDS = frozenset({"person", "people", "human", "human being", "individual", "persona"})
ORG_WORDS = frozenset({
    "organisation", "organization", "company", "corporation", "business", "firm", "enterprise",
    "institution", "agency", "orchestra", "band", "label", "record label", "publisher", "university",
    "college", "school", "club", "team", "association", "society", "foundation", "union", "bank",
})
# Legal forms, compared without dots and case ("S.A." → "sa", "Inc." → "inc").
LEGAL_FORMS = frozenset({
    "gmbh", "inc", "incorporated", "ltd", "limited", "corporation", "corp", "company", "co", "ag",
    "sa", "llc", "plc", "llp", "nv", "bv", "spa", "srl", "sarl", "oy", "oyj", "pty", "pte", "kgaa",
    "a/s",
})
NAME_SUFFIXES = frozenset({"jr", "sr", "junior", "senior", "ii", "iii", "iv", "phd", "md", "esq"})
PARTICLES = frozenset({"von", "van", "de", "du", "da", "di", "del", "della", "der", "den", "des",
                       "la", "le", "ten", "ter", "dos", "das", "do", "zu", "af", "bin", "ibn"})
# Particles that stay with the family name when it is used alone ("du Pré", "da Ponte", "De Niro"),
# unlike von/van/zu ("Karajan", "Beethoven").
KEPT_PARTICLES = frozenset({"de", "du", "da", "di", "del", "della", "des", "la", "le", "dos", "das", "do",
                            "bin", "ibn"})
MAX_CLASS_DEPTH = 10
_PAREN = re.compile(r"\s*\([^)]*\)")
_NAME_WORD = re.compile(r"^[^\W\d_][\w'’.\-]*$")


def add_short_names(builder: GraphBuilder, wordnet=None) -> int:
    """Add family names and organisation short forms (see the module doc); returns how many aliases
    were added. ``wordnet``: a :class:`~kgnlu.kg.sources.wordnet_lookup.WordNetLookup` (default the
    installed one, if any) for class senses and common words."""
    types: dict[str, list[str]] = defaultdict(list)
    for entity, cls in builder.triples_with_relation(RDF_TYPE):
        types[entity].append(cls)
    legal_named = [ext for ext in builder.iter_entity_ids() if ext not in types and builder.kind_of(ext) is None
                   and _legal_stripped((builder.label(ext) or "").split()) is not None]
    if not types and not legal_named:
        return 0
    builder.name_unlabelled()  # an unlabelled ex:AdaLovelace is "Ada Lovelace" before we read labels
    if wordnet is None:
        from kgnlu.kg.sources.wordnet_lookup import WordNetLookup

        wordnet = WordNetLookup.open()
    parents: dict[str, list[str]] = defaultdict(list)
    for child, parent in builder.triples_with_relation(SUBCLASS_OF):
        parents[child].append(parent)
    verdicts = _ClassVerdicts(builder, parents, wordnet)
    names: dict[str, set[str]] = defaultdict(set)  # entity → its alias keys before this pass
    owners: dict[str, set[str]] = defaultdict(set)  # alias key → entities, before this pass
    for key, ext, _ in builder.iter_aliases():
        names[ext].add(key)
        owners[key].add(ext)
    common = _common_word_test(wordnet)
    planned: list[tuple[str, str, float]] = []
    for ext, classes in types.items():
        kind = verdicts.entity_kind(classes)
        label = builder.label(ext)
        if not label:
            continue
        if kind == "person":
            planned += [(s, ext, w) for s, w in _person_aliases(label, common)]
        elif kind == "organisation":
            planned += [(s, ext, w) for s, w in _org_aliases(ext, label, names[ext], owners,
                                                              verdicts.class_words(classes), common)]
    for ext in legal_named:
        planned += [(s, ext, w) for s, w in _org_aliases(ext, builder.label(ext) or "", names[ext], owners,
                                                          frozenset(), common)]
    planned = [(s, ext, w) for s, ext, w in planned if alias_key(s) and alias_key(s) not in names[ext]]
    if not planned:
        return 0
    builder.begin_source("short-names", "short-names", RULES_VERSION)
    done: set[tuple[str, str]] = set()
    for surface, ext, weight in planned:
        if (alias_key(surface), ext) not in done:
            done.add((alias_key(surface), ext))
            builder.alias(surface, ext, weight)
    return len(done)


# ---------------------------------------------------------------------- classes
class _ClassVerdicts:
    """person / organisation / None for classes, from their names, ancestors and WordNet."""

    def __init__(self, builder: GraphBuilder, parents: dict[str, list[str]], wordnet):
        self.builder, self.parents, self.wordnet = builder, parents, wordnet
        self._names: dict[str, tuple[str, ...]] = {}
        self._closure: dict[str, tuple[str, ...]] = {}

    def names(self, cls: str) -> tuple[str, ...]:
        hit = self._names.get(cls)
        if hit is None:
            label = self.builder.label(cls)
            found = [alias_key(label)] if label else []
            found.append(alias_key(name_words(local_name(cls))))
            hit = self._names[cls] = tuple(dict.fromkeys(n for n in found if n))
        return hit

    def closure(self, cls: str) -> tuple[str, ...]:
        """``cls`` and its subClassOf ancestors (breadth first, cycles cut)."""
        hit = self._closure.get(cls)
        if hit is None:
            seen, frontier = {cls: None}, [cls]
            for _ in range(MAX_CLASS_DEPTH):
                frontier = [p for c in frontier for p in self.parents.get(c, ()) if p not in seen]
                seen.update(dict.fromkeys(frontier))
                if not frontier:
                    break
            hit = self._closure[cls] = tuple(seen)
        return hit

    def literal(self, cls: str) -> set[str]:
        out = set()
        for name in self.names(cls):
            for form in (name, name.split(" ")[-1]):
                if form in PERSON_WORDS:
                    out.add("person")
                if form in ORG_WORDS:
                    out.add("organisation")
        return out

    def from_wordnet(self, cls: str) -> set[str]:
        if self.wordnet is None:
            return set()
        out: set[str] = set()
        for name in self.names(cls):
            head = name if self.wordnet.is_lemma(name.replace(" ", "_"), "noun") else name.split(" ")[-1]
            ancestors = self.wordnet.ancestors(head.replace(" ", "_"))
            found = {"person"} if "person" in ancestors else set()
            found |= {"organisation"} if "organization" in ancestors else set()
            if len(found) == 1:
                out |= found
        return out

    def entity_kind(self, classes: list[str]) -> str | None:
        every = [c for cls in classes for c in self.closure(cls)]
        found = set().union(*(self.literal(c) for c in every))
        if not found:
            found = set().union(*(self.from_wordnet(c) for c in every))
        return found.pop() if len(found) == 1 else None

    def class_words(self, classes: list[str]) -> frozenset[str]:
        """Singular words of the names of the classes (and ancestors): "record label" → record, label."""
        return frozenset(_singular(w) for cls in classes for c in self.closure(cls)
                         for name in self.names(c) for w in name.split(" "))


# ---------------------------------------------------------------------- people
def _person_aliases(label: str, common) -> list[tuple[str, float]]:
    text = _PAREN.sub("", label).strip()
    head, comma, tail = text.partition(",")
    if comma and not all(_plain(t) in NAME_SUFFIXES for t in tail.split()):
        family = head.split()  # "Bach, Johann Sebastian": the family name comes first
        keep = family and not (len(family) == 1 and common(family[0]))
        return _with_folded([(" ".join(family), SHORT_WEIGHT)] if keep else [], common) + _folded_label(label)
    tokens = head.split()  # "King, Jr." → "King" (the suffix after the comma dropped)
    while tokens and _plain(tokens[-1]) in NAME_SUFFIXES:
        tokens = tokens[:-1]
    if (len(tokens) < 2 or not all(_NAME_WORD.match(t) for t in tokens)
            or not all(t[0].isupper() or t.lower() in PARTICLES for t in tokens) or not tokens[-1][0].isupper()):
        return _folded_label(label)  # one word ("Madonna"), or not written as a name
    k = len(tokens) - 1
    while k > 1 and tokens[k - 1].lower() in PARTICLES:
        k -= 1
    particles = {t.lower() for t in tokens[k:-1]}
    out: list[tuple[str, float]] = []
    if not particles & KEPT_PARTICLES and not common(tokens[-1]):
        out.append((tokens[-1], SHORT_WEIGHT))  # "Karajan", "Beethoven"; not "Pré" of "du Pré"
    if particles:  # "du Pré", "von Karajan"
        out.append((" ".join(tokens[k:]), SHORT_WEIGHT))
    return _with_folded(out, common) + _folded_label(label)


# ---------------------------------------------------------------------- organisations
def _org_aliases(ext: str, label: str, keys: set[str], owners: dict[str, set[str]], class_words: frozenset[str],
                 common) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for name in dict.fromkeys([label, *sorted(keys)]):
        tokens = name.split()
        forms = []
        stripped = _legal_stripped(tokens)
        if stripped is not None:
            forms.append(stripped)
        base = stripped if stripped is not None else tokens
        k = len(base)
        while k > 1 and _singular(base[k - 1].lower()) in class_words:
            k -= 1
        if k < len(base):
            forms.append(base[:k])
        forms += [f[1:] for f in forms if len(f) > 1 and f[0].lower() == "the"]
        for form in forms:
            surface = " ".join(form)
            key = alias_key(surface)
            if not key or owners.get(key, {ext}) - {ext}:
                continue  # another entity's name: "Salzburg Festival" never becomes "Salzburg"
            if len(form) == 1 and not (form[0].isupper() and len(form[0]) > 1) and common(form[0]):
                continue
            out.append((surface, SHORT_WEIGHT))
    return _with_folded(out, common) + _folded_label(label)


def _legal_stripped(tokens: list[str]) -> list[str] | None:
    """``tokens`` without trailing legal forms ("Acme Co., Ltd." → ["Acme"]), or None if none."""
    out = list(tokens)
    while len(out) > 1 and _plain(out[-1]) in LEGAL_FORMS:
        out = out[:-1]
        while len(out) > 1 and out[-1].rstrip(",") in ("&", "and", ""):
            out = out[:-1]
        out[-1] = out[-1].rstrip(",")
    if len(out) == len(tokens) or not any(c.isalnum() for c in "".join(out)):
        return None
    return out


# ---------------------------------------------------------------------- words
def _plain(token: str) -> str:
    return token.lower().rstrip(",").replace(".", "")


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def _fold(text: str) -> str:
    """``text`` without combining marks ("Dvořák" → "Dvorak"); letters like ø stay."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _with_folded(aliases: list[tuple[str, float]], common) -> list[tuple[str, float]]:
    """``aliases`` and their forms without accents (a one-word form that is a common word left out:
    "Pré" stays, "pre" does not)."""
    folded = [(_fold(s), w) for s, w in aliases if _fold(s) != s]
    return aliases + [(s, w) for s, w in folded if " " in s or not common(s)]


def _folded_label(label: str) -> list[tuple[str, float]]:
    return [(_fold(label), 1.0)] if _fold(label) != label else []


def _common_word_test(wordnet):
    from spacy.lang.en.stop_words import STOP_WORDS

    @cache
    def common(word: str) -> bool:
        w = word.lower()
        return w in STOP_WORDS or (wordnet is not None and wordnet.is_common_word(w))

    return common
