"""Safety options and shutdown against real servers, started side by side:

- ``guarded``: a non-loopback --host (warned about), --token (401 without it), --cors (headers only
  for that origin), --workers 2 (both answer, sharing one socket) and a tiny --timeout (504, and the
  server stays healthy);
- ``draining``: --workers 2 with roomy limits; SIGTERM answers the request in flight in full, then
  the workers and the server exit 0."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import psutil
import pytest

from tests.serve.server_proc import launch, stop, wait_healthy

TOKEN = "s3cret-token"
ORIGIN = "http://page.example"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HEAVY_SPARQL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }"  # 188^4 rows
# 188 quads in the store (the graph's manifest: store_quads), joined three ways: 188^3 rows,
# counted in a couple of seconds
THREE_WAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"


@pytest.fixture(scope="module")
def servers(serve_graph, serve_home):
    env = {"KGNLU_HOME": str(serve_home)}
    started = {
        # --max-text: room for a text whose linking takes several times the 1 s limit on any machine
        "guarded": launch(serve_graph, "--host", "0.0.0.0", "--token", TOKEN, "--cors", ORIGIN, "--workers", "2",
                          "--timeout", "1", "--max-text", "500000", env=env),
        "draining": launch(serve_graph, "--workers", "2", "--timeout", "60", "--sparql-timeout", "60", env=env),
    }
    try:
        for server in started.values():
            wait_healthy(server.url, server.proc, server.log)
        yield started
    finally:
        for server in started.values():
            stop(server.proc)


@pytest.fixture(scope="module")
def guarded(servers):
    return servers["guarded"]


def error_code(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    return r.json()["error"]["code"]


def test_a_non_loopback_host_is_warned_about(guarded, servers):
    assert "warning: listening on 0.0.0.0" in guarded.output()
    assert "warning" not in servers["draining"].output()


def test_token_is_required_for_the_api(guarded):
    body = {"text": "Tesla"}
    missing = httpx.post(guarded.url + "/link", json=body)
    assert error_code(missing, 401) == "E103" and missing.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(guarded.url + "/link", json=body, headers={"Authorization": "Bearer nope"})
    assert error_code(wrong, 401) == "E103"
    assert error_code(httpx.get(guarded.url + "/entities/Tesla"), 401) == "E103"
    assert error_code(httpx.get(guarded.url + "/version"), 401) == "E103"
    assert httpx.post(guarded.url + "/link", json=body, headers=AUTH).status_code == 200
    assert httpx.get(guarded.url + "/health").status_code == 200  # open: load balancers probe it


def test_cors_only_for_the_given_origin(guarded):
    allowed = httpx.get(guarded.url + "/search", params={"q": "Tesla"}, headers={**AUTH, "Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    other = httpx.get(guarded.url + "/search", params={"q": "Tesla"}, headers={**AUTH, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = httpx.options(guarded.url + "/link", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                                              "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == ORIGIN


def test_two_workers_both_answer_from_one_socket(guarded):
    workers = set()
    for _ in range(60):  # a fresh connection each time: the kernel gives it to whichever worker accepts
        with httpx.Client() as client:
            workers.add(int(client.get(guarded.url + "/health").headers["x-kgnlu-worker"]))
        if len(workers) == 2:
            break
    assert len(workers) == 2
    children = {p.pid for p in psutil.Process(guarded.proc.pid).children()}
    assert workers <= children  # forked by the server process, not started anew


def test_a_slow_query_is_504_at_the_time_limit(guarded):
    started = time.monotonic()
    r = httpx.post(guarded.url + "/sparql", json={"query": HEAVY_SPARQL}, headers=AUTH, timeout=60)
    assert error_code(r, 504) == "E104"
    assert time.monotonic() - started < 5  # stopped at about 1 s, not run to the end (minutes)


def test_a_slow_call_is_504_and_the_server_stays_healthy(guarded):
    # 400,400 chars: an idle 2-core machine links 96k of them in under the 1 s limit, so this is ~4 s of work
    text = "Tesla worked for Westinghouse in London and Edison founded General Electric. " * 5200
    started = time.monotonic()
    r = httpx.post(guarded.url + "/link", json={"text": text}, headers=AUTH, timeout=60)
    assert error_code(r, 504) == "E104"
    assert time.monotonic() - started < 5
    for _ in range(4):
        assert httpx.get(guarded.url + "/health").status_code == 200
    assert httpx.get(guarded.url + "/search", params={"q": "Edison"}, headers=AUTH).status_code == 200


def test_sigterm_drains_the_request_in_flight_then_exits_0(servers):
    server = servers["draining"]
    workers = [p.pid for p in psutil.Process(server.proc.pid).children()]
    assert len(workers) == 2
    answer: dict = {}

    def ask():
        r = httpx.post(server.url + "/sparql", json={"query": THREE_WAY}, timeout=120)
        answer.update(status=r.status_code, body=r.json(), at=time.monotonic())

    asking = threading.Thread(target=ask)
    asking.start()
    time.sleep(0.8)  # the request is in a worker now
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    asking.join(120)
    assert server.proc.wait(60) == 0
    assert answer["status"] == 200, answer
    assert answer["body"]["rows"] == [{"n": 188 ** 3}]
    assert answer["at"] > signalled  # it was still running when SIGTERM came
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in workers)
    assert "Shutting down" in server.output()
