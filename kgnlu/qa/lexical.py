"""WordNet lexical substitution for training questions: more wordings from the lexicon itself.

The QA data has a few question templates per relation path; a scorer trained on them learns
their words ("capital", "country", "bordering") and misses a question that says "seat of
government", "nation" or "adjacent". EDA-style augmentation (Wei & Zou 2019, "synonym
replacement") with WordNet — the graph kgnlu already reads — gives each training question
variants in which content words are swapped for a lemma of one of their commonest senses, or for
that sense's definition when it is a short phrase ("capital" → "seat of government"). No
template of any split is read: the substitutions come from the lexicon alone, so wordings that
a held-out split uses stay unseen unless the lexicon happens to hold them.

    lexicon = Lexicon.load("/usr/share/wordnet", senses=3)
    lexicon.alternatives("countries")   # ['state', 'nation', 'land', 'commonwealth', ...]
    lexical_variants("What is the capital of something?", lexicon, n=4, rng=random.Random(0))
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from kgnlu.errors import ConfigError, ParseError

#: WordNet's index files and the synset type each one's offsets point into
INDEX_FILES = {"noun": "n", "verb": "v", "adj": "a"}
#: question words and function words: swapping them changes what is asked, not how it is worded
STOPWORDS = frozenset("""
a an the of to in on at by for from with as into onto about than and or nor but if
what which who whom whose where when why how whether
is are was were be been being am do does did done has have had having can could may might must
shall should will would it its this that these those there here something someone one ones
name give list tell say
""".split())
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|[^A-Za-z]+")
_ARTICLE = re.compile(r"^(?:a|an|the)\s+")
_INFLECTIONS = (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"))


@dataclass(frozen=True)
class Lexicon:
    """Lemma → its alternatives: the other lemmas of its ``senses`` commonest senses per part of
    speech (WordNet orders an index line's synsets by tagged frequency), plus each sense's
    definition when it is at most ``max_definition_words`` words."""

    senses_of: dict[str, tuple[tuple[str, int], ...]]  # lemma → ((synset type, offset), ...)
    synsets: dict[tuple[str, int], tuple[tuple[str, ...], str]]  # → (lemmas, short definition or "")
    exceptions: dict[str, tuple[str, ...]]  # irregular inflection → base forms (all parts of speech)

    @classmethod
    def load(cls, directory: str | Path, senses: int = 3, max_definition_words: int = 4) -> Lexicon:
        from kgnlu.kg.sources.wordnet_format import read_exceptions, read_synsets

        directory = Path(directory)
        if senses < 1:
            raise ConfigError(f"lexicon senses must be >= 1, got {senses}")
        missing = [name for name in INDEX_FILES if not (directory / f"index.{name}").is_file()]
        if missing:
            raise ConfigError(f"{directory} is not a WordNet dict folder (no index.{missing[0]}); point "
                              "qa.lexicon_dir at one, e.g. /usr/share/wordnet, or set qa.lexical_variants=0")
        senses_of: dict[str, list[tuple[str, int]]] = {}
        for name, ss_type in INDEX_FILES.items():
            for lemma, offsets in _read_index(directory / f"index.{name}"):
                senses_of.setdefault(lemma, []).extend((ss_type, o) for o in offsets[:senses])
        wanted = {key for keys in senses_of.values() for key in keys}
        synsets = {}
        for synset in read_synsets(directory):
            key = ("a" if synset.ss_type == "s" else synset.ss_type, synset.offset)
            if key in wanted:
                definition = _ARTICLE.sub("", synset.definition.split(";")[0].strip().lower())
                short = definition if 0 < len(definition.split()) <= max_definition_words else ""
                synsets[key] = (tuple(lemma.name.replace("_", " ") for lemma in synset.lemmas), short)
        exceptions: dict[str, dict[str, None]] = {}  # form → bases in first-seen order, no repeats
        for table in read_exceptions(directory).values():
            for form, bases in table.items():
                exceptions.setdefault(form, {}).update(dict.fromkeys(bases))
        return cls({k: tuple(v) for k, v in senses_of.items()}, synsets,
                   {k: tuple(v) for k, v in exceptions.items()})

    def base_forms(self, word: str) -> list[str]:
        """The word lowercased, its irregular bases, and regular de-inflections (WordNet's morphy rules,
        simplified: a candidate that is not a lemma finds no senses and adds nothing)."""
        w = word.lower()
        out = [w, *self.exceptions.get(w, ())]
        out += [w[: -len(suffix)] + ending for suffix, ending in _INFLECTIONS
                if w.endswith(suffix) and len(w) > len(suffix) + 2]
        return list(dict.fromkeys(out))

    def alternatives(self, word: str) -> list[str]:
        """Other wordings of ``word``'s commonest senses, most frequent sense first, no repeats."""
        out: list[str] = []
        for base in self.base_forms(word):
            for key in self.senses_of.get(base, ()):
                lemmas, definition = self.synsets.get(key, ((), ""))
                out += [lemma for lemma in lemmas if lemma.lower() != base]
                if definition:
                    out.append(definition)
        return [w for w in dict.fromkeys(out) if w.lower() != word.lower()]


def _read_index(path: Path):
    """(lemma with spaces, [synset offsets]) per line of a WordNet ``index.POS`` file."""
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.startswith(" ") or not line.strip():  # the licence header
                continue
            fields = line.split()
            try:
                n_synsets, n_pointers = int(fields[2]), int(fields[3])
                offsets = [int(o) for o in fields[4 + n_pointers + 2:4 + n_pointers + 2 + n_synsets]]
            except (IndexError, ValueError):
                raise ParseError(path, lineno, 1, "an index line: lemma pos synset_cnt p_cnt [ptr...] "
                                 "sense_cnt tagsense_cnt offset...") from None
            if len(offsets) != n_synsets:
                raise ParseError(path, lineno, 1, f"{n_synsets} synset offsets, found {len(offsets)}")
            yield fields[0].replace("_", " "), offsets


def lexical_variants(text: str, lexicon: Lexicon, n: int, rng: random.Random, rate: float = 0.5,
                     keep: frozenset[str] = frozenset()) -> list[str]:
    """``n`` rewordings of ``text``: each content word (not a stopword, not in ``keep``, e.g. the
    topic placeholder) is swapped, with probability ``rate``, for a random one of its alternatives.
    A variant may equal the text when no word was swapped."""
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(f"lexical substitution rate must be in [0, 1], got {rate}")
    pieces = _WORD.findall(text)
    choices = [lexicon.alternatives(p) if p[:1].isalpha() and p.lower() not in STOPWORDS and p not in keep else []
               for p in pieces]
    out = []
    for _ in range(n):
        words = [rng.choice(alts) if alts and rng.random() < rate else piece for piece, alts in zip(pieces, choices,
                                                                                                     strict=True)]
        out.append("".join(words))
    return out
