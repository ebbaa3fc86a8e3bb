"""The HTTP API of ``kgnlu serve`` against a real server (the ``served`` fixture: the inventors
graph, zero-shot QA, default options): every endpoint's answer checked against the graph's own
facts (examples/inventors.ttl), and every error path in the JSON error shape."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

import httpx
import pytest

EX = "http://example.org/inventors#"
TEXT = "Tesla worked for Westinghouse in London."


def post(server, path: str, body, **kw) -> httpx.Response:
    return httpx.post(server.url + path, json=body, timeout=60, **kw)


def error_of(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    err = response.json()["error"]
    assert err["code"] == code, err
    return err["message"]


# -- language ------------------------------------------------------------------------------------

def test_link_gives_offsets_entities_scores_and_candidates(served):
    r = post(served, "/link", {"text": TEXT})
    assert r.status_code == 200
    body = r.json()
    assert body["text"] == TEXT and body["mode"] == "fast"
    by_surface = {lk["surface"]: lk for lk in body["links"]}
    for surface, entity, label, kind in [("Tesla", "nikola_tesla", "Nikola Tesla", "Person"),
                                         ("Westinghouse", "westinghouse_electric", "Westinghouse Electric Company",
                                          "Organization"),
                                         ("London", "london", "London", "City")]:
        lk = by_surface[surface]
        assert TEXT[lk["start"]:lk["end"]] == surface
        assert (lk["entity"], lk["label"], lk["kind"]) == (EX + entity, label, EX + kind)
        assert 0 < lk["score"] <= 1
        assert lk["candidates"][0]["entity"] == lk["entity"]
        assert set(lk["candidates"][0]) == {"entity", "label", "score", "prior", "source"}


def test_link_top_limits_the_candidates(served):
    body = post(served, "/link", {"text": TEXT, "top": 0}).json()
    assert body["links"] and all(lk["candidates"] == [] for lk in body["links"])


def test_qa_is_the_json_of_kgnlu_qa(served, serve_home, monkeypatch, capsys):
    question = "Where was Nikola Tesla born?"
    r = post(served, "/qa", {"question": question, "k": 2})
    assert r.status_code == 200
    body = r.json()
    top = body["answers"][0]
    assert (top["entity"], top["label"]) == (EX + "smiljan", "Smiljan")
    assert top["evidence"][0]["text"] == "Nikola Tesla --born in--> Smiljan"
    from kgnlu.cli import main

    monkeypatch.setenv("KGNLU_HOME", str(serve_home))  # the server's home: the same zero-shot model
    capsys.readouterr()
    assert main(["qa", str(served.graph), question, "--json", "-k", "2"]) == 0
    assert _same(json.loads(capsys.readouterr().out), body)


def test_choose_scores_each_choice(served):
    r = post(served, "/choose", {"question": "Who invented the telephone?",
                                 "choices": ["Alexander Graham Bell", "Linus Torvalds"]})
    assert r.status_code == 200
    body = r.json()
    assert [c["choice"] for c in body["choices"]] == ["Alexander Graham Bell", "Linus Torvalds"]
    assert body["answer"] == "Alexander Graham Bell"


def test_rel_format_full_linking(served):
    r = post(served, "/api", {"text": TEXT, "spans": []})
    assert r.status_code == 200
    rows = r.json()
    assert all(len(row) == 7 for row in rows)
    found = {row[2]: row for row in rows}
    start, length, mention, entity, score, ner, tag = found["Westinghouse"]
    assert (start, length) == (TEXT.index("Westinghouse"), len("Westinghouse"))
    assert TEXT[start:start + length] == mention
    assert entity == EX + "westinghouse_electric" and 0 < score <= 1 and ner == 1.0 and tag == "Organization"
    # the same links as /link, in REL's shape
    links = post(served, "/link", {"text": TEXT}).json()["links"]
    assert [(row[0], row[1], row[3]) for row in rows] == [(lk["start"], lk["end"] - lk["start"], lk["entity"])
                                                          for lk in links]


def test_rel_format_given_spans_only_disambiguates_those(served):
    london = TEXT.index("London")
    rows = post(served, "/api", {"text": TEXT, "spans": [[0, 5], [london, 6]]}).json()
    assert [row[:4] for row in rows] == [[0, 5, "Tesla", EX + "nikola_tesla"], [london, 6, "London", EX + "london"]]
    assert all(row[5] == 0.0 for row in rows)  # no mention detection ran: REL's ner_score for given spans
    gerbil = post(served, "/api", {"text": TEXT, "spans": [{"start": 0, "length": 5}]}).json()
    assert [row[:4] for row in gerbil] == [[0, 5, "Tesla", EX + "nikola_tesla"]]
    assert post(served, "/api", {"text": "", "spans": []}).json() == []
    assert httpx.get(served.url + "/api").json()["message"] == "up"


def test_rel_span_outside_the_text_is_422(served):
    error_of(post(served, "/api", {"text": "short", "spans": [[3, 10]]}), 422, "E100")


# -- graph ---------------------------------------------------------------------------------------

def test_entity_page_has_label_kind_and_neighbours_by_relation(served):
    for ref in (EX + "nikola_tesla", "Nikola Tesla", "Tesla"):  # id, label, alias
        r = httpx.get(served.url + "/entities/" + quote(ref, safe=""), timeout=30)
        assert r.status_code == 200, (ref, r.text)
        body = r.json()
        assert (body["entity"], body["label"], body["kind"]) == (EX + "nikola_tesla", "Nikola Tesla", EX + "Person")
        rel = {g["relation"]: g for g in body["relations"]}
        assert [n["entity"] for n in rel[EX + "bornIn"]["out"]] == [EX + "smiljan"]
        assert sorted(n["entity"] for n in rel[EX + "employer"]["out"]) == [EX + "edison_machine_works",
                                                                              EX + "westinghouse_electric"]
        assert rel[EX + "employer"]["out_total"] == 2 and rel[EX + "employer"]["label"] == "worked for"
    london = httpx.get(served.url + "/entities/London", params={"limit": 1}).json()
    born = {g["relation"]: g for g in london["relations"]}[EX + "bornIn"]
    # born in London: Babbage, Lovelace, Berners-Lee (examples/inventors.ttl); one listed, three counted
    assert born["in_total"] == 3 and len(born["in"]) == 1 and born["out"] == []


def test_unknown_entity_is_404_with_close_matches(served):
    message = error_of(httpx.get(served.url + "/entities/Nikola%20Tesle"), 404, "E022")
    assert "nikola tesla" in message


def test_search_lists_aliases_with_priors(served):
    body = httpx.get(served.url + "/search", params={"q": "Tesla"}).json()
    first = body["results"][0]
    assert (first["entity"], first["alias"], first["prior"], first["exact"]) == (EX + "nikola_tesla", "tesla", 1.0, True)
    assert EX + "tesla_coil" in [h["entity"] for h in body["results"] if not h["exact"]]
    error_of(httpx.get(served.url + "/search"), 422, "E100")


def test_sparql_select_ask_construct(served):
    q = f"SELECT ?place WHERE {{ <{EX}nikola_tesla> <{EX}bornIn> ?place }}"
    assert post(served, "/sparql", {"query": q}).json() == {"type": "select", "variables": ["place"],
                                                             "rows": [{"place": EX + "smiljan"}]}
    ask = post(served, "/sparql", {"query": f"ASK {{ <{EX}thomas_edison> <{EX}founded> <{EX}general_electric> }}"})
    assert ask.json() == {"type": "ask", "boolean": True}
    construct = post(served, "/sparql", {"query": f"CONSTRUCT {{ ?p <{EX}bornIn> ?c }} WHERE "
                                                  f"{{ ?p <{EX}bornIn> ?c . FILTER(?p = <{EX}nikola_tesla>) }}"})
    assert construct.json() == {"type": "triples", "triples": [[EX + "nikola_tesla", EX + "bornIn", EX + "smiljan"]]}
    empty = post(served, "/sparql", {"query": "SELECT ?s WHERE { ?s <http://nothing/here> ?o }"}).json()
    assert empty == {"type": "select", "variables": [], "rows": []}


@pytest.mark.parametrize("query", [
    "INSERT DATA { <http://a/b> <http://a/c> <http://a/d> }",
    "DELETE WHERE { ?s ?p ?o }",
    "LOAD <http://example.org/data.ttl>",
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
])
def test_sparql_refuses_updates_load_and_service(served, query):
    message = error_of(post(served, "/sparql", {"query": query}), 422, "E023")
    if "SERVICE" in query:  # says what the server does, not a CLI flag it does not have
        assert "no outbound requests" in message and "--allow-service" not in message
    still = post(served, "/sparql", {"query": f"ASK {{ <{EX}thomas_edison> ?p ?o }}"})
    assert still.json()["boolean"] is True  # nothing was deleted


def test_sparql_row_limit_and_syntax_errors(served):
    message = error_of(post(served, "/sparql", {"query": "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d }"}), 422, "E023")
    assert "10,000" in message  # the server's row limit (188 quads squared is 35,344 rows)
    error_of(post(served, "/sparql", {"query": "SELEC nothing"}), 422, "E023")


# -- server --------------------------------------------------------------------------------------

def test_health_and_version(served):
    health = httpx.get(served.url + "/health").json()
    assert health["status"] == "ok" and health["graph"] == "inventors"
    assert health["worker"] == served.proc.pid  # one worker: the process itself
    version = httpx.get(served.url + "/version").json()
    manifest_bytes = (served.graph / "manifest.json").read_bytes()
    files = json.loads(manifest_bytes)["files"]
    # the QA models' graph checksum (kgnlu.qa.storage): sha256 over the manifest's file list
    assert version["graph"]["checksum"] == "sha256:" + hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    assert version["graph"]["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    assert version["graph"]["name"] == "inventors" and version["graph"]["triples"] == 75
    assert version["model"]["kind"] == "zero-shot"
    from kgnlu.version import __version__

    assert version["kgnlu"] == __version__


def test_page_docs_and_static_files(served):
    page = httpx.get(served.url + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    from kgnlu.serve.app import STATIC

    assert page.text == (STATIC / "index.html").read_text(encoding="utf-8")
    docs = httpx.get(served.url + "/docs")  # Swagger UI from the packaged copy: no CDN, works offline
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    asset = httpx.get(served.url + "/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    schema = httpx.get(served.url + "/openapi.json").json()
    assert {"/link", "/qa", "/choose", "/sparql", "/api", "/search", "/health", "/version"} <= set(schema["paths"])
    # no request value reaches a file path outside the static folder
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static//etc/passwd"):
        r = httpx.get(served.url + path)
        assert r.status_code == 404 and "import" not in r.text, path


def test_no_cors_headers_by_default(served):
    origin = {"Origin": "http://evil.example"}
    assert "access-control-allow-origin" not in httpx.get(served.url + "/health", headers=origin).headers
    preflight = httpx.options(served.url + "/link", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


# -- errors --------------------------------------------------------------------------------------

def test_body_over_a_megabyte_is_413_before_it_is_read(served):
    big = {"text": "a" * 1_100_000}
    error_of(post(served, "/link", big), 413, "E102")

    def chunks():  # no Content-Length: the limit is enforced on the streamed bytes
        yield b'{"text": "'
        for _ in range(40):
            yield b"b" * 50_000
        yield b'"}'

    r = httpx.post(served.url + "/link", content=chunks(), headers={"content-type": "application/json"}, timeout=60)
    error_of(r, 413, "E102")
    assert httpx.get(served.url + "/health").status_code == 200


def test_too_long_texts_and_questions_are_422_with_the_limit(served):
    message = error_of(post(served, "/link", {"text": "x" * 100_001}), 422, "E101")
    assert "100,000" in message and "--max-text" in message
    error_of(post(served, "/qa", {"question": "why " * 300}), 422, "E101")
    error_of(post(served, "/choose", {"question": "which?", "choices": ["a" * 1001, "b"]}), 422, "E101")
    error_of(post(served, "/api", {"text": "x" * 100_001, "spans": []}), 422, "E101")


@pytest.mark.parametrize("path,body", [
    ("/link", {}),  # a missing field
    ("/link", {"text": 5}),  # a wrong type
    ("/link", {"text": "x", "mode": "psychic"}),  # not a mode
    ("/link", {"text": "x", "colour": "red"}),  # not a field
    ("/qa", {"question": "Who?", "k": 0}),
    ("/qa", {"question": "Who?", "k": 51}),
    ("/choose", {"question": "Who?", "choices": []}),
    ("/sparql", {"q": "ASK {}"}),
])
def test_bad_requests_are_422_in_the_error_shape(served, path, body):
    error_of(post(served, path, body), 422, "E100")


def test_bad_json_is_422(served):
    r = httpx.post(served.url + "/qa", content=b'{"question": ', headers={"content-type": "application/json"})
    message = error_of(r, 422, "E100")
    assert "JSON" in message


def test_unknown_route_and_method_are_json(served):
    error_of(httpx.get(served.url + "/nothing-here"), 404, "E105")
    error_of(httpx.get(served.url + "/link"), 405, "E105")


def _same(a, b, tol: float = 1e-3) -> bool:
    """Equal JSON, floats within ``tol``: the command uses two torch threads and the server one, so
    sums run in another order and the last digits of a score may differ."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and abs(a - b) <= tol
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y, tol) for x, y in zip(a, b, strict=True))
    return a == b
