"""GraphBuilder: what every source writes into; it interns ids and finalises integer arrays.

Sources call ``entity``/``relation``/``triple``/``alias`` with external ids (CURIEs or IRIs).
The builder gives each entity and relation a contiguous int id in first-seen order, accumulates
alias weights into priors p(e|m), and at ``finalize()`` returns a :class:`GraphData` of numpy arrays
that :mod:`kgnlu.kg.graph_files` writes to disk. Everything an RDF store needs beside the triples is
kept too (labels, texts, kinds), plus RDF files to bulk-load verbatim.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kgnlu.errors import ConfigError
from kgnlu.kg.namespaces import local_name, minted_prefix, name_words

# blank nodes, and the RDF/RDFS/OWL vocabularies: "Class" as an alias would link the word "class"
_UNNAMED = ("_:", "owl:", "rdf:", "rdfs:", "xsd:")
_WORD = re.compile(r"[^\W\d_]{2}")  # two letters in a row: a name, not a number
SPLITS = ("train", "valid", "test")  # triple_split codes 0, 1, 2; unsplit triples count as train
_BLOCK = 1 << 20  # rows per block when decoding packed triple keys


def alias_key(surface: str) -> str:
    """The normalised form aliases are indexed under: NFKC, case-folded, whitespace collapsed,
    invisible format characters dropped (zero-width spaces and joiners, bidi controls, soft
    hyphens: category Cf), so "Fr\u200bance" in a text finds "France"; offsets stay the text's own."""
    if surface.isascii():  # NFKC is the identity on ASCII, and casefold() equals lower() there
        return " ".join(surface.lower().split())
    visible = "".join(ch for ch in surface if unicodedata.category(ch) != "Cf")
    return " ".join(unicodedata.normalize("NFKC", visible).casefold().split())


def alias_keys(surfaces: Sequence[str]) -> list[str]:
    """:func:`alias_key` of each surface: ASCII ones in pyarrow kernels (lower-case, whitespace
    runs — the characters ``str.split`` splits ASCII on — to one space, trimmed), others one by one."""
    if not surfaces:
        return []
    text = pa.array(surfaces, type=pa.string())
    keys = pc.utf8_trim(pc.replace_substring_regex(pc.utf8_lower(text), r"[\t-\r\x1c-\x1f ]+", " "),
                        " ").to_pylist()
    for i in np.flatnonzero(~pc.string_is_ascii(text).to_numpy(zero_copy_only=False)).tolist():
        keys[i] = alias_key(surfaces[i])
    return keys


def local_names_in_words(ext_ids: list[str]) -> list[str | None]:
    """:func:`_names_in_words` block by block: the pyarrow temporaries stay a few MiB."""
    out: list[str | None] = []
    for at in range(0, len(ext_ids), 1 << 16):
        out += _names_in_words(ext_ids[at:at + (1 << 16)])
    return out


def _names_in_words(ext_ids: list[str]) -> list[str | None]:
    """``name_words(local_name(ext))`` of each id, or None where the id is unnamed (a blank node,
    an RDF/RDFS/OWL/XSD term) or the name has no word (two letters in a row). ASCII ids without
    ``%`` go through pyarrow kernels; RE2 has no lookaround, so the camel-case split is the two
    :data:`namespaces._CAMEL` cases as consuming patterns, lower/digit|Upper first, then
    Upper|Upper-lower (the second never spans a space the first inserts)."""
    if not ext_ids:
        return []
    ids = pa.array(ext_ids, type=pa.string())
    stripped = pc.utf8_rtrim(ids, characters="/#")
    tail = pc.struct_field(pc.extract_regex(stripped, r"(?P<tail>[^#/:]*)$"), [0])
    local = pc.if_else(pc.equal(pc.utf8_length(tail), 0), ids, tail)  # an empty tail: the whole id
    words = pc.replace_substring_regex(local, r"([a-z0-9])([A-Z])", r"\1 \2")
    words = pc.replace_substring_regex(words, r"([A-Z])([A-Z][a-z])", r"\1 \2")
    words = pc.utf8_trim(pc.replace_substring_regex(words, r"[_.\t-\r\x1c-\x1f -]+", " "), " ")
    named = pc.match_substring_regex(words, "[A-Za-z]{2}")
    out: list[str | None] = [None] * len(ext_ids)
    for i, word in zip(np.flatnonzero(named.to_numpy(zero_copy_only=False)).tolist(),
                       words.filter(named).to_pylist(), strict=True):
        out[i] = word  # only names become strings: most ids of a big graph have none
    plain = pc.and_(pc.string_is_ascii(ids), pc.invert(pc.match_substring(ids, "%")))
    for i in np.flatnonzero(~plain.to_numpy(zero_copy_only=False)).tolist():
        name = name_words(local_name(ext_ids[i]))
        out[i] = name if _WORD.search(name) else None
    unnamed = pc.starts_with(ids, _UNNAMED[0])
    for prefix in _UNNAMED[1:]:
        unnamed = pc.or_(unnamed, pc.starts_with(ids, prefix))
    for i in np.flatnonzero(unnamed.to_numpy(zero_copy_only=False)).tolist():
        out[i] = None
    return out


