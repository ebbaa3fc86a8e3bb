"""Training kgnlu's part-of-speech tagger from WordNet alone (offline, no treebank).

WordNet's example sentences say the part of speech of one word each: the synset's own word in
"he drove the car to work" is a verb. Every other token gets a weak label where its word leaves no
doubt — a function word (:mod:`kgnlu.text.closed_class`), a form of "be" (AUX in UD English),
punctuation, a number, a content word that WordNet lists under one part of speech only, a
capitalised word WordNet does not know (PROPN) — and stays unlabelled (context only) otherwise.
Glosses add more weakly labelled text. The averaged perceptron learns the ambiguous words ("drive",
"bank", "to", "that") from their labelled uses and their context.

    python -m kgnlu.text.tagger_training              # trains and writes kgnlu/text/data/tagger.json.gz
    python -m kgnlu.text.tagger_training --out FILE --epochs 5 [--lexicon]
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from kgnlu.text.closed_class import CLOSED
from kgnlu.text.tagger import SHIPPED, PerceptronTagger
from kgnlu.text.tokens import tokenize

WN_TAG = {"n": "NOUN", "v": "VERB", "a": "ADJ", "s": "ADJ", "r": "ADV"}
POS_OF_NAME = {"noun": "NOUN", "verb": "VERB", "adj": "ADJ", "adv": "ADV"}
BE = {"be", "is", "am", "are", "was", "were", "been", "being"}
HAVE = {"have", "has", "had", "having", "'ve"}
DO = {"do", "does", "did"}
_NEGATION_OR_ADVERB = {"not", "n't", "never", "already", "just", "also", "always", "often", "ever", "still"}
_QUOTED = re.compile(r'"([^"]+)"')


def synset_texts(directory: Path) -> Iterator[tuple[str, set[str], list[str], str]]:
    """(UPOS of the synset, its one-word lemmas, its example sentences, its gloss) per synset."""
    for pos in ("noun", "verb", "adj", "adv"):
        with open(directory / f"data.{pos}", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  "):
                    continue  # licence header
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                n = int(fields[3], 16)
                words = {fields[4 + 2 * i].split("(")[0].lower() for i in range(n)}
                examples = _QUOTED.findall(gloss)
                definition = gloss.split(";")[0].strip()
                yield WN_TAG[fields[2]], {w for w in words if "_" not in w}, examples, definition


class WeakLabeller:
    """Labels the tokens whose tag is not in doubt (see the module docstring)."""

    def __init__(self, lookup):
        self.lookup = lookup
        self.parts = lru_cache(maxsize=200_000)(self._parts)
        self.common = lru_cache(maxsize=200_000)(lookup.is_common_word)

    def _parts(self, word: str) -> frozenset[str]:
        return frozenset(POS_OF_NAME[p] for p in self.lookup.parts_of_speech(word))

    def label(self, tokens: list[str], target: tuple[str, set[str]] | None = None) -> list[str | None]:
        out: list[str | None] = []
        for i, tok in enumerate(tokens):
            low = tok.lower()
            out.append(self._one(i, tok, low, tokens, target))
        return out

    def _one(self, i, tok, low, tokens, target) -> str | None:
        if target is not None and any(lemma in target[1] for lemma in self._lemmas(low, target[0])):
            return target[0]
        if not any(c.isalnum() for c in tok):
            return "PUNCT"
        if tok.replace(",", "").replace(".", "").isdigit():
            return "NUM"
        if low == "'s":
            return None  # possessive PART or "is" (AUX): context decides
        if low in BE:
            return "AUX"  # UD English: "be" is AUX as copula and as auxiliary
        if low in HAVE or low in DO:
            return self._have_or_do(i, low, tokens)
        if low in CLOSED:
            return CLOSED[low]
        if low == "to" and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if self.parts(nxt.lower()) == frozenset({"VERB"}):
                return "PART"
            if CLOSED.get(nxt.lower()) in ("DET", "PRON") or nxt[:1].isupper() or nxt[:1].isdigit():
                return "ADP"
            return None
        parts = self.parts(low)
        if tok[:1].isupper() and i > 0:  # a name, unless WordNet writes the word in lower case
            return None if self.common(low) else "PROPN"
        if len(parts) == 1:
            return next(iter(parts))
        return None

    def _have_or_do(self, i: int, low: str, tokens: list[str]) -> str | None:
        """AUX when a verb form follows (past participle after "have", base form after "do"; a
        negation or adverb may sit between), or "do" opens a question before its subject; VERB when a
        determiner or pronoun object follows; else context decides."""
        j = i + 1
        while j < len(tokens) and tokens[j].lower() in _NEGATION_OR_ADVERB:
            j += 1
        if j >= len(tokens):
            return None
        nxt = tokens[j].lower()
        if j > i + 1 or self.parts(nxt) == frozenset({"VERB"}):
            return "AUX"
        if low in DO and CLOSED.get(nxt) == "PRON" and (i == 0 or tokens[i - 1] in (",", ";")):
            return "AUX"  # "Do you know ...?"
        if CLOSED.get(nxt) == "DET":
            return "VERB"
        return None

    def _lemmas(self, low: str, upos: str) -> list[str]:
        name = {"NOUN": "noun", "VERB": "verb", "ADJ": "adj", "ADV": "adv"}[upos]
        return self.lookup.lemmas(low, name)


def training_sentences(directory: Path, glosses: bool = True) -> list[tuple[list[str], list[str | None]]]:
    from kgnlu.text.lexicon import WordNetClasses

    labeller = WeakLabeller(WordNetClasses.open(directory).lookup)
    out = []
    for upos, words, examples, definition in synset_texts(Path(directory)):
        for ex in examples:
            tokens = tokenize(ex)
            if tokens:
                out.append((tokens, labeller.label(tokens, (upos, words))))
        if glosses and definition:
            tokens = tokenize(definition)
            if tokens:
                out.append((tokens, labeller.label(tokens)))
    return out


def main(argv: list[str] | None = None) -> int:
    from kgnlu.kg.sources.wordnet import DEFAULT_DIR

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wordnet", type=Path, default=DEFAULT_DIR, help="WordNet dict folder")
    ap.add_argument("--out", type=Path, default=SHIPPED, help="where the tagger is written")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--no-glosses", action="store_true", help="train on example sentences only")
    ap.add_argument("--lexicon", action="store_true",
                    help="add WordNet class features (dev accuracy 0.913 against 0.926 without: the weak labels "
                         "come from the same classes, so the tagger learns to trust them over context)")
    args = ap.parse_args(argv)
    sentences = training_sentences(args.wordnet, glosses=not args.no_glosses)
    labels = sum(sum(t is not None for t in tags) for _, tags in sentences)
    tokens = sum(len(t) for t, _ in sentences)
    print(f"tagger: {len(sentences):,} sentences, {tokens:,} tokens, {labels:,} labelled", flush=True)
    from kgnlu.text.lexicon import WordNetClasses

    lexicon = WordNetClasses.open(args.wordnet) if args.lexicon else None
    tagger = PerceptronTagger.train(sentences, epochs=args.epochs, lexicon=lexicon, log=lambda s: print(s, flush=True))
    print(f"wrote {tagger.save(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
