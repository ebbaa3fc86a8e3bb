"""Fixtures for the HTTP API tests: the example inventors graph, served by a real ``kgnlu serve``.

``served`` (session scope) is the server other suites use too (the browser tests): keep its name
and its attributes ``.url``, ``.graph``, ``.proc`` stable. ``start_server(graph, *args)``
(tests/serve/server_proc.py) starts another one with extra command-line options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.serve.server_proc import Server, start_server

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "inventors.ttl"

__all__ = ["Server", "start_server"]


@pytest.fixture(scope="session")
def serve_home(tmp_path_factory) -> Path:
    """A throwaway $KGNLU_HOME for the servers (the zero-shot description cache lands there and is
    shared by every server of the session); the linker cache is the session's $KGNLU_CACHE."""
    home = tmp_path_factory.mktemp("serve-home")
    os.environ.setdefault("KGNLU_CACHE", str(home / "cache"))
    return home


@pytest.fixture(scope="session")
def serve_graph(tmp_path_factory, serve_home) -> Path:
    """examples/inventors.ttl built into a graph: people, inventions, organisations and places, so
    linking, zero-shot QA and SPARQL all have real answers."""
    from kgnlu.kg.build import build_graph

    return Path(build_graph([str(EXAMPLE)], tmp_path_factory.mktemp("serve-graphs") / "inventors",
                            name="inventors"))


@pytest.fixture(scope="session")
def served(serve_graph, serve_home) -> Server:
    """A real ``kgnlu serve`` of the inventors graph on 127.0.0.1 and a free port, with the default
    options; yields a Server (``.url``, ``.graph``, ``.proc``), stopped at the end of the session."""
    with start_server(serve_graph, env={"KGNLU_HOME": str(serve_home)}) as server:
        yield server