@dataclass
class SourceCounts:
    """What one source contributed (reported in the manifest and by ``kgnlu graph info``)."""

    spec: str
    kind: str
    checksum: str = ""
    entities: int = 0  # entities first seen in this source
    relations: int = 0
    triples: int = 0  # triples this source emitted (before cross-source de-duplication)
    aliases: int = 0
    literals: int = 0  # literal-valued statements kept only in the RDF store
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "extra"}
        out.update(self.extra)
        return out


@dataclass
class GraphData:
    """A finished graph in memory, ready for :func:`kgnlu.kg.graph_files.write_graph`."""

    name: str
    entity_ids: list[str]  # external ids (CURIE or IRI), index = internal id
    entity_labels: list[str]
    entity_kinds: np.ndarray  # uint16 [E], index into kinds
    kinds: list[str]
    entity_texts: list[str]
    relation_ids: list[str]
    relation_labels: list[str]
    triples: np.ndarray  # int32 [T, 3] (head, relation, tail), sorted, unique
    triple_split: np.ndarray  # uint8 [T]: 0 train, 1 valid, 2 test
    alias_keys: list[str]  # sorted normalised surfaces
    alias_indptr: np.ndarray  # int64 [A+1]
    alias_entities: np.ndarray  # int32 [sum]: per surface, entities by descending prior
    alias_priors: np.ndarray  # float32 [sum]: p(e | surface), sums to 1 per surface
    prefixes: dict[str, str]  # CURIE prefixes beyond namespaces.PREFIXES (minted namespaces)
    sources: list[SourceCounts]
    # (path, format) bulk-loaded into the store verbatim; format is a pyoxigraph.RdfFormat or a
    # file extension ("ttl", "nt", ...); .gz files are decompressed on the way in.
    rdf_files: list[tuple[Path, object]]
    has_splits: bool = False
    # bool [T]: the triple came from an RDF file that the store bulk-loads verbatim
    in_verbatim_file: np.ndarray | None = None


