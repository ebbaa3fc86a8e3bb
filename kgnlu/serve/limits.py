"""The request limits, as ASGI middleware around the FastAPI app (outermost first):

- :class:`WorkerHeader` — every response says which worker answered (``X-Kgnlu-Worker: <pid>``);
- :class:`BearerToken` — with a token set, API requests without ``Authorization: Bearer <token>``
  get 401 (the page, its static files, /health and the API docs stay open: they hold no data);
- :class:`BodyLimit` — a body over the limit gets 413: at once when Content-Length says so, else
  as soon as the streamed chunks pass it, so a huge body is never read into memory;
- :class:`Deadline` — a request still running at its time limit gets 504 and the server goes on
  (the worker thread finishes its call in the background; model calls check the deadline before
  they start, :meth:`kgnlu.serve.state.ServeState.compute`).

Each answers in the JSON error shape of :mod:`.problems` without calling the app.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import os
import time

from starlette.exceptions import HTTPException

from kgnlu.errors import RequestBodyTooLargeError, RequestTimeoutError, RequestUnauthorizedError
from kgnlu.serve.problems import error_body

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("kgnlu_serve_deadline", default=None)
OPEN_PATHS = ("/", "/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc")
WORKER_HEADER = b"x-kgnlu-worker"


def remaining_seconds() -> float | None:
    """Seconds left before this request's deadline (None outside a request or without a limit)."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


async def send_error(send, status: int, err: Exception, headers: list | None = None) -> None:
    body = error_body(err)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class WorkerHeader:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        pid = str(os.getpid()).encode()

        async def tagged(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (WORKER_HEADER, pid)]}
            await send(message)

        await self.app(scope, receive, tagged)


class BearerToken:
    def __init__(self, app, token: str):
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _open(scope["path"]):
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"authorization", b"")
        if not hmac.compare_digest(given, self.expected):
            err = RequestUnauthorizedError("this server needs a bearer token: send the header "
                                           "'Authorization: Bearer <token>' with the token it was started with "
                                           "(--token or $KGNLU_TOKEN)")
            return await send_error(send, 401, err, [(b"www-authenticate", b"Bearer")])
        await self.app(scope, receive, send)


def _open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(("/static/", "/docs-assets/"))


class _TooLarge(HTTPException):
    """Raised from the counting ``receive``: an HTTPException, since FastAPI turns any other error
    while reading a body into a 400; :mod:`.problems` answers it as 413 (E102)."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is over the server's limit of {limit:,} bytes; send less "
                              "(split the text), or start the server with a larger --max-body")


class BodyLimit:
    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    def _error(self) -> RequestBodyTooLargeError:
        return RequestBodyTooLargeError(f"the request body is over the server's limit of {self.max_bytes:,} bytes; "
                                        "send less (split the text), or start the server with a larger "
                                        "--max-body")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        try:
            declared = int(length) if length is not None else None
        except ValueError:
            declared = None
        if declared is not None and declared > self.max_bytes:
            return await send_error(send, 413, self._error(), [(b"connection", b"close")])
        seen, started = 0, False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await send_error(send, 413, self._error(), [(b"connection", b"close")])


class Deadline:
    def __init__(self, app, seconds: float):
        self.app, self.seconds = app, seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        token = _DEADLINE.set(time.monotonic() + self.seconds)
        started = late = False

        async def guarded(message):
            nonlocal started
            if late:
                return  # 504 was sent: whatever the abandoned call says now is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            # a task (not wait_for): cancelling a call running in a worker thread waits for the
            # thread, and a 504 must go out at the deadline; the task copies the deadline context
            task = asyncio.ensure_future(self.app(scope, receive, guarded))
        finally:
            _DEADLINE.reset(token)
        done, _ = await asyncio.wait({task}, timeout=self.seconds)
        if task in done:
            return task.result()
        late = True
        task.cancel()
        task.add_done_callback(_quiet)
        if not started:
            err = RequestTimeoutError(f"the request ran past the server's time limit of {self.seconds:g} s; "
                                      "ask for less, or start the server with a larger --timeout")
            await send_error(send, 504, err)


def _quiet(task: asyncio.Task) -> None:
    """An abandoned request's outcome is not news: retrieve it so asyncio does not log it."""
    if not task.cancelled():
        task.exception()
