"""Type words in a question: what the answer must be ("which *country*", "what *animal*", "who"),
and appositions that type the topic ("the *city* of Lyon", "the *river* Nile").

Both are read from the question's wording alone; :class:`~kgnlu.qa.type_match.TypeMatcher` then
decides which entities of the graph a type word fits.

    expected_type("Which country is something in?")     # "country"
    expected_type("Who founded something?")             # "person"
    apposition("Which country is the city of Lyon in?", 25, 29)   # Apposition("city", start=13)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# nouns that follow "which"/"what" without naming a type: the question asks about the relation
# ("what kind of", "which part of"), not for an answer of that type
NOT_TYPES = frozenset("""
kind kinds type types sort sorts category categories class classes thing things one ones part parts
member members example examples instance instances name names word words term terms way ways
other others else exactly anything something everything nothing one ones
""".split())
# words after "which"/"what" that start the verb phrase: no type was named
_FUNCTION = frozenset("""
is are was were be been do does did has have had can could will would should may might must
a an the this that these those it its there here his her their my your our of in on at to for by
from with about as into
""".split())
_WH_TYPE = re.compile(r"\b(?:which|what)(?:'s|'re)?\s+(?:(?:kinds?|types?|sorts?)\s+of\s+(?:an?\s+)?|of\s+the\s+)?"
                      r"([a-z][a-z\-]*)(?:\s+([a-z][a-z\-]*))?", re.IGNORECASE)
_NAME_TYPE = re.compile(r"^\s*(?:name|list|give(?:\s+me)?|tell\s+me)\s+(?:(?:a|an|the|some|all|any|every)\b)?\s*"
                        r"([a-z][a-z\-]*)(?:\s+([a-z][a-z\-]*))?", re.IGNORECASE)
_WHO = re.compile(r"^\s*(?:[a-z]+\s+)?(?:who|whom|whose)\b|\bwho\s*\?\s*$", re.IGNORECASE)
_WHERE = re.compile(r"^\s*where\b", re.IGNORECASE)
_APPOSITION = re.compile(r"\bthe\s+((?:(?!of\s)[a-z][a-z\-]*\s+)?(?!of\s)[a-z][a-z\-]*)\s+(?:of\s+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Apposition:
    word: str  # the type word ("city")
    start: int  # where "the city of" starts: the topic span becomes [start, mention end)


def singular(word: str) -> str:
    """The singular of a (possibly plural) noun: WordNet's morphology when installed, else rules."""
    from kgnlu.qa.phrasing import _wordnet

    w = word.lower()
    if w in ("people", "persons"):
        return "person"
    wn = _wordnet()
    if wn is not None:
        lemmas = wn.lemmas(w, "noun")  # the word itself first when it is a lemma ("glasses", "news")
        if len(lemmas) > 1 and lemmas[0] == w and w.endswith("s"):
            return lemmas[1]  # a plural that is also a lemma of its own: the singular is meant
        if lemmas:
            return lemmas[0]
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "xes", "sses")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def expected_type(text: str, compounds: frozenset[str] = frozenset()) -> str | None:
    """The type word the question asks for (singular), or None. ``compounds``: two-word type names
    the graph knows ("us state"), matched before their head word alone."""
    if _WHO.search(text):
        return "person"
    for pattern in (_WH_TYPE, _NAME_TYPE):
        m = pattern.search(text)
        if not m:
            continue
        first, second = (m.group(1) or "").lower(), (m.group(2) or "").lower()
        if second and f"{first} {singular(second)}" in compounds:
            return f"{first} {singular(second)}"
        if first in _FUNCTION or first in NOT_TYPES or first in ("something", "someone"):
            continue
        return singular(first)
    if _WHERE.search(text):
        return "location"
    return None


def apposition(text: str, start: int, end: int) -> Apposition | None:
    """A type word right before the mention [start, end): "the city of X", "the river X"."""
    m = _APPOSITION.search(text[:start])
    if not m:
        return None
    word = m.group(1).lower()
    if word.split()[-1] in NOT_TYPES:
        return None
    return Apposition(" ".join(singular(w) if i == len(word.split()) - 1 else w
                               for i, w in enumerate(word.split())), m.start())
