"""A greedy averaged-perceptron part-of-speech tagger (Collins 2002; the design of NLTK's and
TextBlob's taggers), Universal POS tags. Pure Python and dict lookups: tens of thousands of tokens a
second on one core, no model framework, a JSON weight file (never pickle).

    tagger = load_tagger()                       # the one kgnlu ships (kgnlu/text/data/tagger.json.gz)
    tagger.tag(["We", "drove", "to", "Dallas"])  # ["PRON", "VERB", "ADP", "PROPN"]

Training (:mod:`kgnlu.text.tagger_training`) may leave tokens unlabelled (``None``): they are tagged
for their neighbours' context but never update the weights (partial supervision).

A tagger may carry a word-class dictionary (``classes``: word → the parts of speech WordNet lists
for it, "NV" for "plant", "=DET" for "the"; :mod:`kgnlu.text.lexicon`): decoding keeps a listed word
to its classes among the content tags (a tag dictionary: "bread" may be NOUN or VERB but never
ADV); function-word tags stay open to every word, PROPN to capitalised ones, and an -ing/-ed/-en
verb form may be ADJ or NOUN. Words not in the dictionary are not constrained. With ``lookahead``
the next two words' classes are features too (off in the shipped tagger: lower dev accuracy).
"""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from kgnlu.errors import DataMissingError, ParseError

TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X")
SHIPPED = Path(__file__).parent / "data" / "tagger.json.gz"
_START = ("-START-", "-START2-")
_AFTER_INFINITIVE = ("ADV", "AUX", "VERB")  # what may follow "to" tagged PART ("to quickly run", "to be")
_END = ("-END-", "-END2-")
_CONTENT = {"N": "NOUN", "V": "VERB", "J": "ADJ", "R": "ADV"}
_FUNCTION = ("ADP", "AUX", "CCONJ", "DET", "INTJ", "PART", "PRON", "SCONJ")


def _shape(word: str) -> str:
    if word.isdigit() or word.replace(",", "").replace(".", "").isdigit():
        return "d"
    if not any(c.isalnum() for c in word):
        return "p"
    if word.isupper() and len(word) > 1:
        return "XX"
    if word[0].isupper():
        return "Xx"
    return "x-" if "-" in word else "x"


def _features(i: int, words: Sequence[str], prev: str, prev2: str, codes: Sequence[str] | None,
              ahead: Sequence[str] | None = None) -> list[str]:
    """Features of token ``i`` given the padded raw ``words``, the two previous tags and, with a
    lexicon, each word's dictionary classes (``codes``, padded alike); with a word-class dictionary,
    the next two words' classes (``ahead``, padded alike); padding makes i-2..i+2 always valid (i is
    offset by 2)."""
    w = words[i]
    low = w.lower()
    nxt = words[i + 1]
    lexical = [] if codes is None else [
        "l=" + codes[i], "lt-1=" + codes[i] + "|" + prev, "l+1=" + codes[i] + "|" + codes[i + 1],
        "l-1=" + codes[i - 1] + "|" + codes[i]]
    if ahead is not None:
        lexical += ["c+1=" + ahead[i + 1], "c+2=" + ahead[i + 2], "tc+1=" + prev + "|" + ahead[i + 1]]
    return lexical + [
        "s1=" + low[-1:], "s4=" + low[-4:], "tw+1=" + prev + "|" + nxt.lower(), "sh+1=" + _shape(nxt),
        "b", "w=" + low, "s3=" + low[-3:], "s2=" + low[-2:], "p1=" + low[:1], "sh=" + _shape(w),
        "t-1=" + prev, "t-2=" + prev2 + "|" + prev, "t-1w=" + prev + "|" + low,
        "w-1=" + words[i - 1].lower(), "s3-1=" + words[i - 1].lower()[-3:], "w-2=" + words[i - 2].lower(),
        "w+1=" + words[i + 1].lower(), "s3+1=" + words[i + 1].lower()[-3:], "w+2=" + words[i + 2].lower(),
        "first=" + str(i == 2) + _shape(w),
    ]


