"""Errors as JSON: every failure a client sees is ``{"error": {"code": "E###", "message": ...}}``
with kgnlu's error code (kgnlu/errors.py) and the HTTP status its kind calls for.

Library errors keep their own codes (an unknown entity is E022 and 404, a bad SPARQL query E023
and 422); request validation errors from pydantic are reformatted into the same shape (E100, with
``details`` listing each field's problem); a bug is E106 and 500 without a traceback on the wire.
"""

from __future__ import annotations

import json
import logging
import re

from kgnlu.errors import (
    KgnluError,
    RequestBodyTooLargeError,
    RequestInvalidError,
    RequestTimeoutError,
    RequestUnauthorizedError,
    RouteNotFoundError,
    ServerInternalError,
    UnknownEntityError,
)

log = logging.getLogger("kgnlu.serve")

# most specific first; any other KgnluError is the request's fault (422)
STATUS = ((UnknownEntityError, 404), (RouteNotFoundError, 404), (RequestBodyTooLargeError, 413),
          (RequestUnauthorizedError, 401), (RequestTimeoutError, 504), (ServerInternalError, 500))
_CODE_PREFIX = re.compile(r"^\[E\d{3}\] ")


def status_of(err: KgnluError) -> int:
    for cls, status in STATUS:
        if isinstance(err, cls):
            return status
    return 422


def error_json(err: Exception, details: list | None = None) -> dict:
    code = getattr(err, "code", ServerInternalError.code)
    message = _CODE_PREFIX.sub("", str(err.args[0]) if err.args else str(err))
    out = {"code": code, "message": message}
    if details:
        out["details"] = details
    return {"error": out}


def error_body(err: Exception, details: list | None = None) -> bytes:
    return json.dumps(error_json(err, details), ensure_ascii=False).encode()


def install_handlers(app) -> None:
    """Exception handlers on ``app`` (a FastAPI) that answer every error in the JSON shape above."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    def respond(status: int, err: Exception, details: list | None = None, headers: dict | None = None):
        return JSONResponse(error_json(err, details), status_code=status, headers=headers)

    @app.exception_handler(KgnluError)
    async def kgnlu_error(request, err: KgnluError):
        return respond(status_of(err), err)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, err: RequestValidationError):
        details = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", ""),
                    "type": e.get("type", "")} for e in err.errors()]
        said = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        return respond(422, RequestInvalidError(f"the request does not fit this endpoint ({said}); "
                                                "see /docs for its fields"), details)

    @app.exception_handler(HTTPException)
    async def http_error(request, err: HTTPException):
        status = err.status_code
        if status == 404:
            wrapped = RouteNotFoundError(f"no endpoint at {request.url.path}; /docs lists them")
        elif status == 405:
            wrapped = RouteNotFoundError(f"{request.method} is not an endpoint of {request.url.path}; "
                                         "/docs lists the methods")
        elif status == 413:
            wrapped = RequestBodyTooLargeError(str(err.detail))
        else:
            wrapped = RequestInvalidError(str(err.detail))
        return respond(status, wrapped, headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def bug(request, err: Exception):
        log.exception("request %s %s failed", request.method, request.url.path)
        return respond(500, ServerInternalError("the server failed on this request (a bug; the server log has "
                                                "the traceback); other requests are unaffected"))
