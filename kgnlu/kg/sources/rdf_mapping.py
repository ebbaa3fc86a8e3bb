"""How RDF statements become graph records; shared by the RDF-file and SPARQL sources.

Terms travel as N-Triples tokens (``<http://...>``, ``_:label``): ``str()`` of a pyoxigraph term
gives that form, and the N-Triples fast path (:mod:`ntriples_fast`) cuts the same tokens out of
the text; it computes their external ids in pyarrow (:func:`interning.external_ids`, the same
rule as :meth:`RdfMapper.ext_id`) and hands labels, aliases and texts to :meth:`literal_values`.

The mapping:

* a statement whose object is an IRI or blank node → an integer triple (head, relation, tail);
  ``rdf:type`` is an ordinary relation, and its class also becomes the subject's *kind* when the
  subject has none yet (first class wins, as with every builder kind; at most ``MAX_KINDS``
  distinct classes per source, since the kind column is a coarse uint16 type, not an ontology);
* entity ids are ``namespaces.compact(iri)`` (known prefixes become CURIEs); blank nodes become
  ``_:SCOPE_label`` with a per-source scope, so ``_:b1`` of two files are two entities;
* a literal under a label predicate → the subject's label (a language-less or English label is
  preferred over the first one seen) and an alias; every label, in every language, is an alias;
  under an alias predicate → an alias; under a text predicate → entity text (again language-less
  or English texts preferred: one language's descriptions, not twenty concatenated);
* every other literal statement, and every statement whose subject or object is a quoted triple
  (RDF 1.2), is only counted (``builder.literal_statements``): it lives in the SPARQL store;
* subjects of literal statements are entities too (a node described only by literals is still
  something text can link to); graph names are ignored (named graphs are flattened).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
from pyoxigraph import BlankNode, Literal, NamedNode

from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.namespaces import (
    ALIAS_PREDICATES,
    LABEL_PREDICATES,
    PREFIXES,
    TEXT_PREDICATES,
    compact,
)

RDF_TYPE = PREFIXES["rdf"] + "type"
# The kind column is uint16 and meant for coarse types (synset, city, country); a source with
# more classes than this keeps all its rdf:type triples, only the kind column stops growing.
MAX_KINDS = 4096

_NODE_TYPES = (NamedNode, BlankNode)
_SUBJECT = operator.attrgetter("subject")
_PREDICATE = operator.attrgetter("predicate")
_OBJECT = operator.attrgetter("object")
# str.startswith with a tuple runs in C: IRIs under no known prefix (most of them, in most dumps)
# skip namespaces.compact's loop over the prefix table.
_KNOWN_BASES = tuple(PREFIXES.values())
_LABEL_TOKENS = frozenset(f"<{p}>" for p in LABEL_PREDICATES)
_ALIAS_TOKENS = frozenset(f"<{p}>" for p in ALIAS_PREDICATES)
_TEXT_TOKENS = frozenset(f"<{p}>" for p in TEXT_PREDICATES)
VALUE_TOKENS = _LABEL_TOKENS | _ALIAS_TOKENS | _TEXT_TOKENS  # literals the graph keeps
TYPE_TOKEN = f"<{RDF_TYPE}>"


def lookup(mapping: dict, keys: Sequence) -> np.ndarray:
    """int64 [n] of ``mapping[k]`` for each key (missing keys go through ``__missing__``).

    ``itemgetter(*keys)`` calls the mapping's subscript straight from C, without the
    method-wrapper call per key that ``map(mapping.__getitem__, keys)`` pays.
    """
    if len(keys) > 1:
        return np.fromiter(operator.itemgetter(*keys)(mapping), dtype=np.int64, count=len(keys))
    return np.fromiter(map(mapping.__getitem__, keys), dtype=np.int64, count=len(keys))


def _language_rank(language: str | None) -> int:
    """0 for language-less and English literals (preferred as label/text), 1 for the rest."""
    if not language or language == "en" or language.startswith("en-"):
        return 0
    return 1


class RdfMapper:
    """Writes the statements of one source into a builder; call :meth:`finish` at the end."""

    def __init__(self, builder: GraphBuilder, scope: str):
        self.builder = builder
        self.scope = scope
        self.ids: dict[str, int] = {}  # node token → internal entity id (validated tokens only)
        self.relation_ids: dict[str, int] = {}  # predicate token → internal relation id
        self._relation_exts: set[str] = set()
        self._kinded: set[str] = set()  # subject tokens whose kind was already offered
        self._kinds: set[str] = set()
        self._labels: dict[str, tuple[int, str]] = {}  # ext id → (language rank, label)
        self._texts: dict[str, tuple[int, list[str]]] = {}  # ext id → (rank, texts)

    # -- ids -----------------------------------------------------------------------------------
    def ext_id(self, token: str) -> str:
        """External id of a node token: a CURIE or IRI, or a scoped blank-node id."""
        if token[0] == "<":
            iri = token[1:-1]
            return compact(iri) if iri.startswith(_KNOWN_BASES) else iri
        return f"_:{self.scope}_{token[2:]}"

    def node_ids(self, tokens: Sequence[str]) -> np.ndarray:
        """int64 [n] entity ids of node tokens, interning new ones in first-seen order."""
        ids = self.ids
        unique = dict.fromkeys(tokens)  # C-level de-duplication that keeps first-seen order
        new = unique.keys() - ids.keys()
        if new:
            ordered = [t for t in unique if t in new]
            interned = self.builder.entity_ids([self.ext_id(t) for t in ordered])
            ids.update(zip(ordered, interned.tolist(), strict=True))
        return lookup(ids, tokens)

    def predicate_ids(self, tokens: Sequence[str]) -> np.ndarray:
        rel = self.relation_ids
        for token in [t for t in dict.fromkeys(tokens) if t not in rel]:  # first-seen order: ids never
            # depend on set iteration (string hashes differ between processes)
            ext = compact(token[1:-1])
            rel[token] = self.builder.relation(ext)
            self._relation_exts.add(ext)
        return lookup(rel, tokens)

    # -- statements ----------------------------------------------------------------------------
    def add_node_rows(self, subjects: Sequence[str], predicates: Sequence[str],
                      objects: Sequence[str]) -> None:
        """Statements whose three terms are node tokens (IRI or blank node; predicates IRIs)."""
        if not subjects:
            return
        heads = self.node_ids(subjects)
        tails = self.node_ids(objects)
        rels = self.predicate_ids(predicates)
        self.builder.triples_by_id(heads, rels, tails)
        type_id = self.relation_ids.get(TYPE_TOKEN)
        if type_id is not None:
            for i in np.flatnonzero(rels == type_id).tolist():
                self.offer_kind(subjects[i], objects[i])

    def add_quads(self, quads: Sequence) -> None:
        """pyoxigraph Quads or Triples (anything with .subject/.predicate/.object)."""
        if not quads:
            return
        subjects = list(map(_SUBJECT, quads))
        objects = list(map(_OBJECT, quads))
        predicates = list(map(str, map(_PREDICATE, quads)))
        subject_types = set(map(type, subjects))
        object_types = set(map(type, objects))
        if subject_types.issubset(_NODE_TYPES) and object_types.issubset(_NODE_TYPES):
            # The common case stays in C-level maps: no per-statement Python branching.
            self.add_node_rows(list(map(str, subjects)), predicates, list(map(str, objects)))
            return
        rows: tuple[list[str], list[str], list[str]] = ([], [], [])
        literals: list[tuple[str, str, Literal]] = []
        skipped = 0
        for s, p, o in zip(subjects, predicates, objects, strict=True):
            if not isinstance(s, _NODE_TYPES):
                skipped += 1  # a quoted-triple subject (RDF-star): store only
            elif isinstance(o, _NODE_TYPES):
                rows[0].append(str(s))
                rows[1].append(p)
                rows[2].append(str(o))
            elif isinstance(o, Literal):
                literals.append((str(s), p, o))
            else:
                skipped += 1  # a triple term object (RDF 1.2): store only
        self.add_node_rows(*rows)
        self.add_literal_rows(literals)
        self.builder.literal_statements(skipped)

    def add_literal_rows(self, rows: Sequence[tuple[str, str, Literal]]) -> None:
        """(subject token, predicate token, literal) statements."""
        if not rows:
            return
        self.node_ids([s for s, _, _ in rows])  # literal-only subjects are entities too
        kept = [(s, p, lit) for s, p, lit in rows if p in VALUE_TOKENS]
        self.builder.literal_statements(len(rows) - len(kept))
        self.literal_values([self.ext_id(s) for s, _, _ in kept], [p for _, p, _ in kept],
                            [lit.value for _, _, lit in kept], [lit.language for _, _, lit in kept])

    def literal_values(self, exts: Sequence[str], predicates: Sequence[str],
                       values: Sequence[str], languages: Sequence[str | None]) -> None:
        """Literal statements under a label, alias or text predicate (:data:`VALUE_TOKENS`), in
        file order: subject ext id, predicate token, lexical form, language (or None)."""
        surfaces, named = [], []  # label and alias statements, added to the builder in bulk
        for ext, p, value, language in zip(exts, predicates, values, languages, strict=True):
            if p in _LABEL_TOKENS:
                surfaces.append(value)
                named.append(ext)
                rank = _language_rank(language)
                best = self._labels.get(ext)
                if best is None or rank < best[0]:
                    self._labels[ext] = (rank, value)
            elif p in _ALIAS_TOKENS:
                surfaces.append(value)
                named.append(ext)
            else:
                rank = _language_rank(language)
                best = self._texts.get(ext)
                if best is None or rank < best[0]:
                    self._texts[ext] = (rank, [value])
                elif rank == best[0]:
                    best[1].append(value)
        self.builder.aliases(surfaces, named)

    def finish(self) -> None:
        """Hand over the chosen labels and texts (the builder keeps the first label it gets)."""
        builder = self.builder
        for ext, (_, label) in self._labels.items():
            builder.entity(ext, label=label)
            if ext in self._relation_exts:
                builder.relation(ext, label=label)
        for ext, (_, texts) in self._texts.items():
            for text in texts:
                builder.entity(ext, text=text)
        self._labels.clear()
        self._texts.clear()

    def offer_kind(self, subject: str, cls: str) -> None:
        """``subject rdf:type cls`` was read: the class becomes the kind if none is set yet."""
        if subject in self._kinded:
            return
        kind = self.ext_id(cls)
        if kind not in self._kinds:
            if len(self._kinds) >= MAX_KINDS:
                return
            self._kinds.add(kind)
        self._kinded.add(subject)
        self.builder.entity(self.ext_id(subject), kind=kind)