def _best_and_margin(scores: dict[str, float], allowed: Sequence[str]) -> tuple[str, float]:
    """The best allowed tag (ties: NOUN, else the first in TAGS order, as ``max`` would) and its
    lead over the runner-up, in one pass (the linker tags on its hot path)."""
    best, best_score, second = "", float("-inf"), float("-inf")
    for g in allowed:
        v = scores.get(g, 0.0)
        if v > best_score or (v == best_score and g == "NOUN"):
            best, best_score, second = g, v, best_score
        elif v > second:
            second = v
    return best, (best_score - second if second != float("-inf") else 0.0)


class PerceptronTagger:
    def __init__(self, weights: dict[str, dict[str, float]] | None = None, lexicon=None,
                 classes: dict[str, str] | None = None, lookahead: bool = False):
        """``lexicon``: word → its dictionary classes (:class:`kgnlu.text.lexicon.WordNetClasses`),
        or None for a tagger of word forms and context alone; ``classes``: lower-case word → its
        class code (the same codes, stored with the tagger) for the tag dictionary and, with
        ``lookahead``, the next words' class features; or None for neither."""
        self.weights: dict[str, dict[str, float]] = weights if weights is not None else {}
        self.lexicon = lexicon
        self.classes = classes
        self.lookahead = lookahead
        self._allowed_tags: dict[tuple[str, bool, bool], tuple[str, ...]] = {}

    def _ahead(self, tokens: Sequence[str]) -> list[str] | None:
        if self.classes is None:
            return None
        get = self.classes.get
        return [*_START, *(get(t.lower(), "?") for t in tokens), *_END]

    def _allowed(self, token: str, code: str) -> tuple[str, ...]:
        """The tags decoding may give ``token`` of class ``code`` (see the module docstring)."""
        if code[:1] not in _CONTENT:
            return TAGS
        key = (code, token[:1].isupper(), token.lower().endswith(("ing", "ed", "en")))
        allowed = self._allowed_tags.get(key)
        if allowed is None:
            tags = {_CONTENT[c] for c in code if c in _CONTENT} | set(_FUNCTION)
            if key[1]:
                tags.add("PROPN")
            if key[2] and "VERB" in tags:
                tags |= {"ADJ", "NOUN"}
            allowed = self._allowed_tags[key] = tuple(t for t in TAGS if t in tags)
        return allowed

    def _codes(self, tokens: Sequence[str]) -> list[str] | None:
        if self.lexicon is None:
            return None
        return [*_START, *(self.lexicon(t) for t in tokens), *_END]

    # ------------------------------------------------------------------ tagging
    def tag(self, tokens: Sequence[str]) -> list[str]:
        return [t for t, _ in self.tag_with_margins(tokens)]

    def tag_with_margins(self, tokens: Sequence[str]) -> list[tuple[str, float]]:
        """Each token's tag and its margin: the best tag's score minus the runner-up's among the
        tags the token may take (a confidence a caller can threshold; 0 for a tie)."""
        words = [*_START, *tokens, *_END]
        codes = self._codes(tokens)
        ahead = self._ahead(tokens)
        prev, prev2 = _START
        out = []
        for i in range(2, len(tokens) + 2):
            scores = self._scores(_features(i, words, prev, prev2, codes, ahead if self.lookahead else None))
            allowed = TAGS if ahead is None else self._allowed(words[i], ahead[i])
            if prev == "PART" and words[i - 1].lower() == "to":
                # infinitival "to" (UD's PART reading) heads a verb: "to plant trees" is not a compound
                allowed = tuple(g for g in allowed if g in _AFTER_INFINITIVE) or allowed
            t, margin = _best_and_margin(scores, allowed)
            out.append((t, margin))
            prev2, prev = prev, t
        return out

    def _scores(self, feats: Iterable[str]) -> dict[str, float]:
        scores: dict[str, float] = {}
        get_row, get = self.weights.get, scores.get
        for f in feats:
            row = get_row(f)
            if row:
                for tag, w in row.items():
                    scores[tag] = get(tag, 0.0) + w
        return scores

    def _best(self, feats: Iterable[str]) -> str:
        scores = self._scores(feats)
        return max(TAGS, key=lambda t: (scores.get(t, 0.0), t == "NOUN"))  # ties (unseen word): NOUN

    # ------------------------------------------------------------------ training
    @classmethod
    def train(cls, sentences: Sequence[tuple[Sequence[str], Sequence[str | None]]], epochs: int = 5,
              seed: int = 0, min_weight: float = 1e-3, lexicon=None, classes: dict[str, str] | None = None,
              lookahead: bool = False, log=None) -> PerceptronTagger:
        """Averaged perceptron over ``(tokens, tags)`` pairs; a ``None`` tag is context only.
        ``classes``: the word-class dictionary the tagger keeps (see the class)."""
        weights: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        totals: dict[tuple[str, str], float] = defaultdict(float)  # summed weights for averaging
        stamps: dict[tuple[str, str], int] = defaultdict(int)  # step a weight last changed
        model = cls(weights, lexicon, classes, lookahead)
        step = 0
        order = list(range(len(sentences)))
        rng = random.Random(seed)
        for epoch in range(epochs):
            rng.shuffle(order)
            right = seen = 0
            for k in order:
                tokens, gold = sentences[k]
                words = [*_START, *tokens, *_END]
                codes = model._codes(tokens)
                ahead = model._ahead(tokens) if lookahead else None
                prev, prev2 = _START
                for i, truth in enumerate(gold):
                    feats = _features(i + 2, words, prev, prev2, codes, ahead)
                    guess = model._best(feats)
                    if truth is not None:
                        step += 1
                        seen += 1
                        right += guess == truth
                        if guess != truth:
                            for f in feats:
                                for tag, delta in ((truth, 1.0), (guess, -1.0)):
                                    key = (f, tag)
                                    totals[key] += (step - stamps[key]) * weights[f][tag]
                                    stamps[key] = step
                                    weights[f][tag] += delta
                    prev2, prev = prev, (truth if truth is not None else guess)
            if log:
                log(f"tagger: epoch {epoch + 1}/{epochs}, training accuracy {right / max(seen, 1):.3f} on {seen:,} labels")
        averaged: dict[str, dict[str, float]] = {}
        for f, row in weights.items():
            for tag, w in row.items():
                key = (f, tag)
                total = totals[key] + (step - stamps[key]) * w
                avg = round(total / max(step, 1), 4)
                if abs(avg) >= min_weight:
                    averaged.setdefault(f, {})[tag] = avg
        return cls(averaged, lexicon, classes, lookahead)

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        from kgnlu.io import atomic_write

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"format": "kgnlu-pos-tagger", "version": 2, "tags": list(TAGS),
                              "lexicon": "wordnet" if self.lexicon is not None else None,
                              "classes": self.classes, "lookahead": self.lookahead, "weights": self.weights}, separators=(",", ":")).encode()
        with atomic_write(path, "wb", encoding=None) as f:
            f.write(gzip.compress(payload, mtime=0))
        return path

    @classmethod
    def load(cls, path: str | Path, lexicon=None) -> PerceptronTagger:
        """The tagger saved at ``path``; one trained with WordNet's classes reads them again
        (``lexicon``, default the installed WordNet)."""
        path = Path(path)
        if not path.is_file():
            raise DataMissingError(f"no tagger at {path}; train one with `python -m kgnlu.text.tagger_training`")
        try:
            data = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, ValueError) as err:
            raise ParseError(path, None, None, f"a gzipped JSON tagger file ({err}); retrain it") from err
        if not isinstance(data, dict) or data.get("format") != "kgnlu-pos-tagger" or not isinstance(
                data.get("weights"), dict) or not isinstance(data.get("classes") or {}, dict):
            raise ParseError(path, None, None, "a kgnlu-pos-tagger JSON object with 'weights' (and 'classes')")
        if data.get("lexicon") == "wordnet" and lexicon is None:
            from kgnlu.text.lexicon import WordNetClasses

            lexicon = WordNetClasses.open()
        return cls(data["weights"], lexicon if data.get("lexicon") == "wordnet" else None, data.get("classes"),
                   bool(data.get("lookahead", False)))


_SHIPPED_TAGGER: PerceptronTagger | None = None


def load_tagger() -> PerceptronTagger:
    """The tagger kgnlu ships, loaded once per process."""
    global _SHIPPED_TAGGER
    if _SHIPPED_TAGGER is None:
        _SHIPPED_TAGGER = PerceptronTagger.load(SHIPPED)
    return _SHIPPED_TAGGER
