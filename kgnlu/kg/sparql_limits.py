"""Run a SPARQL query with a time limit and a row limit that really stop it (issue 19, item 3).

Oxigraph evaluates inside Rust without checking for signals or deadlines: an ORDER BY over a
cartesian product ignores Ctrl-C and grows past gigabytes. So the query runs in a child process
(:mod:`kgnlu.kg.sparql_worker`, the store opened read-only there) that streams its results back
through a pipe, and this side

* kills it at the deadline (``timeout`` seconds) → QueryError,
* kills it once ``max_rows`` + 1 rows have arrived → QueryError (the child is blocked on a full
  pipe by then, so neither side holds more than the cap),
* kills it on Ctrl-C (KeyboardInterrupt) before passing the interrupt on,
* and caps its address space (``max_memory_mb``): an ORDER BY or COUNT that materialises a huge
  join fails its allocation and ends → QueryError.

Memory is freed with the process. Starting the child costs about 0.1 s per query.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kgnlu.errors import QueryError

WORKER = Path(__file__).with_name("sparql_worker.py")
OUT_OF_MEMORY = 4  # the worker's exit status past the memory limit (it imports nothing of kgnlu)
_CHUNK = 1 << 16


@dataclass
class Result:
    """What the query returned: ``kind`` is "boolean" (``value``), "solutions" (``variables``,
    ``rows`` of pyoxigraph QuerySolution) or "triples" (``rows`` of pyoxigraph Quads)."""

    kind: str
    value: bool = False
    variables: list[str] = field(default_factory=list)
    rows: list = field(default_factory=list)


def run_query(store: Path, query: str, prefixes: dict[str, str], bindings: dict, *,
              timeout: float | None, max_rows: int | None, max_memory_mb: int | None = None) -> Result:
    """Evaluate ``query`` on the store at ``store`` in a child process, within the limits
    (None: no limit). ``bindings``: variable name → pyoxigraph term."""
    for name, value in (("timeout", timeout), ("max_rows", max_rows), ("max_memory_mb", max_memory_mb)):
        if value is not None and value <= 0:
            raise QueryError(f"{name} must be positive (got {value}); use None for no limit")
    import pyoxigraph

    request = {"store": str(store), "query": query, "prefixes": prefixes, "timeout": timeout,
               "max_memory_mb": max_memory_mb, "parent": os.getpid(),
               "pyoxigraph_path": str(Path(pyoxigraph.__file__).parent.parent),
               "bindings": {k: str(v) for k, v in bindings.items()}}
    # -I -S: isolated (kgnlu/kg, the script's folder, cannot shadow standard modules; no user
    # site or PYTHON* variables) and no site-packages scan, which is most of the start-up time;
    # the worker imports pyoxigraph from where this process found it.
    # A new session: the terminal's Ctrl-C reaches only this process, which stops the child.
    # Few malloc arenas: each reserves 64 MB of address space, which the memory limit counts.
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, env=env)
    try:
        try:
            proc.stdin.write(json.dumps(request).encode() + b"\n")
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the worker failed to start: its exit status and stderr say why, below
        return _collect(proc, timeout, max_rows, max_memory_mb)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _collect(proc: subprocess.Popen, timeout: float | None, max_rows: int | None,
             max_memory_mb: int | None) -> Result:
    deadline = None if timeout is None else time.monotonic() + timeout
    lines = _Lines()
    header = None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise _past_time_limit(timeout)
            if not sel.select(wait):
                continue
            chunk = os.read(proc.stdout.fileno(), _CHUNK)
            if not chunk:
                break
            lines.feed(chunk)
            if header is None and lines.complete:
                header = json.loads(lines.complete.pop(0))
            # Solutions carry one TSV line of variable names before the rows.
            extra = 1 if header is not None and header.get("kind") == "solutions" else 0
            if max_rows is not None and len(lines.complete) - extra > max_rows:
                raise QueryError(f"the query returns more than {max_rows:,} results; add LIMIT "
                                 "(or raise the cap: --max-rows / max_rows=)")
    try:  # the output is complete; the process ends at once
        proc.wait(timeout=None if deadline is None else max(deadline - time.monotonic(), 1.0))
    except subprocess.TimeoutExpired:
        raise _past_time_limit(timeout) from None
    if max_memory_mb is not None and proc.returncode in (OUT_OF_MEMORY, -signal.SIGABRT):
        raise QueryError(f"the query needed more than its memory limit of {max_memory_mb:,} MB and was "
                         "stopped; add LIMIT or narrow the pattern, or raise the limit (--max-memory MB / "
                         "max_memory_mb=; 0 on the CLI or None: no limit)")
    if header is None or proc.returncode != 0:
        raise QueryError(f"SPARQL evaluation failed: {_reason(proc)}")
    return _parse(header, lines.complete)


def _past_time_limit(timeout: float) -> QueryError:
    return QueryError(f"the query ran past its time limit of {timeout:g} s and was stopped; add LIMIT or "
                      "narrow the pattern, or raise the limit (--timeout SECONDS / timeout=; 0 on the CLI "
                      "or None: no limit)")


def _reason(proc: subprocess.Popen) -> str:
    err = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
    if proc.returncode < 0:
        return f"the query process was killed by signal {-proc.returncode} (out of memory or CPU time?)"
    return err[-1] if err else f"the query process exited with status {proc.returncode}"


def _parse(header: dict, lines: list[bytes]) -> Result:
    import pyoxigraph as ox

    if "error" in header:
        prefix = "SPARQL syntax error" if header["error"] == "syntax" else "SPARQL evaluation failed"
        raise QueryError(f"{prefix}: {header['message']}")
    if header["kind"] == "boolean":
        return Result("boolean", value=bool(header["value"]))
    data = b"\n".join(lines) + b"\n"
    if header["kind"] == "solutions":
        parsed = ox.parse_query_results(data, format=ox.QueryResultsFormat.TSV)
        return Result("solutions", variables=[v.value for v in parsed.variables], rows=list(parsed))
    return Result("triples", rows=list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES)))


class _Lines:
    """Bytes arriving in chunks, split into complete lines (TSV and N-Triples: one row a line)."""

    def __init__(self):
        self.complete: list[bytes] = []
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        parts = (self._tail + chunk).split(b"\n")
        self._tail = parts.pop()
        self.complete.extend(parts)
