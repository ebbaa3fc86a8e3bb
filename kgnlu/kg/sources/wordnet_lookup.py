"""Random-access WordNet: a word's parts of speech and the hypernym closure of its senses, read on
demand from a dict folder without loading it.

WordNet's ``index.POS`` files are sorted by lemma (binary search over the memory-mapped file) and a
synset's offset *is* the byte offset of its line in ``data.POS`` (one seek). So asking "is
*professor* a kind of *person*?" costs a few page reads, not the 3 s of parsing every synset: what
QA needs to type answers on any graph whose class names are English words.

    wn = WordNetLookup.open()            # None when no dict folder is installed
    wn.parts_of_speech("teaches")        # {"verb"}  (via morphology: teach)
    "person" in wn.ancestors("professor")  # True
"""

from __future__ import annotations

import mmap
from functools import lru_cache
from pathlib import Path

from kgnlu.kg.sources.wordnet import DEFAULT_DIR

POS_NAMES = ("noun", "verb", "adj", "adv")
# regular de-inflections (WordNet's morphy suffix rules) per part of speech
_SUFFIXES = {
    "noun": (("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
             ("ies", "y"), ("s", "")),
    "verb": (("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", ""),
             ("s", "")),
    "adj": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "adv": (),
}


class WordNetLookup:
    def __init__(self, directory: str | Path = DEFAULT_DIR):
        self.directory = Path(directory)
        self._maps: dict[str, mmap.mmap] = {}
        self._exceptions: dict[str, dict[str, tuple[str, ...]]] = {}
        # lru_cache on bound methods would hold self; per-instance caches instead
        self.ancestors = lru_cache(maxsize=4096)(self._ancestors)

    @classmethod
    def open(cls, directory: str | Path | None = None) -> WordNetLookup | None:
        """The lookup over ``directory`` (default /usr/share/wordnet), None if it is not a dict folder."""
        d = Path(directory) if directory else DEFAULT_DIR
        if not all((d / f"index.{p}").is_file() and (d / f"data.{p}").is_file() for p in POS_NAMES):
            return None
        return cls(d)

    # ------------------------------------------------------------------ files
    def _map(self, name: str) -> mmap.mmap:
        if name not in self._maps:
            with open(self.directory / name, "rb") as f:
                self._maps[name] = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return self._maps[name]

    def _index_line(self, pos: str, lemma: str) -> list[str] | None:
        """The fields of ``lemma``'s line in index.POS (binary search over the sorted file)."""
        data, key = self._map(f"index.{pos}"), lemma.lower().replace(" ", "_").encode() + b" "
        lo, hi = 0, len(data)
        while lo < hi:  # find the first line start >= key
            mid = (lo + hi) // 2
            start = data.rfind(b"\n", 0, mid) + 1
            end = data.find(b"\n", start)
            end = len(data) if end < 0 else end
            line = data[start:end]
            if line.startswith(b" ") or line[: len(key)] < key:  # licence header lines sort first
                lo = end + 1
            else:
                hi = start
        if lo >= len(data):
            return None
        end = data.find(b"\n", lo)
        line = data[lo: len(data) if end < 0 else end]
        return line.decode("utf-8", "replace").split() if line.startswith(key) else None

    def _exception_bases(self, pos: str, word: str) -> tuple[str, ...]:
        if pos not in self._exceptions:
            table: dict[str, tuple[str, ...]] = {}
            path = self.directory / f"{pos}.exc"
            if path.is_file():
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    parts = line.split()
                    if len(parts) >= 2:
                        table[parts[0]] = tuple(parts[1:])
            self._exceptions[pos] = table
        return self._exceptions[pos].get(word, ())

    def participles(self, base: str) -> list[str]:
        """Irregular past forms of a base verb from verb.exc, participle-looking ones first
        ("write" → ["written", "wrote"]): the reverse of the exception list."""
        self._exception_bases("verb", "")  # loads the table
        if "_reverse" not in self._exceptions:
            reverse: dict[str, list[str]] = {}
            for form, bases in self._exceptions["verb"].items():
                for b in bases:
                    reverse.setdefault(b, []).append(form)
            self._exceptions["_reverse"] = {b: tuple(v) for b, v in reverse.items()}
        forms = [f for f in self._exceptions["_reverse"].get(base.lower(), ()) if not f.endswith(("s", "ing"))]
        return sorted(forms, key=lambda f: (not f.endswith(("en", "n", "t", "d")), len(f)))

    # ------------------------------------------------------------------ words
    def lemmas(self, word: str, pos: str) -> list[str]:
        """``word``'s base forms that are ``pos`` lemmas (the word itself first when it is one)."""
        w = word.lower().strip().replace(" ", "_")
        forms = [w, *self._exception_bases(pos, w)]
        forms += [w[: -len(s)] + e for s, e in _SUFFIXES[pos] if w.endswith(s) and len(w) > len(s) + 1]
        return [f for f in dict.fromkeys(forms) if self._index_line(pos, f) is not None]

    def is_lemma(self, word: str, pos: str) -> bool:
        """Whether ``word`` itself (not an inflection) is a ``pos`` lemma."""
        return self._index_line(pos, word) is not None

    def is_common_word(self, word: str) -> bool:
        """Whether ``word`` is an ordinary English word: one of its senses attested in SemCor (the
        first ``tagsense_cnt`` senses of its index line, in any part of speech) writes it in lower
        case. "wood", "rattle", "mutter" are; "Bach", "Gould", "Strauss" (persons only, or an untagged
        rare verb "bach") are not."""
        w = word.strip()
        if not w or not w.replace("-", "").replace("'", "").replace(" ", "").isalpha():
            return False
        lemma = w.lower().replace(" ", "_")
        for pos in POS_NAMES:
            fields = self._index_line(pos, lemma)
            if not fields:
                continue
            n_synsets, n_pointers = int(fields[2]), int(fields[3])
            tagged = int(fields[4 + n_pointers + 1])
            offsets = fields[4 + n_pointers + 2: 4 + n_pointers + 2 + n_synsets][:tagged]
            for offset in offsets:
                if lemma in self._written_words(pos, int(offset)):
                    return True
        return False

    def _written_words(self, pos: str, offset: int) -> list[str]:
        """The words of a synset as its data line writes them (case kept, adjective markers cut)."""
        data = self._map(f"data.{pos}")
        end = data.find(b"\n", offset)
        fields = data[offset: end].decode("utf-8", "replace").split(" | ")[0].split()
        return [fields[4 + 2 * i].split("(")[0] for i in range(int(fields[3], 16))]

    def parts_of_speech(self, word: str) -> set[str]:
        return {pos for pos in POS_NAMES if self.lemmas(word, pos)}

    def senses(self, word: str, pos: str = "noun", limit: int | None = None) -> list[int]:
        """Synset offsets of ``word``'s senses, commonest first (WordNet's order)."""
        out: list[int] = []
        for lemma in self.lemmas(word, pos):
            fields = self._index_line(pos, lemma) or []
            n_synsets, n_pointers = int(fields[2]), int(fields[3])
            start = 4 + n_pointers + 2
            out += [int(o) for o in fields[start: start + n_synsets]]
        out = list(dict.fromkeys(out))
        return out[:limit] if limit else out

    def synset(self, offset: int, pos: str = "noun") -> tuple[list[str], list[int]]:
        """(lemmas, hypernym offsets incl. instance hypernyms) of the synset at ``offset``."""
        data = self._map(f"data.{pos}")
        end = data.find(b"\n", offset)
        fields = data[offset: end].decode("utf-8", "replace").split(" | ")[0].split()
        w_cnt = int(fields[3], 16)
        lemmas = [fields[4 + 2 * i].replace("_", " ").lower() for i in range(w_cnt)]
        at = 4 + 2 * w_cnt
        p_cnt = int(fields[at])
        hypernyms = []
        for i in range(p_cnt):
            symbol, target = fields[at + 1 + 4 * i], fields[at + 2 + 4 * i]
            if symbol in ("@", "@i"):
                hypernyms.append(int(target))
        return [lemma.split("(")[0] for lemma in lemmas], hypernyms

    def _ancestors(self, word: str, senses: int = 2, depth: int = 16) -> frozenset[str]:
        """Lemmas of every hypernym (and instance hypernym) of ``word``'s ``senses`` commonest noun
        senses, the senses' own lemmas included: what a ``word`` is a kind of."""
        out: set[str] = set()
        frontier = self.senses(word, "noun", senses)
        seen = set(frontier)
        for _ in range(depth):
            nxt = []
            for offset in frontier:
                lemmas, hypernyms = self.synset(offset)
                out.update(lemmas)
                nxt += [h for h in hypernyms if h not in seen]
                seen.update(hypernyms)
            if not nxt:
                break
            frontier = nxt
        return frozenset(out)
