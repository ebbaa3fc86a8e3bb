"""Frame words: the words a question uses to name a relation or a type, never its topic.

"What is the *opposite* of hot?" links "opposite" to a WordNet synset and "hot" to another; the
topic is "hot". A mention whose every content word names one of the graph's relations (its label
words, curated cue words, generic relation nouns such as "kind" or "part") or the question's
expected answer type is a *frame mention*: :func:`kgnlu.qa.reasoner.reason` tries it as the topic
only when no other mention fits.
"""

from __future__ import annotations

import re

from kgnlu.qa.curated_phrases import CUE_WORDS
from kgnlu.qa.phrasing import PREPOSITIONS, relation_words, verb_base
from kgnlu.qa.type_cues import singular

# nouns that name a relation between things in any graph
GENERIC = frozenset("""
kind type sort category class thing example instance part member opposite antonym synonym name word term
list give tell show find
""".split())
_STOP = PREPOSITIONS | frozenset("a an the is are was were has have had its their".split())
_WORD = re.compile(r"[a-z]+")


def base_words(text: str) -> list[str]:
    """Content words of ``text``, each as noun singular and verb base (both kept)."""
    out = []
    for w in _WORD.findall(text.lower()):
        if w in _STOP:
            continue
        out += list(dict.fromkeys((w, singular(w), verb_base(w))))
    return out


def relation_vocabulary(kg) -> frozenset[str]:
    """Every word (base forms) that names one of ``kg``'s relations, plus :data:`GENERIC`."""
    out = set(GENERIC)
    for r in range(kg.num_relations):
        words, _ = relation_words(kg, r)
        out.update(base_words(words))
        out.update(CUE_WORDS.get(kg.relation_id(r), ()))
    return frozenset(out)


def is_frame(surface: str, vocabulary: frozenset[str], expected: str | None) -> bool:
    """Whether a mention names only a relation or the expected answer type."""
    words = [w for w in _WORD.findall(surface.lower()) if w not in _STOP]
    if not words:
        return True
    if expected and singular(words[-1]) == expected.split()[-1]:
        return True
    return all(w in vocabulary or singular(w) in vocabulary or verb_base(w) in vocabulary for w in words)