class GraphBuilder:
    def __init__(self, name: str = "graph"):
        self.name = name
        self._entity_index: dict[str, int] = {}
        self._entity_ids: list[str] = []
        self._labels: dict[int, str] = {}
        self._kinds: dict[int, str] = {}
        self._texts: dict[int, list[str]] = defaultdict(list)
        self._relation_index: dict[str, int] = {}
        self._relation_ids: list[str] = []
        self._relation_labels: dict[int, str] = {}
        # (int32 [n, 3] head, relation, tail; uint8 [n] split): 13 bytes a triple until finalize
        self._triple_chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending: list[tuple[int, int, int, int]] = []
        self._chunk_sources: list[int] = []  # index into _sources of each triple chunk
        self._verbatim_sources: set[int] = set()  # sources whose RDF files the store loads as-is
        self._aliases: dict[str, dict[int, float]] = {}
        self._prefixes: dict[str, str] = {}
        self._sources: list[SourceCounts] = []
        self._rdf_files: list[tuple[Path, object]] = []
        self._has_splits = False
        self.current: SourceCounts | None = None

    # -- sources -------------------------------------------------------------------------------
    def begin_source(self, spec: str, kind: str, checksum: str = "") -> SourceCounts:
        """Start counting a new source's contributions; returns its (live) counts."""
        self._flush()
        self.current = SourceCounts(spec=spec, kind=kind, checksum=checksum)
        self._sources.append(self.current)
        return self.current

    def namespace(self, name: str) -> str:
        """Register a minted namespace (``nations`` → ``urn:kgnlu:nations:``); returns the prefix."""
        if not name or not all(c.isalnum() or c in "_-." for c in name):
            raise ConfigError(f"namespace {name!r} must be letters, digits, '_', '-' or '.'")
        self._prefixes[name] = minted_prefix(name)
        return name

    def add_rdf_file(self, path: Path, fmt: object) -> None:
        """Load this RDF file verbatim into the graph's SPARQL store (literals, named graphs kept)."""
        self._rdf_files.append((Path(path), fmt))
        self._verbatim_sources.add(len(self._sources) - 1)

    # -- interning -----------------------------------------------------------------------------
    def entity(
        self, ext_id: str, *, label: str | None = None, kind: str | None = None, text: str | None = None
    ) -> int:
        """Intern an entity; the first label and kind given win, texts accumulate (in order)."""
        idx = self._entity_index.get(ext_id)
        if idx is None:
            idx = self._entity_index[ext_id] = len(self._entity_ids)
            self._entity_ids.append(ext_id)
            if self.current is not None:
                self.current.entities += 1
        if label is not None and idx not in self._labels:
            self._labels[idx] = label
        if kind is not None and idx not in self._kinds:
            self._kinds[idx] = kind
        if text:
            self._texts[idx].append(text)
        return idx

    def known_entity_ids(self, ext_ids: Sequence[str]) -> np.ndarray:
        """int64 [n] internal ids of the names already interned, -1 for the others."""
        return np.fromiter(map(self._entity_index.get, ext_ids, itertools.repeat(-1)),
                           dtype=np.int64, count=len(ext_ids))

    def entity_ids(self, ext_ids: Sequence[str]) -> np.ndarray:
        """Bulk intern (fast path for parsers): int64 [n] internal ids, new ids in first-seen order."""
        index = self._entity_index
        # map() calls dict.get straight from C: no Python frame per name (the bulk callers,
        # the N-Triples fast path among them, pass hundreds of thousands at a time).
        out = self.known_entity_ids(ext_ids)
        missing = np.flatnonzero(out < 0)
        if len(missing):
            names = [ext_ids[i] for i in missing.tolist()]
            new = list(dict.fromkeys(names))  # first-seen order, each name once
            start = len(self._entity_ids)
            index.update(zip(new, range(start, start + len(new)), strict=True))
            self._entity_ids.extend(new)
            out[missing] = np.fromiter(map(index.__getitem__, names), dtype=np.int64,
                                       count=len(names))
            if self.current is not None:
                self.current.entities += len(new)
        return out

    def relation(self, ext_id: str, *, label: str | None = None) -> int:
        idx = self._relation_index.get(ext_id)
        if idx is None:
            idx = self._relation_index[ext_id] = len(self._relation_ids)
            self._relation_ids.append(ext_id)
            if self.current is not None:
                self.current.relations += 1
        if label is not None and idx not in self._relation_labels:
            self._relation_labels[idx] = label
        return idx

    def label(self, ext_id: str) -> str | None:
        idx = self._entity_index.get(ext_id)
        return None if idx is None else self._labels.get(idx)

    def set_text(self, ext_id: str, text: str) -> None:
        self._texts[self.entity(ext_id)].append(text)

    # -- facts ---------------------------------------------------------------------------------
    def triple(self, head: str, relation: str, tail: str, *, split: str | None = None) -> None:
        self._pending.append(
            (self.entity(head), self.relation(relation), self.entity(tail), _split_code(split))
        )
        if split is not None:
            self._has_splits = True
        if self.current is not None:
            self.current.triples += 1
        if len(self._pending) >= 1 << 16:
            self._flush()

    def triples_by_id(
        self, heads: np.ndarray, relations: np.ndarray, tails: np.ndarray, *, split: str | None = None
    ) -> None:
        """Bulk add triples already interned with ``entity_ids``/``relation`` (int arrays [n])."""
        n = len(heads)
        chunk = np.empty((n, 3), dtype=self._id_type())
        chunk[:, 0], chunk[:, 1], chunk[:, 2] = heads, relations, tails
        if split is not None:
            self._has_splits = True
        self._flush()
        self._triple_chunks.append((chunk, np.full(n, _split_code(split), dtype=np.uint8)))
        self._chunk_sources.append(len(self._sources) - 1)
        if self.current is not None:
            self.current.triples += n

    def alias(self, surface: str, ext_id: str, weight: float = 1.0) -> None:
        """Say ``surface`` can name the entity; weights (counts, populations) become priors."""
        key = alias_key(surface)
        if not key:
            return
        if weight < 0:
            raise ConfigError(f"alias weight for {surface!r} must be >= 0, got {weight}")
        entity = self.entity(ext_id)
        bucket = self._aliases.get(key)
        if bucket is None:
            bucket = self._aliases[key] = {}
        if entity not in bucket and self.current is not None:
            self.current.aliases += 1
        bucket[entity] = bucket.get(entity, 0.0) + weight

    def aliases(self, surfaces: Sequence[str], ext_ids: Sequence[str]) -> None:
        """``alias(surface, ext_id)`` at weight 1 for many pairs (labels read in bulk)."""
        keys = alias_keys(surfaces)
        named = [i for i, key in enumerate(keys) if key]
        entities = self.entity_ids([ext_ids[i] for i in named]).tolist()
        table, added = self._aliases, 0
        for key, entity in zip([keys[i] for i in named], entities, strict=True):
            bucket = table.get(key)
            if bucket is None:
                bucket = table[key] = {}
            weight = bucket.get(entity)
            if weight is None:
                bucket[entity] = 1.0
                added += 1
            else:
                bucket[entity] = weight + 1.0
        if self.current is not None:
            self.current.aliases += added

    def literal_statements(self, n: int) -> None:
        """Count statements with literal objects that live only in the SPARQL store."""
        if self.current is not None:
            self.current.literals += n

    # -- finish --------------------------------------------------------------------------------
    def finalize(self) -> GraphData:
        self._flush()
        n_entities, n_relations = len(self._entity_ids), len(self._relation_ids)
        if n_entities >= 2**31 or n_relations >= 2**31:
            raise ConfigError("graphs over 2^31 entities or relations are not supported")
        triples, split, source = _unique_triples(self._triple_chunks, self._chunk_sources,
                                                 n_entities, n_relations, len(self._sources))
        # The store loads RDF files verbatim; their triples need not be generated a second time.
        in_verbatim_file = np.isin(source, np.fromiter(self._verbatim_sources, dtype=np.int64))
        del source

        kinds = sorted(set(self._kinds.values()) | {"entity"})
        kind_code = {k: i for i, k in enumerate(kinds)}
        entity_kinds = np.full(n_entities, kind_code["entity"], dtype=np.uint16)
        for idx, k in self._kinds.items():
            entity_kinds[idx] = kind_code[k]

        self.name_unlabelled()
        alias_keys = sorted(self._aliases)
        indptr = np.zeros(len(alias_keys) + 1, dtype=np.int64)
        ents: list[int] = []
        priors: list[float] = []
        for i, key in enumerate(alias_keys):
            bucket = self._aliases[key]
            total = sum(bucket.values())
            # Highest prior first; ties broken by entity id so the order is deterministic.
            ranked = sorted(bucket.items(), key=lambda kv: (-kv[1], kv[0]))
            for e, w in ranked:
                ents.append(e)
                priors.append(w / total if total > 0 else 1.0 / len(bucket))
            indptr[i + 1] = len(ents)

        return GraphData(
            name=self.name,
            entity_ids=list(self._entity_ids),
            entity_labels=[self._labels.get(i, "") for i in range(n_entities)],
            entity_kinds=entity_kinds,
            kinds=kinds,
            entity_texts=[" ".join(self._texts.get(i, ())) for i in range(n_entities)],
            relation_ids=list(self._relation_ids),
            relation_labels=[self._relation_labels.get(i, "") for i in range(n_relations)],
            triples=triples,
            triple_split=split,
            alias_keys=alias_keys,
            alias_indptr=indptr,
            alias_entities=np.asarray(ents, dtype=np.int32),
            alias_priors=np.asarray(priors, dtype=np.float32),
            prefixes=dict(self._prefixes),
            sources=self._sources,
            rdf_files=list(self._rdf_files),
            has_splits=self._has_splits,
            in_verbatim_file=in_verbatim_file,
        )

    # -- internals -----------------------------------------------------------------------------
    def name_unlabelled(self) -> None:
        """An entity with no label (an RDF file without rdfs:label) is named by its IRI's local name
        in words ("AdaLovelace" → "Ada Lovelace"), which also becomes an alias: text can link to it
        and questions can name it. Blank nodes, entities with aliases of their own and ids without
        a word (``wn:02084071-n``) stay unnamed. Runs at ``finalize``; a pass that reads labels
        before then (:mod:`kgnlu.kg.short_names`) runs it first (a second run changes nothing)."""
        n = len(self._entity_ids)
        skip = np.zeros(n, dtype=bool)
        skip[np.fromiter(self._labels, dtype=np.int64, count=len(self._labels))] = True
        skip[np.fromiter(itertools.chain.from_iterable(self._aliases.values()), dtype=np.int64)] = True
        todo = np.flatnonzero(~skip).tolist()
        exts = [self._entity_ids[i] for i in todo]
        for idx, name in zip(todo, local_names_in_words(exts), strict=True):
            if name is not None:
                self._labels[idx] = name
                bucket = self._aliases.setdefault(name.lower() if name.isascii() else alias_key(name), {})
                bucket[idx] = bucket.get(idx, 0.0) + 1.0

    def _flush(self) -> None:
        if self._pending:
            rows = np.asarray(self._pending, dtype=np.int64).reshape(-1, 4)
            self._triple_chunks.append((rows[:, :3].astype(self._id_type()),
                                        rows[:, 3].astype(np.uint8)))
            self._chunk_sources.append(len(self._sources) - 1)
            self._pending = []

    def _id_type(self) -> type:
        """int32 while every id fits (finalize refuses graphs past 2^31 ids anyway)."""
        small = len(self._entity_ids) < 2**31 and len(self._relation_ids) < 2**31
        return np.int32 if small else np.int64

    @property
    def num_entities(self) -> int:
        return len(self._entity_ids)

    def iter_entity_ids(self) -> Iterable[str]:
        return iter(self._entity_ids)

    def kind_of(self, ext_id: str) -> str | None:
        idx = self._entity_index.get(ext_id)
        return None if idx is None else self._kinds.get(idx)

    # -- read-only views for matchers that run after every source (kgnlu.kg.equivalence) -------
    def text_of(self, ext_id: str) -> str:
        idx = self._entity_index.get(ext_id)
        return "" if idx is None else " ".join(self._texts.get(idx, ()))

    def iter_aliases(self) -> Iterable[tuple[str, str, float]]:
        """(normalised surface, entity ext id, accumulated weight) of every alias given so far."""
        ids = self._entity_ids
        for key, bucket in self._aliases.items():
            for idx, weight in bucket.items():
                yield key, ids[idx], weight

    def triples_with_relation(self, relation: str) -> Iterable[tuple[str, str]]:
        """(head, tail) ext ids of the triples given so far under ``relation`` (duplicates kept)."""
        rel = self._relation_index.get(relation)
        if rel is None:
            return
        self._flush()
        ids = self._entity_ids
        for chunk, _ in self._triple_chunks:
            hits = chunk[chunk[:, 1] == rel]
            for h, t in zip(hits[:, 0].tolist(), hits[:, 2].tolist(), strict=True):
                yield ids[h], ids[t]


