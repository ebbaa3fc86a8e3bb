"""What a dictionary says a word can be, as a tagger feature: the parts of speech WordNet lists for
it (through its morphology: "drove" → verb, "drives" → noun and verb) or its function-word tag.

The feature generalises across words: "the ___ took" predicts NOUN for any word that can be a noun
or a verb, including words the training sentences never labelled.

    classes = WordNetClasses.open()
    classes("drives")   # "NV"
    classes("the")      # "=DET"
"""

from __future__ import annotations

from functools import lru_cache

from kgnlu.text.closed_class import CLOSED

_CODE = {"noun": "N", "verb": "V", "adj": "J", "adv": "R"}


class WordNetClasses:
    def __init__(self, lookup):
        self.lookup = lookup
        self._code = lru_cache(maxsize=200_000)(self._compute)

    @classmethod
    def open(cls, directory=None) -> WordNetClasses:
        from kgnlu.errors import DataMissingError
        from kgnlu.kg.sources.wordnet_lookup import WordNetLookup

        lookup = WordNetLookup.open(directory)
        if lookup is None:
            raise DataMissingError("the part-of-speech tagger reads WordNet, which is not installed at "
                                   f"{directory or '/usr/share/wordnet'}; run `make setup` (wordnet-base)")
        return cls(lookup)

    def __call__(self, word: str) -> str:
        return self._code(word.lower())

    def _compute(self, low: str) -> str:
        if low in CLOSED:
            return "=" + CLOSED[low]
        if not any(c.isalpha() for c in low):
            return "-"
        return "".join(_CODE[p] for p in ("noun", "verb", "adj", "adv") if self.lookup.lemmas(low, p)) or "?"
