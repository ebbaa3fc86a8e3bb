"""Relation phrases from the graph itself: how a step (relation, direction) reads in English.

No question template is involved. A relation's words come from, in order: a curated phrase table
for the vocabularies kgnlu builds or that every RDF graph shares (:mod:`kgnlu.qa.curated_phrases`:
WordNet pointers, GeoNames relations, ``rdf:type``, ``rdfs:subClassOf``, ``owl:sameAs``), else its
label (``rdfs:label``, ``skos:prefLabel``, ``schema:name``), else the local name of its IRI split
at camelCase, underscores and hyphens (``dependsOn`` → "depends on"). The words are then read as one
of five grammatical *styles*, which decide how both directions are worded:

=========  ===============  =================================  =================================
style      example label    forward (answer seen from topic x)  inverse (answer has x at the tail)
=========  ===============  =================================  =================================
noun       capital          the capital of x                    the thing whose capital is x
has-noun   has maintainer   the maintainer of x                 the thing whose maintainer is x
noun-of    part of          the thing x is part of              the part of x
verb       depends on       the thing x depends on              the thing that depends on x
state      located in       the thing x is located in           the thing that is located in x
=========  ===============  =================================  =================================

"thing" becomes the answer side's type word when the graph knows it ("the package curl depends
on"). Besides noun phrases (which nest into multi-hop descriptions), each step has 1-hop question
frames in its own grammar ("What does x depend on?", "Which packages depend on x?").

A word's part of speech comes from WordNet when a dict folder is installed
(:class:`~kgnlu.kg.sources.wordnet_lookup.WordNetLookup`), else from suffix rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kgnlu.kg.namespaces import local_name, name_words
from kgnlu.qa.curated_phrases import curated_phrases, curated_questions

PREPOSITIONS = frozenset("of in on at to for from by with into onto under over about as near within "
                         "via through after before against".split())
# participles WordNet's exception lists would also give; here so the rules work without WordNet
_IRREGULAR_PARTICIPLES = frozenset("born made built written held known found given taken run led kept "
                                   "sold bought brought taught thought grown shown drawn worn".split())
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
STYLES = ("noun", "has-noun", "noun-of", "verb", "state")


@dataclass(frozen=True)
class StepPhrases:
    """How one step reads. Patterns hold ``{x}`` (the entity the step starts from) and ``{t}`` /
    ``{ts}`` (the answer side's type word, singular / plural)."""

    words: str  # the relation's words ("depends on")
    style: str  # one of STYLES, or "curated"
    source: str  # "curated", "label" or "local name"
    noun_phrases: tuple[str, ...]  # the answer as a noun phrase: "the {t} {x} depends on"
    questions: tuple[str, ...]  # 1-hop question frames: "What does {x} depend on?"


def split_words(name: str) -> str:
    """``dependsOn`` → "depends on", ``has_part`` → "has part", ``US-state`` → "US state" (short
    acronyms keep their case)."""
    return " ".join(w.lower() if not w.isupper() or len(w) > 3 else w for w in name_words(name).split())


def relation_words(kg, relation: int) -> tuple[str, str]:
    """(words, source): the relation's label when it has one, else its IRI's local name split."""
    rid = kg.relation_id(relation)
    label = kg.relation_label(relation)
    if label and label != rid and label != name_words(local_name(rid)).lower():
        return split_words(label.replace(" (word sense)", "")) if _looks_like_name(label) else \
            label.replace(" (word sense)", "").strip().lower(), "label"
    return split_words(local_name(rid)), "local name"


def _looks_like_name(label: str) -> bool:
    """A label written as an identifier (``dependsOn``, ``has_part``) rather than as words."""
    return " " not in label.strip() and bool(_CAMEL.search(label) or "_" in label)


# ---------------------------------------------------------------------- parts of speech
@lru_cache(maxsize=1)
def _wordnet():
    from kgnlu.kg.sources.wordnet_lookup import WordNetLookup

    return WordNetLookup.open()


def is_participle(word: str) -> bool:
    w = word.lower()
    if w in _IRREGULAR_PARTICIPLES or (w.endswith("ed") and len(w) > 4):
        wn = _wordnet()
        return wn is None or not wn.is_lemma(w, "noun") or w in _IRREGULAR_PARTICIPLES
    return False


def is_verb_form(word: str) -> bool:
    """A finite verb (``depends``, ``teaches``, ``founded``, ``uses``) rather than a noun lemma."""
    w = word.lower()
    wn = _wordnet()
    if wn is not None:
        if wn.is_lemma(w, "noun") and not w.endswith("ed"):
            return False  # "author", "capital", "works": read as nouns
        return bool(wn.lemmas(w, "verb"))
    return w.endswith(("s", "ed")) and not w.endswith(("ss", "us", "is"))


def verb_base(word: str) -> str:
    """Third person → base form: ``depends`` → ``depend``, ``teaches`` → ``teach``, ``has`` → ``have``."""
    w = word.lower()
    irregular = {"has": "have", "is": "be", "does": "do", "goes": "go"}
    if w in irregular:
        return irregular[w]
    wn = _wordnet()
    if w.endswith("s") and not w.endswith("ss"):
        candidates = ([w[:-3] + "y"] if w.endswith("ies") else []) + \
                     ([w[:-2]] if w.endswith(("ches", "shes", "xes", "sses", "zes", "oes")) else []) + [w[:-1]]
        for c in candidates:
            if wn is None or wn.is_lemma(c, "verb"):
                return c
        return w[:-3] + "y" if w.endswith("ies") else candidates[-1]
    return w


def article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def pluralise(noun: str) -> str:
    words = noun.split()
    if not words:
        return noun
    w = words[-1]
    if w.endswith("y") and len(w) > 2 and w[-2] not in "aeiou":
        w = w[:-1] + "ies"
    elif w.endswith(("s", "x", "z", "ch", "sh")):
        w = w + "es"
    elif w == "person":
        w = "people"
    else:
        w = w + "s"
    return " ".join([*words[:-1], w])


def style_of(words: str) -> tuple[str, str]:
    """(style, core words) for a relation's words; see the module table."""
    tokens = words.split()
    if not tokens:
        return "noun", words
    if tokens[0] in ("has", "have") and len(tokens) > 1:
        if tokens[-1] in PREPOSITIONS:
            return "verb", " ".join(tokens)  # "has office in": the thing x has an office in
        return "has-noun", " ".join(tokens[1:])
    if tokens[0] in ("is", "was", "are") and len(tokens) > 1:
        tokens = tokens[1:]
    if len(tokens) > 1 and tokens[-1] in PREPOSITIONS:
        head = tokens[-2] if len(tokens) >= 2 else tokens[0]
        first = tokens[0].split("-")[-1]  # "pre-depends" reads as "depends"
        if is_participle(first) or _is_adjective_only(first):
            return "state", " ".join(tokens)
        if is_verb_form(first) or _third_person(first):
            return "verb", " ".join(tokens)
        if tokens[-1] == "of" and not is_verb_form(head):
            return "noun-of", " ".join(tokens[:-1])
        if _is_noun(first):  # "office in": x has an office in y
            return "verb", " ".join(["has", *tokens])
        return "state", " ".join(tokens)
    if is_participle(tokens[0]):  # "founded" alone is a past-tense verb; "built from source" a state
        return ("verb" if len(tokens) == 1 else "state"), " ".join(tokens)
    if len(tokens) <= 3 and is_verb_form(tokens[0]):
        return "verb", " ".join(tokens)
    return "noun", " ".join(tokens)


def _is_noun(word: str) -> bool:
    wn = _wordnet()
    return wn is not None and wn.is_lemma(word, "noun") and not wn.lemmas(word, "adj")


def _third_person(word: str) -> bool:
    """"works", "belongs", "teaches": a verb's third person before a preposition ("works in")."""
    w = word.lower()
    if not w.endswith("s") or w.endswith("ss"):
        return False
    wn = _wordnet()
    base = verb_base(w)
    return base != w and (wn is None or wn.is_lemma(base, "verb"))


def _is_adjective_only(word: str) -> bool:
    wn = _wordnet()
    return wn is not None and wn.lemmas(word, "adj") and not wn.lemmas(word, "verb") \
        and not wn.is_lemma(word, "noun")


# ---------------------------------------------------------------------- phrases per style
def _finite_to_base(verb_words: str) -> str:
    first, *rest = verb_words.split()
    if is_participle(first) and not first.endswith("s"):
        return verb_words  # past tense stays: handled by the "did" frames
    return " ".join([verb_base(first), *rest])


def style_phrases(style: str, core: str, forward: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(noun phrases, 1-hop questions) for a style; ``{x}`` the topic, ``{t}``/``{ts}`` the type."""
    if style in ("noun", "has-noun"):
        n = core
        if forward:
            return ((f"the {n} of {{x}}", f"{{x}}'s {n}"),
                    (f"What is the {n} of {{x}}?", f"Which {{t}} is the {n} of {{x}}?", f"What is {{x}}'s {n}?",
                     f"Who or what is the {n} of {{x}}?", f"Name the {n} of {{x}}."))
        return ((f"the {{t}} whose {n} is {{x}}", f"the {{t}} that has {{x}} as its {n}"),
                (f"What has {{x}} as its {n}?", f"Which {{t}} has {{x}} as its {n}?", f"{{x}} is the {n} of what?",
                 f"Of which {{t}} is {{x}} the {n}?", f"Name a {{t}} whose {n} is {{x}}."))
    if style == "noun-of":
        n, a = core, article(core)
        if forward:
            return ((f"the {{t}} {{x}} is {a} {n} of", f"the {{t}} that has {{x}} as {a} {n}"),
                    (f"What is {{x}} {a} {n} of?", f"Which {{t}} is {{x}} {a} {n} of?", f"{{x}} is {a} {n} of what?",
                     f"Of which {{t}} is {{x}} {a} {n}?", f"Name the {{t}} that {{x}} is {a} {n} of."))
        return ((f"the {pluralise(n)} of {{x}}", f"the {{t}} that is {a} {n} of {{x}}"),
                (f"What are the {pluralise(n)} of {{x}}?", f"Which {{ts}} are {pluralise(n)} of {{x}}?",
                 f"What is {a} {n} of {{x}}?", f"What is {n} of {{x}}?", f"Name {a} {n} of {{x}}."))
    if style == "verb":
        v3, base = core, _finite_to_base(core)
        past = base == v3 and is_participle(core.split()[0])
        aux = "did" if past else "does"
        plural_verb = v3 if past else base
        first, *rest = (_past_base(core) if past else base).split()
        # a passive reads well for a bare verb or verb + preposition ("suggested by", "depended on
        # by"), not with an object noun ("taken course by") or "have"
        simple = first not in ("have", "be") and (not rest or rest[-1] in PREPOSITIONS and len(rest) == 1)
        passive = " ".join([participle(first), *rest]) if simple else ""
        base_q = base if not past else _past_base(core)
        if forward:
            nps = (f"the {{t}} {{x}} {v3}", f"what {{x}} {v3}") + ((f"the {{t}} {passive} by {{x}}",) if passive else ())
            questions = (f"What {aux} {{x}} {base_q}?", f"Which {{t}} {aux} {{x}} {base_q}?", f"{{x}} {v3} what?",
                         f"Name a thing {{x}} {v3}.")
            if passive:
                questions += (f"What is {passive} by {{x}}?", f"Which {{ts}} are {passive} by {{x}}?")
            return nps, questions
        nps = (f"the {{t}} that {v3} {{x}}", f"what {v3} {{x}}") + ((f"the {{t}} {{x}} is {passive} by",) if passive else ())
        questions = (f"What {v3} {{x}}?", f"Which {{ts}} {plural_verb} {{x}}?", f"Who {v3} {{x}}?",
                     f"Name a thing that {v3} {{x}}.")
        if passive:
            questions += (f"What is {{x}} {passive} by?", f"{{x}} is {passive} by what?")
        return nps, questions
    # state: "located in", "similar to", "made of", "born in"
    if forward:
        return ((f"the {{t}} {{x}} is {core}", f"what {{x}} is {core}"),
                (f"What is {{x}} {core}?", f"Which {{t}} is {{x}} {core}?", f"{{x}} is {core} what?",
                 f"What {{t}} is {{x}} {core}?", f"Name the {{t}} {{x}} is {core}."))
    return ((f"the {{t}} that is {core} {{x}}", f"what is {core} {{x}}"),
            (f"What is {core} {{x}}?", f"Which {{ts}} are {core} {{x}}?", f"Who is {core} {{x}}?",
             f"What {{ts}} are {core} {{x}}?", f"Name a thing {core} {{x}}."))


def participle(base: str) -> str:
    """Past participle of a base verb: WordNet's irregular forms when installed ("write" →
    "written", "build" → "built"), else the regular rule ("provide" → "provided", "carry" → "carried")."""
    wn = _wordnet()
    if wn is not None:
        irregular = wn.participles(base)
        if irregular:
            return irregular[0]
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and len(base) > 2 and base[-2] not in "aeiou":
        return base[:-1] + "ied"
    return base + "ed"


def _past_base(past_words: str) -> str:
    """``founded`` → ``found``, ``wrote`` → ``write`` (WordNet's exceptions when installed)."""
    first, *rest = past_words.split()
    wn = _wordnet()
    base = None
    if wn is not None:
        bases = [b for b in wn.lemmas(first, "verb") if b != first]
        base = bases[0] if bases else None
    if base is None:
        base = first[:-2] if first.endswith("ed") else first
    return " ".join([base, *rest])


def step_phrases(kg, relation: int, forward: bool) -> StepPhrases:
    """How a step reads: curated for the vocabularies kgnlu knows, else from the graph's words."""
    curated = curated_phrases(kg.relation_id(relation), forward)
    words, source = relation_words(kg, relation)
    if curated is not None:
        return StepPhrases(words, "curated", "curated", curated, curated_questions(kg.relation_id(relation), forward))
    style, core = style_of(words)
    nps, questions = style_phrases(style, core, forward)
    return StepPhrases(words, style, source, nps, questions)


def fill(pattern: str, x: str, type_word: str) -> str:
    """A pattern with its topic and type words in place ("thing" when the type is unknown)."""
    t = type_word or "thing"
    return pattern.replace("{ts}", pluralise(t)).replace("{t}", t).replace("{x}", x)
