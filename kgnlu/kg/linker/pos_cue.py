"""The part-of-speech cue: which word class a mention is used as, from kgnlu's tagger.

"We drove from Dallas" uses *drove* as a verb, so WordNet's noun sense "a group of animals driven
together" is unlikely; "makes" tagged as a verb is not the town that bears it as an alternate name.
The shipped averaged-perceptron tagger (:mod:`kgnlu.text.tagger`) tags a bounded window of tokens
around each mention that needs it: only mentions whose candidates differ in part of speech, or that
are written in lower case and could name a place or person. Windows start at the sentence start
when it is near (the tagger's previous-tag features then see what they saw in training), so the
cost is a few dozen tokens per ambiguous mention, not the whole text.

Tags map onto WordNet's classes: ``n`` (NOUN, PROPN, NUM), ``v`` (VERB, AUX), ``a`` (ADJ), ``r``
(ADV), and ``f`` for function words (ADP, DET, PRON, CCONJ, SCONJ, PART, INTJ), which no content
sense or name should take without strong evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kgnlu.kg.linker.mentions import SENTENCE_END, doc_tokens

WORD_CLASS = {"NOUN": "n", "PROPN": "n", "NUM": "n", "VERB": "v", "AUX": "v", "ADJ": "a", "ADV": "r",
              "ADP": "f", "DET": "f", "PRON": "f", "CCONJ": "f", "SCONJ": "f", "PART": "f", "INTJ": "f"}
CODE_CLASS = {1: "n", 2: "v", 3: "a", 4: "r"}  # kgnlu.kg.linker.candidates.POS_CODES, inverted
LEFT, RIGHT = 8, 3  # tokens of context either side of the mention's head that the tagger sees
FULL_MARGIN = 30.0  # a tag leading the runner-up by this much (perceptron units) counts fully; 4, 15 and 30 tied on dev


class PosCue:
    """Word classes of mentions' head tokens. ``entity_pos``: uint8 [E] (1..4 = n/v/a/r synsets,
    0 = other entities); ``proper``: bool [E] (the entity is a name)."""

    def __init__(self, entity_pos: np.ndarray, proper: np.ndarray, tagger=None):
        self.entity_pos, self.proper = entity_pos, proper
        self._tagger = tagger

    @property
    def tagger(self):
        if self._tagger is None:
            from kgnlu.text.tagger import load_tagger

            self._tagger = load_tagger()
        return self._tagger

    def needs_tag(self, candidates: Sequence, capitalised: bool) -> bool:
        """Whether the cue can change anything: candidates of different word classes, or a
        lower-case mention that may name a place or person."""
        classes = {int(self.entity_pos[c.entity]) for c in candidates}
        if len(classes) > 1:
            return True
        return not capitalised and any(bool(self.proper[c.entity]) for c in candidates)

    def word_classes(self, doc, heads: Sequence[int]) -> list[tuple[str | None, float]]:
        """The word class (n/v/a/r/f, None for punctuation-like tags) of each token in ``heads``
        and the tagger's confidence in it (0..1, from its score margin over the runner-up tag)."""
        tokens = doc_tokens(doc)
        n = len(tokens)
        regions: list[list[int]] = []  # [lo, hi): overlapping windows merged, each tagged once
        for head in sorted(set(heads)):
            lo = head
            while lo > 0 and head - lo < LEFT and not _starts_sentence(tokens[lo - 1]):
                lo -= 1
            hi = min(n, head + RIGHT + 1)
            if regions and lo <= regions[-1][1]:
                regions[-1][1] = max(regions[-1][1], hi)
            else:
                regions.append([lo, hi])
        tagged: dict[int, tuple[str, float]] = {}
        for lo, hi in regions:
            window = [(k, tokens[k].text) for k in range(lo, hi) if not tokens[k].is_space]
            tags = self.tagger.tag_with_margins([text for _, text in window])
            tagged.update(zip((k for k, _ in window), tags, strict=True))
        out: list[tuple[str | None, float]] = []
        for head in heads:
            tag, margin = tagged.get(head, (None, 0.0))
            out.append((WORD_CLASS.get(tag) if tag else None, min(1.0, margin / FULL_MARGIN)))
        return out

    def agreement(self, word_class: str | None, confidence: float, entity: int, capitalised: bool) -> float:
        """-confidence when the mention's use contradicts the candidate, else 0: a synset of
        another word class, or (for a lower-case verb or function word) an entity that is a name."""
        if word_class is None:
            return 0.0
        code = int(self.entity_pos[entity])
        if code:
            return -confidence if CODE_CLASS[code] != word_class else 0.0
        if not capitalised and word_class in ("v", "f") and self.proper[entity]:
            return -confidence
        return 0.0


def _starts_sentence(prev) -> bool:
    """The token after ``prev`` starts a sentence (the mention detector's rule)."""
    return prev.text in SENTENCE_END or "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text)
