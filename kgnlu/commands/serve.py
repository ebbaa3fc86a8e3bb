"""``kgnlu serve GRAPH``: the HTTP API and web page over one graph (kgnlu/serve/, docs/serving.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from kgnlu.errors import ConfigError


def serve(
    graph: Annotated[Path, typer.Argument(help="A graph directory made by `kgnlu graph build`.")],
    model: Annotated[Path | None, typer.Option(
        "--model", help="A trained QA model (default: the default model when it was trained on GRAPH, "
                        "else zero-shot, as `kgnlu qa`).")] = None,
    zero_shot: Annotated[bool, typer.Option(
        "--zero-shot", help="Answer without a trained model even when one fits the graph.")] = False,
    host: Annotated[str, typer.Option(
        help="Address to listen on. The default answers this machine only; any other prints a warning "
             "(protect it with --token).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="Worker processes sharing the loaded graph (forked after loading).")] = 1,
    token: Annotated[str | None, typer.Option(
        help="Bearer token API requests must send (Authorization: Bearer ...); default $KGNLU_TOKEN.")] = None,
    cors: Annotated[list[str] | None, typer.Option(
        help="An origin allowed to call the API from a browser page (repeatable); none by default.")] = None,
    timeout: Annotated[float, typer.Option(min=0.01, help="Seconds a request may run before a 504.")] = 30.0,
    max_body: Annotated[int, typer.Option(min=1, help="Largest request body, in bytes (413 above).")] = 1_000_000,
    max_text: Annotated[int, typer.Option(min=1, help="Longest /link or /api text, in characters.")] = 100_000,
    max_question: Annotated[int, typer.Option(min=1, help="Longest question or choice, in characters.")] = 1_000,
    sparql_timeout: Annotated[float, typer.Option(min=0.01, help="Seconds a SPARQL query may run.")] = 10.0,
    sparql_rows: Annotated[int, typer.Option(min=1, help="Most rows a SPARQL query may return.")] = 10_000,
    threads: Annotated[int, typer.Option(min=1, help="torch threads per worker.")] = 1,
) -> None:
    """Serve linking, question answering, entity pages, alias search and read-only SPARQL over
    HTTP (OpenAPI docs at /docs, the web page at /). Stops cleanly on SIGTERM or Ctrl-C, after the
    requests in flight are answered."""
    from kgnlu.serve.app import create_app
    from kgnlu.serve.settings import ServeSettings
    from kgnlu.serve.state import load_state
    from kgnlu.serve.workers import bind, limit_malloc_arenas
    from kgnlu.serve.workers import serve as run

    if model is not None and zero_shot:
        raise ConfigError("give --model or --zero-shot, not both")
    if not graph.is_dir():
        raise ConfigError(f"{graph}: no such graph directory (make one with `kgnlu graph build`)")
    token = token if token is not None else (os.environ.get("KGNLU_TOKEN") or None)
    settings = ServeSettings(host=host, port=port, workers=workers, token=token, cors=tuple(cors or ()),
                             timeout=timeout, max_body_bytes=max_body, max_text_chars=max_text,
                             max_question_chars=max_question, sparql_timeout=sparql_timeout,
                             sparql_max_rows=sparql_rows, threads=threads,
                             graceful_seconds=max(5.0, timeout + 5.0))
    say = _stderr
    if not settings.loopback:
        say(f"kgnlu serve: warning: listening on {host}, reachable from other machines"
            + ("" if token else "; anyone who can reach it can use it — set --token or $KGNLU_TOKEN"))
    sock = bind(host, port)  # before loading: a taken port fails in a second, not after the models load
    limit_malloc_arenas()  # inherited by the workers: fewer, fuller arenas keep a worker's RSS from creeping
    if workers > 1:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no Rust thread pool to inherit across fork
    # the parent loads with one torch thread: an OpenMP pool started before fork hangs the workers
    state = load_state(graph, model, zero_shot, threads=threads if workers == 1 else 1, report=say)
    app = create_app(state, settings)
    shown = f"[{host}]" if ":" in host else host
    say(f"kgnlu serve: {state.kg.name} on http://{shown}:{sock.getsockname()[1]} ({workers} worker"
        f"{'s' if workers > 1 else ''}; docs at /docs; SIGTERM or Ctrl-C stops it)")
    code = run(app, settings, sock, report=say)
    if code:
        raise typer.Exit(code)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
