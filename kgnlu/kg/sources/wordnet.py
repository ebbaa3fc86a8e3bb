"""WordNet 3.0 as a graph: synsets are entities, pointers are relations, lemmas are aliases.

Spec ``wordnet`` (reads ``/usr/share/wordnet``) or ``wordnet:DIR`` (any WordNet 3.0 dict folder).

- Entities: one per synset, id ``wn:OFFSET-POS`` (Princeton's RDF ids; satellites take ``a``), label
  = first lemma with spaces, text = the gloss as written (definition then quoted examples).
- Kind: ``wordnet:<lexname>`` — the lexicographer file, e.g. ``wordnet:noun.animal``,
  ``wordnet:verb.motion``, ``wordnet:adj.all``. It carries the part of speech (the part before the
  dot, see :func:`kind_pos`) *and* the 45-way supersense, so gloss → lexname classification
  (pretraining) reads labels straight from the kind table, with no extra triples in the KGE graph.
- Relations: ``wnrel:<name>`` for synset-level pointers (``wnrel:hypernym``,
  ``wnrel:part_meronym``, ...); sense-level (lexical) pointers, which hold between two words, are
  mapped onto the words' synsets as ``wnrel:sense/<name>`` (``wnrel:sense/antonym``,
  ``wnrel:sense/derivation``) so the two kinds stay apart.
- Aliases: every lemma. A sense with SemCor count ``c`` (``cntlist``, else ``index.sense``) and
  WordNet sense number ``n`` weighs ``c + 1/n``: smoothing so zero-count senses still get a prior;
  since counts are integers and ``1/n <= 1``, a higher count always wins and equal counts keep
  WordNet's own sense order. Weights are normalised per surface within this source, so each
  source contributes a distribution and mixing with GeoNames (populations) stays balanced.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kgnlu.errors import DataMissingError, ParseError
from kgnlu.integrity import source_checksum
from kgnlu.kg.graph_builder import GraphBuilder, alias_key
from kgnlu.kg.sources.base import SOURCES, Source
from kgnlu.kg.sources.wordnet_format import (
    LEXNAMES,
    POS_FILES,
    Lemma,
    Pointer,
    Synset,
    data_files,
    pointer_label,
    pointer_name,
    read_exceptions,
    read_sense_counts,
    read_synsets,
    sense_count_files,
    sense_key,
)
from kgnlu.progress import progress_bar

DEFAULT_DIR = Path("/usr/share/wordnet")
KIND_PREFIX = "wordnet:"
SENSE_RELATION_PREFIX = "sense/"
INSTALL_HINT = ("install it with `apt-get install --no-install-recommends wordnet-base "
                "wordnet-sense-index` or pass the dict folder as wordnet:DIR")

__all__ = [
    "LEXNAMES", "Lemma", "Pointer", "Synset", "WordNetSource", "kind_lexname", "kind_pos",
    "read_exceptions", "read_synsets", "sense_key",
]


def kind_lexname(kind: str) -> str | None:
    """``wordnet:noun.animal`` → ``noun.animal`` (None for kinds of other sources)."""
    return kind[len(KIND_PREFIX):] if kind.startswith(KIND_PREFIX) else None


def kind_pos(kind: str) -> str | None:
    """``wordnet:noun.animal`` → ``n`` (the part of speech of a WordNet kind)."""
    lexname = kind_lexname(kind)
    if lexname is None:
        return None
    coarse = lexname.split(".")[0]
    return next((pos for pos, name in POS_FILES.items() if name == coarse), None)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: reading WordNet allocates ~1.5 M small tuples and no cycles, and the
    collections those allocations trigger would otherwise double the build time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@SOURCES.register("wordnet")
class WordNetSource(Source):
    name = "wordnet"

    def __init__(self, directory: str | Path = DEFAULT_DIR):
        self.directory = Path(directory)

    @classmethod
    def from_spec(cls, argument: str | None) -> WordNetSource:
        return cls(argument) if argument else cls()

    @property
    def spec(self) -> str:
        return "wordnet" if self.directory == DEFAULT_DIR else f"wordnet:{self.directory}"

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            raise DataMissingError(f"no WordNet dict folder at {self.directory}: {INSTALL_HINT}")
        files = data_files(self.directory)
        missing = [p.name for p in files if not p.is_file()]
        if missing:
            raise DataMissingError(f"{self.directory} lacks {', '.join(missing)}; it is not a "
                                   f"WordNet 3.0 dict folder: {INSTALL_HINT}")
        return files

    def checksum(self) -> str:
        # Everything that shapes the graph: the synsets and the sense counts behind the priors.
        return source_checksum(self._files() + sense_count_files(self.directory))

    def emit(self, builder: GraphBuilder) -> None:
        with _gc_paused():
            self._emit(builder)

    def _emit(self, builder: GraphBuilder) -> None:
        files = self._files()
        counts = builder.begin_source(self.spec, self.name, self.checksum())
        senses = read_sense_counts(self.directory)
        with progress_bar(sum(p.stat().st_size for p in files), "wordnet", "B") as bar:
            synsets = list(read_synsets(self.directory, bar.update))
        # A satellite's sense key names the first word of its head adjective (senseidx(5WN)).
        head_words = {s.offset: s.lemmas[0] for s in synsets if s.ss_type == "a"}

        heads: list[str] = []
        tails: list[str] = []
        relations: list[int] = []
        relation_ids: dict[tuple[str, str, bool], int] = {}
        weights: dict[str, dict[str, float]] = defaultdict(dict)
        order: dict[tuple[str, str], int] = {}  # (lemma, pos) → senses seen, when no index says
        lexical = 0
        for s in synsets:
            sid = s.id
            builder.entity(sid, label=s.lemmas[0].name.replace("_", " "),
                           kind=KIND_PREFIX + s.lexname, text=s.gloss or None)
            head = self._head_word(s, head_words, files[2]) if s.ss_type == "s" else None
            for lemma in s.lemmas:
                seen = order[lemma.name.lower(), s.pos] = order.get((lemma.name.lower(), s.pos), 0) + 1
                info = senses.get(sense_key(lemma, s, head))
                count, number = (info.count, info.number) if info else (0, seen)
                bucket = weights[alias_key(lemma.name.replace("_", " "))]
                # max, not sum: "US" and "U.S." style variants of one synset normalise alike.
                bucket[sid] = max(bucket.get(sid, 0.0), count + 1.0 / max(number, 1))
            for p in s.pointers:
                key = (p.symbol, s.pos, p.is_lexical)
                rel = relation_ids.get(key)
                if rel is None:
                    rel = relation_ids[key] = self._relation(builder, p, s.pos)
                heads.append(sid)
                tails.append(f"wn:{p.offset:08d}-{p.pos}")  # = p.target_id, inlined (hot loop)
                relations.append(rel)
                lexical += p.is_lexical

        if heads:
            builder.triples_by_id(builder.entity_ids(heads), relations, builder.entity_ids(tails))
        for key, bucket in weights.items():
            total = sum(bucket.values())
            for sid, w in bucket.items():
                builder.alias(key, sid, w / total)
        counts.extra.update(synsets=len(synsets), synset_pointers=len(heads) - lexical,
                            sense_pointers=lexical)

    @staticmethod
    def _relation(builder: GraphBuilder, p: Pointer, source_pos: str) -> int:
        name = pointer_name(p.symbol, source_pos)
        assert name is not None  # the parser rejects unknown symbols
        if p.is_lexical:
            return builder.relation(f"wnrel:{SENSE_RELATION_PREFIX}{name}",
                                    label=f"{pointer_label(name)} (word sense)")
        return builder.relation(f"wnrel:{name}", label=pointer_label(name))

    @staticmethod
    def _head_word(s: Synset, head_words: dict[int, Lemma], path: Path) -> Lemma:
        for p in s.pointers:
            if p.symbol == "&" and p.offset in head_words:
                return head_words[p.offset]
        raise ParseError(path, None, None, f"expected satellite {s.id} to have a similar-to (&) "
                         "pointer to a head adjective synset")
