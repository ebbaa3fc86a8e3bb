"""``create_app(state, settings)``: the FastAPI app of ``kgnlu serve`` — every endpoint, the web
page at ``/`` (``static/index.html``) with its files under ``/static/``, OpenAPI docs at ``/docs``,
and the limits of :mod:`.limits` around it all."""

from __future__ import annotations

import os
from pathlib import Path

from kgnlu.serve.settings import ServeSettings
from kgnlu.serve.state import ServeState

STATIC = Path(__file__).resolve().parent / "static"
NO_PAGE = ("<!doctype html><meta charset=utf-8><title>kgnlu</title><p>kgnlu serve is running; the web page "
           "(kgnlu/serve/static/index.html) is not installed. The API is described at <a href=/docs>/docs</a>.")


def create_app(state: ServeState, settings: ServeSettings):
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import FileResponse, HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    from kgnlu.serve.graph_routes import graph_router
    from kgnlu.serve.limits import BearerToken, BodyLimit, Deadline, WorkerHeader
    from kgnlu.serve.nlu_routes import nlu_router
    from kgnlu.serve.problems import install_handlers
    from kgnlu.serve.rel_api import rel_router
    from kgnlu.serve.sparql_endpoint import sparql_router
    from kgnlu.version import __version__

    # docs_url=None: FastAPI's own /docs loads Swagger UI from a CDN; ours serves the packaged copy
    # (swagger-ui-bundle), so the docs work offline like the page
    app = FastAPI(title="kgnlu", version=__version__, docs_url=None, redoc_url=None,
                  description=f"Entity linking, question answering and SPARQL over the graph {state.kg.name!r}. "
                              "Errors are JSON: {\"error\": {\"code\": \"E###\", \"message\": ...}}.")
    install_handlers(app)
    for router in (nlu_router, graph_router, sparql_router, rel_router):
        app.include_router(router(state, settings))

    @app.get("/health", tags=["server"], summary="Whether this worker is up")
    def health() -> dict:
        return {"status": "ok", "graph": state.kg.name, "worker": os.getpid()}

    @app.get("/version", tags=["server"], summary="kgnlu version, graph name and checksum, QA model")
    def version() -> dict:
        return state.version()

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="kgnlu API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/", include_in_schema=False)
    def page():
        index = STATIC / "index.html"
        return FileResponse(index, media_type="text/html") if index.is_file() else HTMLResponse(NO_PAGE)

    # StaticFiles resolves inside STATIC only ("..", absolute paths and links out of it are 404)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")

    # add_middleware wraps what is there: the last added runs first (CORS, then worker header, ...)
    app.add_middleware(Deadline, seconds=settings.timeout)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.token:
        app.add_middleware(BearerToken, token=settings.token)
    app.add_middleware(WorkerHeader)
    if settings.cors:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], expose_headers=["X-Kgnlu-Worker"])
    return app