def _unique_triples(chunks: list[tuple[np.ndarray, np.ndarray]], sources: list[int],
                    n_entities: int, n_relations: int,
                    n_sources: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted unique (head, relation, tail): int32 [T, 3], with the uint8 [T] split and int64 [T]
    source of the row kept. Where the same fact came with several splits the lowest code wins
    (train before valid before test, so no test triple leaks a duplicate into train), then the
    earliest source (chunks come in source order).

    When it fits, each row becomes one int64 key (head, relation, tail, split, source), sorted in
    place: 8 bytes a triple beside the chunks, where sorting [n, 4] rows by an index needs ~80.
    """
    # sources count from -1 (triples given before any begin_source), so the key stores source + 1
    e, r, s = max(n_entities, 1), max(n_relations, 1), n_sources + 1
    per_fact = len(SPLITS) * s
    total = sum(len(rows) for rows, _ in chunks)
    if e * e * r * per_fact >= 2**62:
        return _unique_triples_wide(chunks, sources, n_entities, n_relations)
    key = np.empty(total, dtype=np.int64)
    at = 0
    for (rows, split), source in zip(chunks, sources, strict=True):
        part = key[at:at + len(rows)]
        np.multiply(rows[:, 0], r, out=part)
        part += rows[:, 1]
        part *= e
        part += rows[:, 2]
        part *= len(SPLITS)
        part += split
        part *= s
        part += source + 1
        at += len(rows)
    key.sort()
    # Keep the first row of each fact; decode keys into int32 columns. Block by block, so the
    # temporaries stay a few MiB however many triples there are.
    keep = np.empty(total, dtype=bool)
    keep[:1] = True
    for at in range(0, total, _BLOCK):
        fact = key[at:at + _BLOCK + 1] // per_fact
        np.not_equal(fact[1:], fact[:-1], out=keep[at + 1:at + len(fact)])
    key = key[keep]
    del keep
    triples = np.empty((len(key), 3), dtype=np.int32)
    split = np.empty(len(key), dtype=np.uint8)
    source = np.empty(len(key), dtype=np.int64)
    for at in range(0, len(key), _BLOCK):
        part = key[at:at + _BLOCK]
        source[at:at + len(part)] = part % s - 1
        part //= s
        split[at:at + len(part)] = part % len(SPLITS)
        part //= len(SPLITS)
        triples[at:at + len(part), 2] = part % e
        part //= e
        triples[at:at + len(part), 1] = part % r
        triples[at:at + len(part), 0] = part // r
    return triples, split, source


def _unique_triples_wide(chunks: list[tuple[np.ndarray, np.ndarray]], sources: list[int],
                         n_entities: int, n_relations: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_unique_triples` for graphs whose key would not fit in an int64."""
    raw = np.empty((sum(len(rows) for rows, _ in chunks), 4), dtype=np.int64)
    at = 0
    for rows, split in chunks:
        raw[at:at + len(rows), :3] = rows
        raw[at:at + len(rows), 3] = split
        at += len(rows)
    source = np.repeat(np.asarray(sources, dtype=np.int64), [len(rows) for rows, _ in chunks])
    order = _sort_order(raw, n_entities, n_relations)
    raw, source = raw[order], source[order]
    if len(raw):
        keep = np.ones(len(raw), dtype=bool)
        keep[1:] = np.any(raw[1:, :3] != raw[:-1, :3], axis=1)
        raw, source = raw[keep], source[keep]
    return raw[:, :3].astype(np.int32), raw[:, 3].astype(np.uint8), source


def _sort_order(raw: np.ndarray, n_entities: int, n_relations: int) -> np.ndarray:
    """Row order sorting int64 [n, 4] (head, relation, tail, split) lexicographically.

    One argsort of a packed int64 key when the key fits (about 4x faster than lexsort on four
    columns), else lexsort.
    """
    e, r = max(n_entities, 1), max(n_relations, 1)
    if e * e * r * len(SPLITS) < 2**62:
        key = ((raw[:, 0] * r + raw[:, 1]) * e + raw[:, 2]) * len(SPLITS) + raw[:, 3]
        return np.argsort(key, kind="stable")
    return np.lexsort((raw[:, 3], raw[:, 2], raw[:, 1], raw[:, 0]))


def _split_code(split: str | None) -> int:
    if split is None:
        return 0
    try:
        return SPLITS.index(split)
    except ValueError:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}") from None
