"""SPARQL stays read-only and local (issue 19, item 3, part): updates are refused with a message that
says how a graph changes, SERVICE anywhere in a query (an outbound request) is refused unless
allowed, and a result past the row cap stops with a QueryError instead of filling memory."""

from __future__ import annotations

import pytest

from kgnlu.errors import QueryError
from kgnlu.kg.sparql_guard import check_read_only


@pytest.mark.parametrize("update", [
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "LOAD <http://example.org/data.ttl>",
    "CLEAR ALL",
])
def test_updates_are_refused_with_the_way_to_change_a_graph(update):
    with pytest.raises(QueryError, match=r"E023.*updates.*graph build --force"):
        check_read_only(update)


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?q ?r } } }",
    "ASK { ?s ?p ?o FILTER EXISTS { SERVICE ?endpoint { ?s ?p ?o } } }",
    "SELECT ?s WHERE { { SELECT ?s WHERE { SERVICE <http://x/> { ?s ?p ?o } } } }",
])
def test_service_is_refused_at_any_depth_unless_allowed(query):
    with pytest.raises(QueryError, match="SERVICE"):
        check_read_only(query)
    check_read_only(query, allow_service=True)  # no error: the caller asked for it


def test_ordinary_queries_and_malformed_ones_pass_to_the_store():
    check_read_only("SELECT ?s WHERE { ?s wnrel:hypernym ?o } LIMIT 3")  # a predeclared prefix is fine
    check_read_only("SELEKT nonsense")  # the store's own syntax error names the position


@pytest.fixture(scope="module")
def small_graph(tmp_path_factory):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    folder = tmp_path_factory.mktemp("sparql")
    (folder / "g.tsv").write_text("".join(f"e{i}\tr\te{i + 1}\n" for i in range(30)), encoding="utf-8")
    return KnowledgeGraph.load(build_graph([str(folder / "g.tsv")], folder / "g"))


def test_the_store_refuses_service_and_updates_too(small_graph):
    with pytest.raises(QueryError, match="SERVICE"):
        small_graph.sparql("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    with pytest.raises(QueryError, match="updates"):
        small_graph.sparql("DELETE WHERE { ?s ?p ?o }")
    assert len(small_graph.sparql("SELECT ?s WHERE { ?s ?p ?o }")) >= 30  # nothing was deleted


def test_a_result_past_the_row_cap_is_a_query_error(small_graph):
    cartesian = "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d }"  # thousands of rows from 30-odd triples
    with pytest.raises(QueryError, match=r"more than 100 results; add LIMIT"):
        small_graph.sparql(cartesian, max_rows=100)
    assert len(small_graph.sparql(cartesian + " LIMIT 50", max_rows=100)) == 50
