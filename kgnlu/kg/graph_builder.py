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

from kgnlu.errors import ConfigError
from kgnlu.kg.namespaces import local_name, minted_prefix, name_words

# blank nodes, and the RDF/RDFS/OWL vocabularies: "Class" as an alias would link the word "class"
_UNNAMED = ("_:", "owl:", "rdf:", "rdfs:", "xsd:")
_WORD = re.compile(r"[^\W\d_]{2}")  # two letters in a row: a name, not a number
SPLITS = ("train", "valid", "test")  # triple_split codes 0, 1, 2; unsplit triples count as train


def alias_key(surface: str) -> str:
    """The normalised form aliases are indexed under: NFKC, case-folded, whitespace collapsed,
    invisible format characters dropped (zero-width spaces and joiners, bidi controls, soft
    hyphens: category Cf), so "Fr\u200bance" in a text finds "France"; offsets stay the text's own."""
    if surface.isascii():  # NFKC is the identity on ASCII, and casefold() equals lower() there
        return " ".join(surface.lower().split())
    visible = "".join(ch for ch in surface if unicodedata.category(ch) != "Cf")
    return " ".join(unicodedata.normalize("NFKC", visible).casefold().split())


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
        self._triple_chunks: list[np.ndarray] = []  # int64 [n, 4]: head, relation, tail, split
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

    def entity_ids(self, ext_ids: Sequence[str]) -> np.ndarray:
        """Bulk intern (fast path for parsers): int64 [n] internal ids, new ids in first-seen order."""
        index = self._entity_index
        before = len(index)
        intern = index.setdefault
        # len(index) is read before setdefault inserts, so a new name gets the next free id.
        # (Measured: faster than dict.fromkeys + map(index.__getitem__), which hashes twice.)
        out = np.fromiter((intern(x, len(index)) for x in ext_ids), dtype=np.int64, count=len(ext_ids))
        # dicts keep insertion order: the names added above are exactly the tail of the index.
        self._entity_ids.extend(itertools.islice(index, before, None))
        if self.current is not None:
            self.current.entities += len(index) - before
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
        chunk = np.empty((n, 4), dtype=np.int64)
        chunk[:, 0], chunk[:, 1], chunk[:, 2] = heads, relations, tails
        chunk[:, 3] = _split_code(split)
        if split is not None:
            self._has_splits = True
        self._flush()
        self._triple_chunks.append(chunk)
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

    def literal_statements(self, n: int) -> None:
        """Count statements with literal objects that live only in the SPARQL store."""
        if self.current is not None:
            self.current.literals += n

    # -- finish --------------------------------------------------------------------------------
    def finalize(self) -> GraphData:
        self._flush()
        n_entities, n_relations = len(self._entity_ids), len(self._relation_ids)
        if self._triple_chunks:
            raw = np.concatenate(self._triple_chunks)
        else:
            raw = np.empty((0, 4), dtype=np.int64)
        if n_entities >= 2**31 or n_relations >= 2**31:
            raise ConfigError("graphs over 2^31 entities or relations are not supported")
        # Unique (h, r, t); where the same fact came with several splits keep the lowest code
        # (train before valid before test), so no test triple leaks a duplicate into train.
        source = np.repeat(np.asarray(self._chunk_sources, dtype=np.int64),
                           [len(c) for c in self._triple_chunks])
        order = _sort_order(raw, n_entities, n_relations)
        raw, source = raw[order], source[order]
        if len(raw):
            keep = np.ones(len(raw), dtype=bool)
            keep[1:] = np.any(raw[1:, :3] != raw[:-1, :3], axis=1)
            raw, source = raw[keep], source[keep]
        # The store loads RDF files verbatim; their triples need not be generated a second time.
        in_verbatim_file = np.isin(source, np.fromiter(self._verbatim_sources, dtype=np.int64))
        triples = raw[:, :3].astype(np.int32)
        split = raw[:, 3].astype(np.uint8)

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
        aliased = {e for bucket in self._aliases.values() for e in bucket}
        for idx, ext in enumerate(self._entity_ids):
            if idx in self._labels or idx in aliased or ext.startswith(_UNNAMED):
                continue
            name = name_words(local_name(ext))
            if _WORD.search(name):
                self._labels[idx] = name
                key = alias_key(name)
                if key:
                    bucket = self._aliases.setdefault(key, {})
                    bucket[idx] = bucket.get(idx, 0.0) + 1.0

    def _flush(self) -> None:
        if self._pending:
            self._triple_chunks.append(np.asarray(self._pending, dtype=np.int64).reshape(-1, 4))
            self._chunk_sources.append(len(self._sources) - 1)
            self._pending = []

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
        for chunk in self._triple_chunks:
            hits = chunk[chunk[:, 1] == rel]
            for h, t in zip(hits[:, 0].tolist(), hits[:, 2].tolist(), strict=True):
                yield ids[h], ids[t]


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
