"""KnowledgeGraph: a built graph directory, memory-mapped, with lookups, walks and SPARQL.

>>> kg = KnowledgeGraph.load("~/.cache/kgnlu/graphs/default")
>>> dog = kg.lookup("dog")                      # id, IRI, label or alias → internal id
>>> [kg.describe_step(s) for s in kg.neighbors(dog, direction="out")][:3]
>>> sub = kg.subgraph([dog], hops=2)           # CSR breadth-first walk
>>> kg.sparql("SELECT ?h WHERE { ?d wnrel:hypernym ?h }", bindings={"d": kg.term(dog)})
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path

import numpy as np

from kgnlu.dirswap import DirectoryPin, recover
from kgnlu.errors import QueryError, UnknownEntityError
from kgnlu.kg.graph_builder import alias_key
from kgnlu.kg.graph_files import read_manifest, verify_files
from kgnlu.kg.manifest_check import check_counts
from kgnlu.kg.namespaces import PREFIXES, compact, expand, local_name, name_words
from kgnlu.kg.strings import StringTable
from kgnlu.kg.traversal import CSRWalker, Step, Subgraph


class KnowledgeGraph:
    def __init__(self, path: Path, manifest: dict, pin: DirectoryPin | None = None):
        self.path = path
        # files are read through the pinned directory (see load): a rebuild swapping ``path`` meanwhile
        # neither mixes two builds nor deletes this one under us
        self._pin = pin
        root = path if pin is None else pin.root
        self.manifest = manifest
        self.name: str = manifest["name"]
        self.prefixes: dict[str, str] = {**PREFIXES, **manifest.get("prefixes", {})}
        self.kinds: list[str] = manifest["kinds"]

        def arr(rel: str) -> np.ndarray:
            return np.load(root / rel, mmap_mode="r")

        def view(rel: str) -> np.ndarray:
            # a plain ndarray view of the mapping (still mapped, lazily paged): indexing or slicing
            # a np.memmap builds a memmap object per access (µs each), which dominated lookups
            # and walks (issue 22)
            return np.asarray(arr(rel))

        self._ids = StringTable(root / "entities" / "ids", order=arr("entities/ids_order.npy"))
        self._labels = StringTable(root / "entities" / "labels")
        self._texts = StringTable(root / "entities" / "texts")
        self.entity_kinds = arr("entities/kinds.npy")  # uint16 [E]
        self._relation_ids = StringTable(root / "relations" / "ids")
        self._relation_labels = StringTable(root / "relations" / "labels")
        self.triples = arr("triples.npy")  # int32 [T, 3]
        self.triple_split = arr("triple_split.npy")  # uint8 [T]
        self.walker = CSRWalker(np.asarray(self.triples), view("csr/out_indptr.npy"), view("csr/in_indptr.npy"),
                                view("csr/in_index.npy"))
        self._alias_keys = StringTable(root / "aliases" / "keys")
        self._alias_indptr = view("aliases/indptr.npy")
        self._alias_entities = view("aliases/entities.npy")
        self._alias_priors = view("aliases/priors.npy")
        self._store = None

    @classmethod
    def load(cls, path: str | Path, *, verify: bool = True) -> KnowledgeGraph:
        """Open a graph directory. ``verify`` checks every file's sha256 against the manifest
        (sizes are always checked); a truncated or modified graph raises GraphIntegrityError.

        A concurrent ``graph build --force`` never makes this fail: the graph read is pinned
        (:class:`~kgnlu.dirswap.DirectoryPin`), and a load that fails because ``path`` was swapped
        meanwhile is retried on the new graph. A swap cut short by a crash is recovered first."""
        path = Path(path).expanduser().absolute()
        recover(path)
        for _ in range(5):
            try:
                pin = DirectoryPin(path)
            except OSError:
                break  # missing, or not a folder: the plain read below says so
            try:
                manifest = read_manifest(pin.root)
                verify_files(pin.root, manifest, checksums=verify)
                kg = cls(path, manifest, pin)
                check_counts(kg, splits=verify)
            except Exception:
                held_still = pin.current()
                pin.close()
                if held_still:
                    break  # a fault of this graph itself: reported below, naming its real path
                continue  # rebuilt under us: read the new one
            if pin.root != path or pin.current():  # without /proc, ``root`` is ``path``: check it held still
                return kg
            pin.close()
        manifest = read_manifest(path)
        verify_files(path, manifest, checksums=verify)
        kg = cls(path, manifest)
        check_counts(kg, splits=verify)  # the manifest's own claims, against the arrays
        return kg

    def close(self) -> None:
        """Let go of the graph directory: a rebuild may then delete the version this object read
        (arrays already mapped stay readable; SPARQL needs a fresh load)."""
        self._store = None
        if self._pin is not None:
            self._pin.close()

    @property
    def _store_path(self) -> Path:
        """The SPARQL store of the graph this object read (a child process can open it too)."""
        return (self.path if self._pin is None else self._pin.shared_root()) / "store"

    # -- sizes ---------------------------------------------------------------------------------
    @property
    def num_entities(self) -> int:
        return len(self._ids)

    @property
    def num_relations(self) -> int:
        return len(self._relation_ids)

    @property
    def num_triples(self) -> int:
        return int(self.triples.shape[0])

    def __repr__(self) -> str:
        return (f"KnowledgeGraph({self.name!r}, entities={self.num_entities:,}, "
                f"relations={self.num_relations:,}, triples={self.num_triples:,})")

    # -- entity and relation attributes --------------------------------------------------------
    def entity_id(self, e: int) -> str:
        """External id: a CURIE (``wn:02084071-n``) or an IRI."""
        return self._ids[int(e)]

    def entity_iri(self, e: int) -> str:
        return expand(self.entity_id(e), self.prefixes)

    def entity_label(self, e: int) -> str:
        return self._labels[int(e)]

    def entity_text(self, e: int) -> str:
        return self._texts[int(e)]

    def entity_kind(self, e: int) -> str:
        return self.kinds[int(self.entity_kinds[int(e)])]

    def relation_id(self, r: int) -> str:
        return self._relation_ids[int(r)]

    def relation_label(self, r: int) -> str:
        """The relation's label; without one, its IRI's local name in words ("bornIn" → "born in")."""
        label = self._relation_labels[int(r)]
        if label:
            return label
        rid = self.relation_id(r)
        return name_words(local_name(rid)).lower() or rid

    def relation_index(self, relation: str) -> int:
        """Internal id of a relation given by external id, IRI or label."""
        names = self.relation_names
        for key in (relation, compact(relation, self.prefixes)):
            if key in names:
                return names[key]
        close = difflib.get_close_matches(relation, list(names), n=5)
        raise UnknownEntityError(f"relation {relation}", close)

    @cached_property
    def relation_names(self) -> dict[str, int]:
        """Relation external ids and labels → internal id (labels only where unambiguous)."""
        out: dict[str, int] = {}
        labels: dict[str, list[int]] = {}
        for r in range(self.num_relations):
            out[self.relation_id(r)] = r
            labels.setdefault(self.relation_label(r), []).append(r)  # stored label or local-name words
        for label, rs in labels.items():
            if label and len(rs) == 1 and label not in out:
                out[label] = rs[0]
        return out

    def entity_ids(self) -> list[str]:
        return self._ids.to_list()

    def entity_labels(self) -> list[str]:
        return self._labels.to_list()

    def entity_texts(self) -> list[str]:
        return self._texts.to_list()

    # -- lookup --------------------------------------------------------------------------------
    def index_of(self, ext_id_or_iri: str) -> int:
        """Internal id by external id or full IRI; -1 when absent."""
        e = self._ids.find(ext_id_or_iri)
        if e < 0:
            short = compact(ext_id_or_iri, self.prefixes)
            if short != ext_id_or_iri:  # a label or alias compacts to itself: one search is enough
                e = self._ids.find(short)
        return e

    def aliases(self, surface: str) -> list[tuple[int, float]]:
        """Entities ``surface`` can name, with priors p(e|surface), highest first."""
        k = self._alias_keys.find(alias_key(surface))
        if k < 0:
            return []
        lo, hi = int(self._alias_indptr[k]), int(self._alias_indptr[k + 1])
        return [(int(e), float(p)) for e, p in
                zip(self._alias_entities[lo:hi], self._alias_priors[lo:hi], strict=True)]

    def lookup(self, query: str | int) -> int:
        """Internal id from an internal id, external id, IRI, label or alias (highest prior wins).

        Unknown names raise UnknownEntityError listing close matches.
        """
        if isinstance(query, int | np.integer):
            if 0 <= int(query) < self.num_entities:
                return int(query)
            raise UnknownEntityError(str(query), [])
        e = self.index_of(query)
        if e >= 0:
            return e
        found = self.aliases(query)
        if found:
            # An entity labelled exactly as written beats a higher prior reached through
            # folding: "cat" is the animal, not the town "Çat" whose alias folds to "cat".
            exact = [e for e, _ in found if self.entity_label(e) == query]
            return exact[0] if exact else found[0][0]
        raise UnknownEntityError(query, self.close_matches(query))

    def close_matches(self, query: str, n: int = 5) -> list[str]:
        """Names near ``query``: alias keys and ids that sort near it, ranked by similarity."""
        key = alias_key(query)
        pool = set(self._alias_keys.neighbourhood(key, 200))
        pool.update(self._ids.neighbourhood(query, 50))
        if len(self._alias_keys) <= 20_000:
            pool.update(self._alias_keys)
        return difflib.get_close_matches(key, sorted(pool), n=n, cutoff=0.6)

    # -- walks ---------------------------------------------------------------------------------
    def neighbors(self, entity: str | int, *, direction: str = "both",
                  relation: str | int | None = None, fanout: int | None = None) -> list[Step]:
        """Edges at an entity: ``direction`` "out" (entity is head), "in" or "both"; ``fanout``
        samples at most that many per direction (a hub's slice is never read whole)."""
        e = self.lookup(entity)
        rels = None if relation is None else [relation if isinstance(relation, int)
                                               else self.relation_index(relation)]
        return self.walker.neighbors(e, direction, rels, fanout)

    def subgraph(self, seeds: Iterable[str | int], hops: int = 2, *, direction: str = "both",
                 relations: Iterable[str | int] | None = None, max_nodes: int | None = None,
                 fanout: int | None = None) -> Subgraph:
        """Breadth-first walk. Bounds (:mod:`kgnlu.kg.traversal`): ``max_nodes`` stops the walk once
        it has that many nodes; ``fanout`` samples at most that many edges per node and direction
        (evenly strided over its CSR slice); ``relations`` are found by binary search on the
        out-side. With both bounds a walk costs what it returns, whatever the hubs' degrees."""
        ids = [self.lookup(s) for s in seeds]
        rels = None if relations is None else [r if isinstance(r, int) else self.relation_index(r)
                                               for r in relations]
        return self.walker.subgraph(ids, hops, direction=direction, relations=rels,
                                    max_nodes=max_nodes, fanout=fanout)

    def paths(self, source: str | int, target: str | int, *, max_hops: int = 3,
              limit: int = 100, fanout: int | None = None) -> list[list[Step]]:
        """Shortest relation paths between two entities (edges may be walked backwards);
        ``fanout`` samples each node's edges (bounded on hubs, may miss a path through one)."""
        return self.walker.paths(self.lookup(source), self.lookup(target), max_hops, limit, fanout)

    def describe_step(self, step: Step) -> str:
        h, r, t = self.entity_label(step.head), self.relation_label(step.relation), self.entity_label(step.tail)
        h = h or self.entity_id(step.head)
        t = t or self.entity_id(step.tail)
        return f"{h} --{r}--> {t}" if step.forward else f"{t} <--{r}-- {h}"

    def external_triples(self) -> set[tuple[str, str, str]]:
        """Every triple as external ids (for comparisons and exports of small graphs)."""
        ids, rels = self.entity_ids(), [self.relation_id(r) for r in range(self.num_relations)]
        return {(ids[h], rels[r], ids[t]) for h, r, t in np.asarray(self.triples).tolist()}

    # -- interop -------------------------------------------------------------------------------
    def to_networkx(self, subgraph: Subgraph | None = None):
        """A networkx MultiDiGraph of ``subgraph`` (or of the whole graph, if small enough)."""
        from kgnlu.kg.interop import to_networkx

        return to_networkx(self, subgraph)

    def to_rdflib(self):
        """An rdflib Graph with every fact of the store (labels, texts and literals included)."""
        from kgnlu.kg.interop import to_rdflib

        return to_rdflib(self)

    # -- SPARQL --------------------------------------------------------------------------------
    @property
    def store(self):
        if self._store is None:
            if not self.manifest.get("has_store", False):
                raise QueryError(f"{self.path} was built without a SPARQL store; rebuild it with one")
            from kgnlu.kg.sparql_store import open_store

            self._store = open_store(self._store_path)
        return self._store

    def term(self, entity: str | int):
        """The pyoxigraph NamedNode of an entity, for ``bindings``."""
        import pyoxigraph as ox

        return ox.NamedNode(self.entity_iri(self.lookup(entity)))

    def sparql(self, query: str, bindings: Mapping[str, object] | None = None, *, allow_service: bool = False,
               max_rows: int | None = 100_000, timeout: float | None = 60.0, max_memory_mb: int | None = 4096):
        """Run SPARQL with the graph's prefixes predeclared and ``bindings`` bound, never pasted.

        Binding values: pyoxigraph terms pass through; str/int/float/bool become literals (bind
        an entity with ``kg.term(...)``). SELECT returns a list of dicts (variable → Python value:
        IRIs compacted to CURIEs, literals to str/int/float/bool); ASK a bool; CONSTRUCT and
        DESCRIBE a list of (s, p, o) tuples.

        Read-only and local: updates are refused, and so is ``SERVICE`` (an outbound request) unless
        ``allow_service`` (:mod:`kgnlu.kg.sparql_guard`). Bounded: the query runs in a child process
        (:mod:`kgnlu.kg.sparql_limits`) that is stopped past ``timeout`` seconds, ``max_rows``
        results or ``max_memory_mb`` of memory (None: no limit), or on Ctrl-C; each limit is a
        QueryError saying how to raise it. The defaults let any sensible query through (a SELECT
        with LIMIT answers in milliseconds) and stop a runaway join long before it hurts the machine.
        """
        from kgnlu.kg.sparql_guard import check_read_only
        from kgnlu.kg.sparql_limits import run_query
        from kgnlu.kg.sparql_values import from_term, to_term

        check_read_only(query, allow_service)
        if not self.manifest.get("has_store", False):
            raise QueryError(f"{self.path} was built without a SPARQL store; rebuild it with one")
        subs = {k.lstrip("?$"): to_term(v) for k, v in (bindings or {}).items()}
        result = run_query(self._store_path, query, self.prefixes, subs, timeout=timeout, max_rows=max_rows,
                           max_memory_mb=max_memory_mb)
        if result.kind == "boolean":
            return result.value
        if result.kind == "solutions":
            return [{n: from_term(sol[n], self.prefixes) for n in result.variables} for sol in result.rows]
        return [tuple(from_term(x, self.prefixes) for x in (t.subject, t.predicate, t.object))
                for t in result.rows]
