"""``POST /sparql``: read-only SPARQL over the graph's store, bounded.

:meth:`KnowledgeGraph.sparql` does the guarding and the limits: updates (INSERT, DELETE, LOAD,
CLEAR, ...) and SERVICE are refused before the store sees the query (:mod:`kgnlu.kg.sparql_guard`,
E023 → 422), and the query runs in a child process (:mod:`kgnlu.kg.sparql_limits`) that is killed
past its time limit, row limit or memory limit. The time limit is the smaller of the server's
``sparql_timeout`` and what is left of the request's own; a query stopped by it is a 504.
At most :data:`CONCURRENT_QUERIES` children run per worker, so a burst of queries cannot fork
the machine to death; the others wait (up to their deadline).
"""

from __future__ import annotations

import math
import re
import threading
import time

from fastapi import APIRouter

from kgnlu.errors import QueryError, RequestTimeoutError
from kgnlu.kg.sparql_guard import check_read_only
from kgnlu.serve.limits import remaining_seconds
from kgnlu.serve.schemas import SparqlRequest, check_length
from kgnlu.serve.settings import ServeSettings
from kgnlu.serve.state import ServeState

CONCURRENT_QUERIES = 2
MAX_QUERY_CHARS = 20_000
MEMORY_MB = 1024  # per query child: a runaway join fails its allocation long before the machine does
MARGIN = 0.25  # seconds kept back from the request's deadline to answer in time


def _plain(value):
    """JSON has no NaN or infinity: such doubles go out as their SPARQL spelling."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("INF" if value > 0 else "-INF")
    return value


def query_form(query: str) -> str:
    """The first of SELECT / ASK / CONSTRUCT / DESCRIBE outside IRIs, strings and comments (only
    needed to name an empty result's type)."""
    bare = re.sub(r"<[^>\s]*>|\"[^\"]*\"|'[^']*'|#[^\n]*", " ", query)
    found = re.search(r"\b(select|ask|construct|describe)\b", bare, re.IGNORECASE)
    return found.group(1).lower() if found else "select"


def result_json(result, query: str) -> dict:
    if isinstance(result, bool):
        return {"type": "ask", "boolean": result}
    if (result and isinstance(result[0], dict)) or (not result and query_form(query) == "select"):
        rows = [{k: _plain(v) for k, v in row.items()} for row in result]
        return {"type": "select", "variables": list(result[0]) if result else [], "rows": rows}
    return {"type": "triples", "triples": [[_plain(x) for x in t] for t in result]}


def sparql_router(state: ServeState, settings: ServeSettings) -> APIRouter:
    router = APIRouter(tags=["graph"])
    slots = threading.BoundedSemaphore(CONCURRENT_QUERIES)

    @router.post("/sparql", summary="Read-only SPARQL (SELECT, ASK, CONSTRUCT, DESCRIBE) with time and row limits")
    def sparql(req: SparqlRequest) -> dict:
        check_length(req.query, MAX_QUERY_CHARS, "the query", "(a shorter query)")
        try:  # refused before a slot is taken; the library's message names a CLI flag serve has not
            check_read_only(req.query)
        except QueryError as err:
            if "SERVICE" not in str(err):
                raise
            raise QueryError("SERVICE (a federated query to another endpoint) is refused: kgnlu serve makes no "
                             "outbound requests; query that endpoint directly") from None
        left = remaining_seconds()
        if not slots.acquire(timeout=-1 if left is None else max(0.0, left - MARGIN)):
            raise RequestTimeoutError("every SPARQL slot of this worker stayed busy until the request's time "
                                      "limit; retry later")
        try:
            left = remaining_seconds()
            limit = settings.sparql_timeout if left is None else min(settings.sparql_timeout, left - MARGIN)
            if limit <= 0:
                raise RequestTimeoutError("this request ran out of time before its query started")
            started = time.monotonic()
            try:
                result = state.kg.sparql(req.query, max_rows=settings.sparql_max_rows, timeout=limit,
                                         max_memory_mb=MEMORY_MB)
            except QueryError as err:
                if time.monotonic() - started >= limit:
                    raise RequestTimeoutError(f"the query ran past its time limit of {limit:.3g} s and was "
                                              "stopped; add LIMIT or narrow its patterns") from err
                raise
        finally:
            slots.release()
        return result_json(result, req.query)

    return router
