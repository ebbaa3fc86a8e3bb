"""Sentence splitting: a fast rule-based splitter (default) and spaCy's sentencizer.

The rule splitter breaks after ``.``, ``!``, ``?`` (and any closing quotes or brackets) when
whitespace follows and the next word starts like a sentence (capital letter, digit, quote or
opening bracket) — unless the word before the stop is a known abbreviation ("e.g.", "Dr."), a
single initial ("J. Smith") or a dotted acronym. Blank lines always end a sentence. It returns
character offsets, so entity spans can be carried into sentences exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from kgnlu.registry import Registry

Splitter = Callable[[str], list[tuple[int, int]]]
#: name → function text → [(start, end)] of each sentence (whitespace trimmed)
SENTENCE_SPLITTERS: Registry[Splitter] = Registry("sentence splitter")

# Lower-cased, without the final dot. Abbreviations that often end sentences ("etc", "Inc") are
# left out: a false split costs less than merging two sentences.
ABBREVIATIONS = frozenset("""
mr mrs ms dr prof sr jr st mt vs cf eg ie e.g i.e al fig figs eq eqs no nos vol vols pp ch sec
approx dept est jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e a.k.a resp ref refs
""".split())

_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])|\n[ \t]*\n""")
_WORD_BEFORE = re.compile(r"(\S+)$")


@SENTENCE_SPLITTERS.register("rules")
def split_sentences(text: str) -> list[tuple[int, int]]:
    """``text`` → [(start, end)] character offsets of its sentences, in order, none empty."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group().startswith((".",)) and _is_abbreviation(text, match.start()):
            continue
        _append(text, start, end, spans)
        start = end
    _append(text, start, len(text), spans)
    return spans


def _is_abbreviation(text: str, dot: int) -> bool:
    word = _WORD_BEFORE.search(text, 0, dot)
    if word is None:
        return False
    token = word.group(1).lstrip("([\"'").lower()
    if token in ABBREVIATIONS:
        return True
    if len(token) == 1 and token.isalpha():  # an initial: "J. Smith"
        return True
    return "." in token and all(len(part) <= 2 for part in token.split("."))  # "U.S", "e.g"


def _append(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))


_SPACY = None


@SENTENCE_SPLITTERS.register("spacy")
def spacy_sentences(text: str) -> list[tuple[int, int]]:
    """spaCy's rule-based sentencizer on a blank English pipeline (no model download)."""
    global _SPACY
    if _SPACY is None:
        import spacy

        _SPACY = spacy.blank("en")
        _SPACY.add_pipe("sentencizer")
    spans: list[tuple[int, int]] = []
    for sent in _SPACY(text).sents:
        _append(text, sent.start_char, sent.end_char, spans)
    return spans


def sentence_texts(text: str, splitter: str = "rules") -> list[str]:
    return [text[a:b] for a, b in SENTENCE_SPLITTERS.get(splitter)(text)]
