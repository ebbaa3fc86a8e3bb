"""``POST /link``, ``POST /qa`` and ``POST /choose``: the linker and KGQA behind HTTP.

/qa and /choose answer exactly what ``kgnlu qa --json`` prints (``AnswerList.to_json()``,
``ChoiceResult.to_json()``). The endpoints are plain functions: FastAPI runs them in its thread
pool, so a long call never blocks the event loop (health checks and timeouts keep working)."""

from __future__ import annotations

from fastapi import APIRouter

from kgnlu.errors import RequestInvalidError
from kgnlu.serve.schemas import ChooseRequest, LinkRequest, LinkResponse, QARequest, check_length
from kgnlu.serve.settings import ServeSettings
from kgnlu.serve.state import ServeState


def link_json(state: ServeState, link, top: int) -> dict:
    """One Link as the API's JSON: the linker's record plus labels and the entity's kind."""
    kg = state.kg

    def label(entity: str) -> str:
        e = kg.index_of(entity)
        return kg.entity_label(e) if e >= 0 else ""

    e = kg.index_of(link.entity)
    return {"start": link.start, "end": link.end, "surface": link.surface, "entity": link.entity,
            "label": label(link.entity), "kind": kg.entity_kind(e) if e >= 0 else "",
            "score": round(float(link.score), 6),
            "candidates": [{**c.to_json(), "label": label(c.entity)} for c in link.candidates[:top]]}


def nlu_router(state: ServeState, settings: ServeSettings) -> APIRouter:
    router = APIRouter(tags=["language"])

    @router.post("/link", response_model=LinkResponse,
                 summary="Link mentions in a text to graph entities (offsets, entity, score, candidates)")
    def link(req: LinkRequest) -> dict:
        check_length(req.text, settings.max_text_chars, "the text", "--max-text")
        linker = state.linker if req.mode == "fast" else state.neural_linker()
        links = state.compute(linker.link, req.text)
        return {"text": req.text, "mode": req.mode, "links": [link_json(state, lk, req.top) for lk in links]}

    @router.post("/qa", summary="Answer a question from the graph, with evidence paths (= `kgnlu qa --json`)")
    def qa(req: QARequest) -> dict:
        check_length(req.question, settings.max_question_chars, "the question", "--max-question")
        if req.k > settings.max_k:
            raise RequestInvalidError(f"k={req.k} is over the server's limit of {settings.max_k} answers")
        return state.compute(state.qa.answer, req.question, req.k).to_json()

    @router.post("/choose", summary="Score answer choices for a question (= `kgnlu qa --choice ... --json`)")
    def choose(req: ChooseRequest) -> dict:
        check_length(req.question, settings.max_question_chars, "the question", "--max-question")
        if len(req.choices) > settings.max_choices:
            raise RequestInvalidError(f"{len(req.choices)} choices is over the server's limit of "
                                      f"{settings.max_choices}")
        for choice in req.choices:
            check_length(choice, settings.max_question_chars, "a choice", "--max-question")
        return state.compute(state.qa.choose, req.question, req.choices).to_json()

    return router
