"""``POST /api`` in REL's format, so REL and GERBIL clients work unchanged
(REL: https://github.com/informagi/REL, ``REL/server.py`` and ``REL/utils.py:process_results``).

Request ``{"text": ..., "spans": [[start, length], ...]}``: no spans = entity linking (find the
mentions, then link them); spans = disambiguation of exactly those spans. Response: a list of
``[start, length, mention, entity, disambiguation_score, ner_score, tag]``, one per linked mention,
NIL mentions left out as REL does. Differences, by necessity: ``entity`` is the graph's id (REL
gives a Wikipedia title); kgnlu finds mentions by alias match, with no NER model, so
``ner_score`` is 1.0 for a found mention (REL's flair confidence) and 0.0 for a given span (as in
REL), and ``tag`` is the entity's kind (REL's NER tag) — the local name of its class, or "NULL".
``GET /api`` answers REL's status object. Unlike REL, "&amp;" is not rewritten to "&": offsets
stay offsets into the text as sent.
"""

from __future__ import annotations

from fastapi import APIRouter

from kgnlu.errors import RequestInvalidError
from kgnlu.kg.namespaces import local_name
from kgnlu.serve.schemas import RELRequest, RELSpan, check_length
from kgnlu.serve.settings import ServeSettings
from kgnlu.serve.state import ServeState

STATUS = {"schemaVersion": 1, "label": "status", "message": "up", "color": "green"}


def rel_spans(req: RELRequest) -> list[tuple[int, int]]:
    """REL's (start, length) spans as the linker's (start, end), checked against the text."""
    out = []
    for span in req.spans:
        start, length = (span.start, span.length) if isinstance(span, RELSpan) else span
        if start < 0 or length < 0 or start + length > len(req.text):
            raise RequestInvalidError(f"span [{start}, {length}] is outside the text ({len(req.text)} characters); "
                                      "spans are [start, length] in characters")
        out.append((start, start + length))
    return out


def rel_rows(state: ServeState, links, given: bool) -> list[list]:
    kg = state.kg
    rows = []
    for lk in links:
        e = kg.index_of(lk.entity)
        kind = kg.entity_kind(e) if e >= 0 else ""
        tag = local_name(kind) if kind and kind != "entity" else "NULL"
        rows.append([lk.start, lk.end - lk.start, lk.surface, lk.entity, round(float(lk.score), 6),
                     0.0 if given else 1.0, tag or "NULL"])
    return rows


def rel_router(state: ServeState, settings: ServeSettings) -> APIRouter:
    router = APIRouter(tags=["REL compatible"])

    @router.get("/api", summary="REL's status object")
    def status() -> dict:
        return STATUS

    @router.post("/api", summary="REL's entity linking (spans empty) or disambiguation (spans given)")
    def rel(req: RELRequest) -> list[list]:
        check_length(req.text, settings.max_text_chars, "the text", "--max-text")
        if not req.text:
            return []
        spans = rel_spans(req)
        links = state.compute(state.linker.link, req.text, spans or None)
        return rel_rows(state, links, bool(spans))

    return router
