"""Read-only, local SPARQL: what kgnlu refuses before a query reaches the store.

- updates (INSERT, DELETE, LOAD, CLEAR, ...) — a graph changes by rebuilding it from its sources;
- ``SERVICE`` (a federated query makes an outbound HTTP request) unless the caller allows it.

The query is parsed with rdflib's SPARQL grammar (parsing only; nothing is evaluated there) and its
tree searched for a service pattern at any depth (inside FILTER EXISTS, OPTIONAL, subqueries).
A query rdflib cannot parse is left to the store, whose syntax error names the position.
"""

from __future__ import annotations

from kgnlu.errors import QueryError


def check_read_only(query: str, allow_service: bool = False) -> None:
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        tree = parseQuery(query)
    except (ParseException, ValueError, TypeError):
        try:
            parseUpdate(query)
        except (ParseException, ValueError, TypeError):
            return  # not SPARQL at all: the store reports the syntax error with its position
        raise QueryError("SPARQL updates (INSERT, DELETE, LOAD, CLEAR, ...) are refused: a kgnlu graph is "
                         "read-only here; change its sources and rebuild it with `kgnlu graph build --force`") from None
    if not allow_service and "ServiceGraphPattern" in set(_pattern_names(tree)):
        raise QueryError("SERVICE (a federated query to another endpoint, an outbound request) is refused; "
                         "allow it explicitly with --allow-service (allow_service=True) if you mean it")


def _pattern_names(node):
    if isinstance(node, str):
        return
    name = getattr(node, "name", None)
    if isinstance(name, str):
        yield name
    if isinstance(node, dict):
        for value in node.values():
            yield from _pattern_names(value)
    elif hasattr(node, "__iter__"):
        for value in node:
            yield from _pattern_names(value)
