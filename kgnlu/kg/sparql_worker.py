"""The child process that evaluates one SPARQL query (run as a script by :mod:`kgnlu.kg.sparql_limits`).

Oxigraph cannot be interrupted from Python: an ORDER BY or COUNT over a cartesian product runs
inside Rust, ignores Ctrl-C and grows without bound. Run in its own process, a query can always
be stopped — the parent kills it at the deadline, on Ctrl-C, or once it has read enough rows.

Protocol. stdin: one JSON line ``{"store", "query", "prefixes", "bindings", "timeout",
"max_memory_mb", "parent"}``
(binding values are terms in N-Triples syntax; ``parent`` the parent's pid). stdout: one JSON header line — ``{"kind": "solutions"}``
followed by SPARQL TSV results, ``{"kind": "triples"}`` followed by N-Triples, ``{"kind":
"boolean", "value": ...}``, or ``{"error": "syntax"|"evaluation", "message": ...}``. An error while
streaming goes to stderr with exit status 3.

Imports only the standard library and pyoxigraph, so it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import json
import os
import sys

OUT_OF_MEMORY = 4  # exit status past the memory limit (Rust's own allocation failures abort instead)


def _die_with_parent() -> None:
    """A child left behind by a killed parent must not run on: the kernel kills it when the parent
    dies (Linux; elsewhere the CPU limit of :func:`_limit` ends it)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _limit(timeout: float | None, max_memory_mb: int | None) -> None:
    """CPU time (a backstop: the parent kills at the deadline) and address space: past it an
    allocation fails and Oxigraph aborts, long before the machine runs short."""
    try:
        import resource

        if timeout is not None:
            seconds = int(timeout) + 5
            resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))  # SIGXCPU, then SIGKILL
        if max_memory_mb is not None:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory_mb << 20, max_memory_mb << 20))
    except (ImportError, ValueError, OSError):
        pass


def _term(text: str):
    import pyoxigraph as ox

    return next(iter(ox.parse(f"<urn:s> <urn:p> {text} .".encode(), format=ox.RdfFormat.N_TRIPLES))).object


def _query(store, query: str, prefixes: dict, bindings: dict):
    import pyoxigraph as ox

    subs = {ox.Variable(k): _term(v) for k, v in bindings.items()}
    try:
        return store.query(query, prefixes=prefixes, substitutions=subs or None)
    except RuntimeError as err:
        # Oxigraph substitutes only projected variables. For the others, join the query with a
        # trailing VALUES block (SPARQL 1.1 §18.2.4.3: joined before projection). The values are
        # terms serialised by pyoxigraph (escaped N-Triples), never raw user text.
        if "projection" not in str(err):
            raise
        names = " ".join(f"?{v.value}" for v in subs)
        row = " ".join(str(t) for t in subs.values())
        return store.query(f"{query}\nVALUES ({names}) {{ ({row}) }}", prefixes=prefixes)


def _header(out, **fields) -> None:
    out.write(json.dumps(fields).encode() + b"\n")
    out.flush()


def main() -> int:
    request = json.loads(sys.stdin.readline())
    _die_with_parent()
    if os.getppid() != request["parent"]:  # the parent died before that took effect
        return 1
    _limit(request.get("timeout"), request.get("max_memory_mb"))
    sys.path.insert(0, request["pyoxigraph_path"])  # started with -I -S: no site-packages scan
    import pyoxigraph as ox

    out = sys.stdout.buffer
    try:
        store = ox.Store.read_only(request["store"])
        result = _query(store, request["query"], request["prefixes"], request["bindings"])
    except SyntaxError as err:
        _header(out, error="syntax", message=str(err))
        return 0
    except MemoryError:
        return OUT_OF_MEMORY
    except (OSError, RuntimeError, ValueError) as err:
        _header(out, error="evaluation", message=str(err))
        return 0
    try:
        if isinstance(result, ox.QueryBoolean):
            _header(out, kind="boolean", value=bool(result))
        elif isinstance(result, ox.QuerySolutions):
            _header(out, kind="solutions")
            result.serialize(out, format=ox.QueryResultsFormat.TSV)
        else:
            _header(out, kind="triples")
            result.serialize(out, format=ox.RdfFormat.N_TRIPLES)
        out.flush()
    except BrokenPipeError:  # the parent stopped reading (row cap reached): nothing left to do
        return 0
    except MemoryError:
        return OUT_OF_MEMORY
    except (OSError, RuntimeError, ValueError) as err:
        print(f"SPARQL evaluation failed: {err}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
