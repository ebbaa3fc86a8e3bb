"""Mention detection: alias matching over spaCy tokens (longest match, case folding, lemma and
plural variants), an optional NER pass, and overlap resolution.

Matching walks a token-prefix set: from each token, keys grow one token at a time (the tokens'
normalised forms joined as the text joins them) while the key is still a prefix of some alias, and
the longest full alias wins. Prefixes come from tokenising every alias key with the same spaCy
tokenizer, so an alias matches exactly when its tokens appear in the text. The last token of a
span may also match through a variant: WordNet's morphology (the ``.exc`` exception lists plus
morphy's detachment rules, each tied to a part of speech so "banks" reaches the noun and verb
"bank" but "better" reaches only adjectives "good"/"well") and English plurals for every entity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc

from kgnlu.kg.graph_builder import alias_key

# morphy(7WN) detachment rules: (suffix, replacement) per part of speech.
MORPHY_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "n": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
          ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
          ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}
# Plurals for entities of any source (a TSV graph's "dog" matches "dogs"); tagged as nouns.
PLURAL_RULES = (("ies", "y"), ("es", ""), ("s", ""))
SENTENCE_END = frozenset({".", "!", "?", ":", ";", '"', "“", "”", "'", "(", "[", "-", "—", "–", "•"})
STOP = frozenset(STOP_WORDS) | {"'s", "n't", "'m", "'re", "'ve", "'ll", "'d"}
MAX_FUZZY_RUN = 4  # longest run of unmatched capitalised tokens tried as one fuzzy mention
MIN_FUZZY_LEN = 5  # shortest unmatched lowercase word tried against the fuzzy index


@dataclass(frozen=True)
class Variant:
    """An alias key a mention reaches through morphology; ``pos`` restricts the entities."""

    key: str
    pos: str | None  # "n", "v", "a", "r"; None = the surface itself (no restriction)


@dataclass
class Mention:
    start: int  # character offsets into the text
    end: int
    token_start: int
    token_end: int
    variants: list[Variant]  # alias keys to look up (empty: fuzzy/dense only)
    capitalised: bool  # first letter upper case
    sentence_initial: bool
    from_ner: bool = False
    ner_label: str = ""
    fuzzy: bool = False  # no alias matched; candidates come from the fuzzy/dense indexes


class Morphology:
    """Lemma candidates of a word: WordNet exceptions (pos → inflected → bases) plus rules."""

    def __init__(self, exceptions: dict[str, dict[str, list[str]]]):
        # Keys normalised like aliases (underscores → spaces, case-folded).
        self.exceptions = {pos: {alias_key(k.replace("_", " ")): [alias_key(b.replace("_", " "))
                                                                   for b in bases]
                                 for k, bases in table.items()}
                           for pos, table in exceptions.items()}
        self._cache: dict[str, tuple[Variant, ...]] = {}

    def to_json(self) -> dict:
        return self.exceptions

    @classmethod
    def from_json(cls, data: dict) -> Morphology:
        m = cls({})
        m.exceptions = {pos: dict(table) for pos, table in data.items()}
        return m

    def variants(self, word: str) -> tuple[Variant, ...]:
        """Base forms of a normalised word (or phrase), the word itself excluded."""
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        out: dict[tuple[str, str], None] = {}
        for pos, table in self.exceptions.items():
            for base in table.get(word, ()):
                out[base, pos] = None
        if " " not in word and word.isalpha():
            for pos, rules in MORPHY_RULES.items():
                for suffix, repl in rules:
                    if word.endswith(suffix) and len(word) > len(suffix) + 1:
                        out[word[: -len(suffix)] + repl, pos] = None
            for suffix, repl in PLURAL_RULES:
                if word.endswith(suffix) and not word.endswith("ss") and len(word) > len(suffix) + 1:
                    out[word[: -len(suffix)] + repl, "n"] = None
        result = tuple(Variant(k, p) for k, p in out if k != word)
        if len(self._cache) < 200_000:
            self._cache[word] = result
        return result

    def inflected_phrases(self) -> Iterable[str]:
        """Multi-word inflected forms ("attorneys general"): matched as keys of their own."""
        for table in self.exceptions.values():
            yield from (k for k in table if " " in k)


def token_keys(nlp, keys: Sequence[str]) -> Iterable[list[str]]:
    """The token-by-token match keys of alias strings: cumulative joins of normalised tokens."""
    for doc in nlp.tokenizer.pipe(keys, batch_size=4096):
        out, key, sep = [], "", ""
        for tok in doc:
            if tok.is_space:
                sep = " "
                continue
            key = alias_key(tok.text) if not key else key + sep + alias_key(tok.text)
            out.append(key)
            sep = " " if tok.whitespace_ else ""
        yield out


class MentionDetector:
    """Finds alias mentions in a spaCy Doc. ``aliases``: alias key → alias row; ``prefixes``:
    every token-boundary prefix of every alias key (and of multi-word inflected forms)."""

    def __init__(self, aliases: dict[str, int], prefixes: set[str], morphology: Morphology,
                 max_tokens: int = 12, names_only=None):
        self.aliases = aliases
        # names_only(alias row) -> True when every entity of the alias is a proper name: a
        # lower-case multi-word match of such an alias ("the bank", an alternate name of a town)
        # is passed over for a shorter match.
        self.names_only = names_only or (lambda row: False)
        self.prefixes = prefixes
        self.morphology = morphology
        self.max_tokens = max_tokens
        self._norms: dict[int, str] = {}

    def _norm(self, tok) -> str:
        n = self._norms.get(tok.orth)
        if n is None:
            n = alias_key(tok.text)
            if len(self._norms) < 500_000:
                self._norms[tok.orth] = n
        return n

    def _variants(self, prev_key: str, sep: str, last: str, key: str) -> list[Variant]:
        out: list[Variant] = []
        for v in self.morphology.variants(key) if " " in key else ():
            if v.key in self.aliases:  # a whole inflected phrase ("attorneys general")
                out.append(v)
        for v in self.morphology.variants(last):
            full = v.key if not prev_key else prev_key + sep + v.key
            if full in self.aliases:
                out.append(Variant(full, v.pos))
        return out

    def detect(self, doc: Doc, *, use_ner: bool = True, fuzzy: bool = True) -> list[Mention]:
        tokens = doc_tokens(doc)
        n = len(tokens)
        norms = [self._norm(t) for t in tokens]
        initial = _sentence_initial(tokens)
        found: list[Mention] = []
        covered = [False] * n
        i = 0
        while i < n:
            best = self._longest(tokens, norms, i, initial)
            if best is not None and self._keep(tokens, i, best[0], norms):
                end, variants = best
                found.append(self._mention(doc, tokens, i, end, variants, initial))
                for k in range(i, end):
                    covered[k] = True
                i = end
            else:
                i += 1
        spans = found
        if use_ner and doc.has_annotation("ENT_IOB"):
            spans = resolve_overlaps(found + self._ner(doc, tokens, norms, initial))
            covered = [False] * n
            for m in spans:
                for k in range(m.token_start, m.token_end):
                    covered[k] = True
        if fuzzy:
            spans = sorted(spans + self._fuzzy_spans(doc, tokens, norms, covered, initial),
                           key=lambda m: m.start)
        return spans

    def _longest(self, tokens, norms, i, initial) -> tuple[int, list[Variant]] | None:
        if tokens[i].is_space or not _wordlike(norms[i]):
            return None
        # A capital on a sentence-initial stop word ("The bank of ...") is orthography, not
        # evidence of a name, so it counts as lower case for the proper-name check below.
        written_lower = not tokens[i].text[:1].isupper() or (initial[i] and norms[i] in STOP)
        best: tuple[int, list[Variant]] | None = None
        key, prev, sep = "", "", ""
        j, used = i, 0
        while j < len(tokens) and used < self.max_tokens:
            tok = tokens[j]
            if tok.is_space:
                sep = " "
                j += 1
                continue
            if tok.text == "(":
                break  # "Plainfield (Connecticut)": a bracketed qualifier is context, not name
            prev = key
            key = norms[j] if not key else key + sep + norms[j]
            used += 1
            hits = [Variant(key, None)] if key in self.aliases else []
            hits += self._variants(prev, sep, norms[j], key)
            if hits and not (used > 1 and written_lower
                             and all(self.names_only(self.aliases[v.key]) for v in hits)):
                best = (j + 1, hits)
            if key not in self.prefixes:
                break
            sep = " " if tok.whitespace_ else ""
            j += 1
        return best

    @staticmethod
    def _keep(tokens, i: int, end: int, norms: list[str]) -> bool:
        """Drop single stop words ("us", "it", "was") unless written as an acronym ("US", "IT")."""
        words = [k for k in range(i, end) if not tokens[k].is_space]
        if len(words) == 1:
            text = tokens[words[0]].text
            if norms[words[0]] in STOP and not (text.isupper() and len(text) > 1):
                return False
        return True

    def _mention(self, doc, tokens, i, end, variants, initial, *, ner_label="",
                 fuzzy=False) -> Mention:
        first, last = tokens[i], tokens[end - 1]
        start_char, end_char = first.idx, last.idx + len(last.text)
        return Mention(start_char, end_char, i, end, variants, first.text[:1].isupper(),
                       initial[i], from_ner=bool(ner_label), ner_label=ner_label, fuzzy=fuzzy)

    def _ner(self, doc, tokens, norms, initial) -> list[Mention]:
        out = []
        for ent in doc.ents:
            key = alias_key(ent.text)
            variants = [Variant(key, None)] if key in self.aliases else []
            words = [norms[k] for k in range(ent.start, ent.end) if not tokens[k].is_space]
            if words:
                prefix = key[: len(key) - len(words[-1])].rstrip()
                variants += self._variants(prefix, " " if prefix else "", words[-1], key)
            out.append(self._mention(doc, tokens, ent.start, ent.end, variants, initial,
                                     ner_label=ent.label_ or "ENT", fuzzy=not variants))
        return out

    def _fuzzy_spans(self, doc, tokens, norms, covered, initial) -> list[Mention]:
        """Unmatched runs of capitalised words, and unmatched long lowercase words: possible
        misspellings, resolved (or dropped) by the fuzzy index."""
        out: list[Mention] = []
        i, n = 0, len(tokens)
        while i < n:
            t = tokens[i]
            if covered[i] or not t.is_alpha:
                i += 1
                continue
            if t.text[0].isupper() and not (initial[i] and norms[i] in STOP):
                j = i + 1
                while (j < n and j - i < MAX_FUZZY_RUN and not covered[j] and tokens[j].is_alpha
                       and tokens[j].text[0].isupper() and tokens[j - 1].whitespace_):
                    j += 1
                out.append(self._mention(doc, tokens, i, j, [], initial, fuzzy=True))
                i = j
                continue
            if len(t.text) >= MIN_FUZZY_LEN and norms[i] not in STOP:
                out.append(self._mention(doc, tokens, i, i + 1, [], initial, fuzzy=True))
            i += 1
        return out


def doc_tokens(doc) -> list:
    """The Doc's Token objects, built once per Doc and kept on it: spaCy makes a new Python object
    on every ``doc[k]`` or iteration, and detection, context and tagging each walk the tokens."""
    tokens = doc.user_data.get("kgnlu_tokens")
    if tokens is None or len(tokens) != len(doc):
        tokens = doc.user_data["kgnlu_tokens"] = list(doc)
    return tokens


def _wordlike(norm: str) -> bool:
    return any(c.isalnum() for c in norm)


def _sentence_initial(tokens) -> list[bool]:
    out, start = [], True
    for t in tokens:
        out.append(start)
        if t.is_space:
            start = start or "\n" in t.text
        else:
            start = t.text in SENTENCE_END or "\n" in t.whitespace_
    return out


def resolve_overlaps(mentions: list[Mention]) -> list[Mention]:
    """Keep non-overlapping mentions: longer first, then earlier, then NER before alias matches
    (spaCy's ``filter_spans`` order). Returns them in text order."""
    ranked = sorted(mentions, key=lambda m: (-(m.end - m.start), m.start, not m.from_ner))
    taken: list[Mention] = []
    used: set[int] = set()
    for m in ranked:
        toks = set(range(m.token_start, m.token_end))
        if toks & used:
            continue
        used |= toks
        taken.append(m)
    return sorted(taken, key=lambda m: m.start)
