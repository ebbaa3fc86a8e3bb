"""Python values ⇄ pyoxigraph terms, for SPARQL bindings and results."""

from __future__ import annotations

import pyoxigraph as ox

from kgnlu.errors import QueryError
from kgnlu.kg.namespaces import compact

XSD = "http://www.w3.org/2001/XMLSchema#"
_TERMS = (ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple)


def to_term(value: object):
    """A binding value as an RDF term: terms pass through, Python scalars become typed literals."""
    if isinstance(value, _TERMS):
        return value
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=ox.NamedNode(XSD + "double"))
    if isinstance(value, str):
        return ox.Literal(value)
    raise QueryError(f"cannot bind a {type(value).__name__}; use a str, number, bool or "
                     "pyoxigraph term (kg.term(entity) for an entity)")


def parse_binding(text: str, prefixes: dict[str, str]):
    """CLI form of a binding value: ``<iri>`` or ``prefix:local`` → IRI, ``"text"`` or other → literal.
    An IRI that is not one (``<http://a>b>``, a space) is a QueryError naming the value."""
    if text.startswith("<") and text.endswith(">"):
        return _iri(text[1:-1], text)
    prefix, sep, local = text.partition(":")
    if sep and prefix in prefixes:
        return _iri(prefixes[prefix] + local, text)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return ox.Literal(text[1:-1])
    for cast in (int, float):
        try:
            return to_term(cast(text))
        except ValueError:
            pass
    return ox.Literal(text)


def _iri(iri: str, given: str):
    try:
        return ox.NamedNode(iri)
    except ValueError as err:
        raise QueryError(f"binding value {given!r} is not a valid IRI ({err}); write <http://...> "
                         "without spaces or <>\"{}|^` inside, or quote it as a literal: '\"text\"'") from None


def from_term(term, prefixes: dict[str, str]):
    """An RDF term as a plain Python value (IRIs as CURIEs where a prefix matches)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return compact(term.value, prefixes)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype is not None else ""
        try:
            if dt in (XSD + "integer", XSD + "int", XSD + "long"):
                return int(term.value)
            if dt in (XSD + "double", XSD + "float", XSD + "decimal"):
                return float(term.value)
            if dt == XSD + "boolean":
                return term.value == "true"
        except ValueError:
            pass
        return term.value
    return str(term)
