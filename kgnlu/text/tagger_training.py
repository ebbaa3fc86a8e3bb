"""Training kgnlu's part-of-speech tagger from WordNet alone (offline, no treebank).

WordNet's example sentences say the part of speech of one word each: the synset's own word in
"he drove the car to work" is a verb. Every other token gets a weak label where its word leaves no
doubt — a function word (:mod:`kgnlu.text.closed_class`), a form of "be" (AUX in UD English),
punctuation, a number, a content word that WordNet lists under one part of speech only, a
capitalised word WordNet does not know (PROPN) — and stays unlabelled (context only) otherwise.
Glosses add more weakly labelled text. Words whose tag follows from their neighbours get it by rule
(possessive "'s" before a noun, "'s" = "is" after "it"; "after"/"before"/"until"/"since" opening a
clause are SCONJ, before a noun phrase ADP; "how", "why", "where" ADV; "what"/"which" DET before a
noun). WordNet's multi-word lemmas label the words of every occurrence: a compound noun ("power
plant") is NOUN NOUN, a phrasal verb ("give up") VERB and ADP; a verb synset's gloss opens with
its head verb ("move forward"), a noun synset's gloss has its head noun before the first
preposition or relative ("a [group] of animals"). Sentences start with a capital as real text does
(WordNet's examples mostly start in lower case). The averaged perceptron learns the ambiguous words
("drive", "bank", "to", "that") from their labelled uses and their context; the tagger keeps each
word's WordNet classes (:mod:`kgnlu.text.lexicon`) as its tag dictionary (and, with --lookahead,
as features of the next words).

    python -m kgnlu.text.tagger_training              # trains and writes kgnlu/text/data/tagger.json.gz
    python -m kgnlu.text.tagger_training --out FILE --epochs 4 [--dominant SHARE] [--lookahead] [--lexicon]
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
_NAME = {v: k for k, v in POS_OF_NAME.items()}
BE = {"be", "is", "am", "are", "was", "were", "been", "being"}
HAVE = {"have", "has", "had", "having", "'ve"}
DO = {"do", "does", "did"}
_NEGATION_OR_ADVERB = {"not", "n't", "never", "already", "just", "also", "always", "often", "ever", "still"}
_QUOTED = re.compile(r'"([^"]+)"')
PARTICLES = frozenset("up down out off in on over away back through around about along across together apart "
                      "forth".split())
_ADVERB_PARTICLES = frozenset("away back together apart forth".split())  # UD EWT: ADV, the others ADP
_SUBJECTS = frozenset("i he she we they".split())
_IS_HOSTS = frozenset("it he she that what there here who where how this everything nothing something".split())
_CLAUSE_OR_PHRASE = frozenset("after before until till since".split())
_AUX_OR_PRONOUN_NEXT = frozenset("is are was were 's do does did will would can could i you he she we they it ? , "
                                 ".".split())


def sense_counts(directory: Path) -> dict[tuple[str, str], int]:
    """(lemma, UPOS) → how often its senses are tagged in SemCor (index.sense's tag counts)."""
    out: dict[tuple[str, str], int] = {}
    path = Path(directory) / "index.sense"
    if not path.is_file():
        return out
    upos = {"1": "NOUN", "2": "VERB", "3": "ADJ", "4": "ADV", "5": "ADJ"}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            fields = line.split()
            if len(fields) == 4 and fields[3] != "0":
                lemma, _, rest = fields[0].partition("%")
                key = (lemma, upos.get(rest[:1], "X"))
                out[key] = out.get(key, 0) + int(fields[3])
    return out


def multiword_lemmas(directory: Path, pos: str) -> frozenset[tuple[str, ...]]:
    """WordNet's lemmas of two or three alphabetic words in index.``pos`` ("power_plant")."""
    out = set()
    path = Path(directory) / f"index.{pos}"
    if not path.is_file():
        return frozenset()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            lemma = line.split(" ", 1)[0]
            parts = tuple(lemma.split("_"))
            if not line.startswith(" ") and 2 <= len(parts) <= 3 and all(p.isalpha() for p in parts):
                out.add(parts)
    return frozenset(out)


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

    def __init__(self, lookup, dominant: float = 0.0):
        """``dominant``: an ambiguous word is labelled with the part of speech holding at least this
        share of its SemCor-tagged senses' counts (at least 5 in all); 0 leaves it to context."""
        self.lookup = lookup
        self.dominant = dominant
        self.parts = lru_cache(maxsize=200_000)(self._parts)
        self.common = lru_cache(maxsize=200_000)(lookup.is_common_word)
        self.lemmas = lru_cache(maxsize=400_000)(lookup.lemmas)
        directory = getattr(lookup, "directory", None)
        self.compounds = multiword_lemmas(directory, "noun") if directory else frozenset()
        self.phrasal = multiword_lemmas(directory, "verb") if directory else frozenset()
        self.counts = sense_counts(directory) if directory and dominant else {}

    def _parts(self, word: str) -> frozenset[str]:
        return frozenset(POS_OF_NAME[p] for p in self.lookup.parts_of_speech(word))

    def label(self, tokens: list[str], target: tuple[str, set[str]] | None = None,
              gloss_of: str | None = None) -> list[str | None]:
        """Weak labels of ``tokens``: an example sentence of ``target`` (UPOS, lemmas), or the gloss
        of a synset of part of speech ``gloss_of``, or other text."""
        out: list[str | None] = []
        for i, tok in enumerate(tokens):
            low = tok.lower()
            out.append(self._one(i, tok, low, tokens, target))
        low = [t.lower() for t in tokens]
        self._by_neighbours(tokens, low, out)
        self._multiword(tokens, low, out)
        if gloss_of is not None:
            self._gloss_head(low, out, gloss_of)
        return out

    def _by_neighbours(self, tokens: list[str], low: list[str], out: list[str | None]) -> None:
        """Function words whose tag follows from the next or previous word (module docstring)."""
        n = len(tokens)
        for i, w in enumerate(low):
            nxt = low[i + 1] if i + 1 < n else ""
            prv = low[i - 1] if i > 0 else ""
            if w == "'s":
                if prv == "let":
                    out[i] = "PRON"
                elif prv in _IS_HOSTS or CLOSED.get(nxt) in ("DET", "ADV", "PART") or nxt.endswith("ing"):
                    out[i] = "AUX"
                elif nxt.isalpha() and nxt not in CLOSED and self.parts(nxt) & {"NOUN", "ADJ"}:
                    out[i] = "PART"
            elif w in _CLAUSE_OR_PHRASE:
                if nxt in _SUBJECTS:
                    out[i] = "SCONJ"
                elif (CLOSED.get(nxt) == "DET" or nxt[:1].isdigit() or tokens[i + 1][:1].isupper()) if nxt else False:
                    out[i] = "ADP"
                else:
                    out[i] = "ADP" if self.parts(nxt) == frozenset({"NOUN"}) else None
            elif w in ("what", "which", "whatever", "whichever"):
                if self.parts(nxt) == frozenset({"NOUN"}):
                    out[i] = "DET"
                elif nxt in _AUX_OR_PRONOUN_NEXT:
                    out[i] = "PRON"
            elif w in ("how", "why", "where"):
                out[i] = "ADV"
            elif w == "when":
                out[i] = "ADV" if i == 0 and tokens[-1] == "?" else "SCONJ"

    def _multiword(self, tokens: list[str], low: list[str], out: list[str | None]) -> None:
        """Unlabelled words of a compound noun or phrasal verb WordNet lists (module docstring)."""
        n = len(tokens)
        for i in range(n):
            for size in (3, 2):
                seg = low[i:i + size]
                if len(seg) < size or not all(s.isalpha() for s in seg) or any(
                        tokens[k][:1].isupper() for k in range(max(i, 1), i + size)):
                    continue
                verb = seg[-1] in PARTICLES and any((b, *seg[1:]) in self.phrasal for b in self.lemmas(seg[0], "verb"))
                noun = (seg[-1] not in PARTICLES and seg[-1] not in CLOSED and seg[0] not in CLOSED
                        and any((*seg[:-1], h) in self.compounds for h in self.lemmas(seg[-1], "noun")))
                if verb == noun:
                    continue
                if verb:
                    out[i] = out[i] or "VERB"
                    for k in range(i + 1, i + size):
                        if out[k] is None and low[k] in PARTICLES:
                            out[k] = "ADV" if low[k] in _ADVERB_PARTICLES else "ADP"
                else:
                    out[i + size - 1] = out[i + size - 1] or "NOUN"
                    for k in range(i, i + size - 1):
                        if out[k] is None and self.lemmas(low[k], "noun") and not self.lemmas(low[k], "adj"):
                            out[k] = "NOUN"
                break

    def _gloss_head(self, low: list[str], out: list[str | None], upos: str) -> None:
        """A verb gloss's first word, a noun gloss's word before its first preposition or relative."""
        if not low:
            return
        if upos == "VERB":
            bases = self.lemmas(low[0], "verb")
            if out[0] is None and bases and bases[0] == low[0]:
                out[0] = "VERB"
        elif upos == "NOUN":
            j = 0
            while j < len(low) and not (CLOSED.get(low[j]) in ("ADP", "PRON")
                                        or low[j] in ("that", "which", "who", ",", ";", "(", "or", "and")):
                j += 1
            h = j - 1
            if 0 <= h and j < len(low) and out[h] is None and low[j] not in ("or", "and") and low[h].isalpha() \
                    and self.lemmas(low[h], "noun"):
                out[h] = "NOUN"

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
        if self.counts and parts and all(self.lemmas(low, _NAME[p])[:1] == [low] for p in parts):  # base forms only
            share = {p: sum(self.counts.get((b, p), 0) for b in self.lemmas(low, _NAME[p])) for p in parts}
            total = sum(share.values())
            best = max(share, key=share.get)
            if total >= 5 and share[best] >= self.dominant * total:
                return best
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


def training_sentences(directory: Path, glosses: bool = True,
                       dominant: float = 0.0) -> list[tuple[list[str], list[str | None]]]:
    from kgnlu.text.lexicon import WordNetClasses

    labeller = WeakLabeller(WordNetClasses.open(directory).lookup, dominant)
    out = []
    for upos, words, examples, definition in synset_texts(Path(directory)):
        for ex in examples:
            tokens = tokenize(ex)
            if tokens:
                out.append((tokens, labeller.label(tokens, (upos, words))))
        if glosses and definition:
            tokens = tokenize(definition)
            if tokens:
                out.append((tokens, labeller.label(tokens, gloss_of=upos)))
    # real text opens with a capital; WordNet's examples and glosses mostly do not
    return [([tokens[0][:1].upper() + tokens[0][1:], *tokens[1:]] if tokens[0][:1].islower() else tokens, tags)
            for tokens, tags in out]


def word_classes(sentences, directory: Path) -> dict[str, str]:
    """The WordNet class code (:class:`kgnlu.text.lexicon.WordNetClasses`) of every word in
    ``sentences``, lower case: the dictionary the tagger keeps."""
    from kgnlu.text.lexicon import WordNetClasses

    classes = WordNetClasses.open(directory)
    words = {t.lower() for tokens, _ in sentences for t in tokens}
    return {w: classes(w) for w in sorted(words)}


def main(argv: list[str] | None = None) -> int:
    from kgnlu.kg.sources.wordnet import DEFAULT_DIR

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wordnet", type=Path, default=DEFAULT_DIR, help="WordNet dict folder")
    ap.add_argument("--out", type=Path, default=SHIPPED, help="where the tagger is written")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--no-glosses", action="store_true", help="train on example sentences only")
    ap.add_argument("--dominant", type=float, default=0.0, help="label an ambiguous word with the part of speech "
                    "holding this share of its SemCor sense counts (0, the default: never; dev accuracy 0.942 at 0.9, 0.928 at "
                    "0.75, against 0.947 at 0: the labels override context)")
    ap.add_argument("--lookahead", action="store_true", help="add features of the next two words' WordNet classes "
                    "(dev accuracy 0.938 against 0.947 without)")
    ap.add_argument("--lexicon", action="store_true",
                    help="add WordNet class features (dev accuracy 0.913 against 0.926 without: the weak labels "
                         "come from the same classes, so the tagger learns to trust them over context)")
    args = ap.parse_args(argv)
    sentences = training_sentences(args.wordnet, glosses=not args.no_glosses, dominant=args.dominant)
    labels = sum(sum(t is not None for t in tags) for _, tags in sentences)
    tokens = sum(len(t) for t, _ in sentences)
    print(f"tagger: {len(sentences):,} sentences, {tokens:,} tokens, {labels:,} labelled", flush=True)
    from kgnlu.text.lexicon import WordNetClasses

    lexicon = WordNetClasses.open(args.wordnet) if args.lexicon else None
    tagger = PerceptronTagger.train(sentences, epochs=args.epochs, lexicon=lexicon,
                                    classes=word_classes(sentences, args.wordnet), lookahead=args.lookahead,
                                    log=lambda s: print(s, flush=True))
    print(f"wrote {tagger.save(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
