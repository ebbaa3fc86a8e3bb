"""``GET /entities/{id}`` (an entity's page: label, kind, text, neighbours by relation) and
``GET /search?q=`` (entities an alias names, with priors). Plain reads of the memory-mapped graph:
no model lock, no file path built from the request (ids are looked up in the graph's tables)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from kgnlu.serve.schemas import EntityResponse, SearchResponse, check_length
from kgnlu.serve.settings import ServeSettings
from kgnlu.serve.state import ServeState

MAX_QUERY_CHARS = 200


def entity_json(kg, e: int, limit: int) -> dict:
    """Entity ``e`` with its edges grouped by relation: per relation up to ``limit`` entities each
    way, and the full counts (a hub can have millions)."""
    groups: dict[int, dict] = {}
    for step in kg.neighbors(e):
        g = groups.setdefault(step.relation, {"out": [], "in": [], "out_total": 0, "in_total": 0})
        side, other = ("out", step.tail) if step.forward else ("in", step.head)
        g[f"{side}_total"] += 1
        if len(g[side]) < limit:
            g[side].append({"entity": kg.entity_id(other), "label": kg.entity_label(other)})
    relations = [{"relation": kg.relation_id(r), "label": kg.relation_label(r), **g}
                 for r, g in sorted(groups.items(), key=lambda item: kg.relation_id(item[0]))]
    return {"entity": kg.entity_id(e), "iri": kg.entity_iri(e), "label": kg.entity_label(e),
            "kind": kg.entity_kind(e), "text": kg.entity_text(e), "relations": relations}


def search_json(kg, query: str, limit: int) -> dict:
    """Entities named by ``query`` as an alias (exact, highest prior first), then by close aliases."""
    from kgnlu.kg.graph_builder import alias_key

    hits, seen = [], set()
    key = alias_key(query)
    names = [(key, True)] + [(k, False) for k in kg.close_matches(query, n=limit) if k != key]
    for alias, exact in names:
        for e, prior in kg.aliases(alias):
            if e in seen or len(hits) >= limit:
                continue
            seen.add(e)
            hits.append({"entity": kg.entity_id(e), "label": kg.entity_label(e), "kind": kg.entity_kind(e),
                         "alias": alias, "prior": round(float(prior), 6), "exact": exact})
    return {"query": query, "results": hits}


def graph_router(state: ServeState, settings: ServeSettings) -> APIRouter:
    router = APIRouter(tags=["graph"])
    kg = state.kg

    @router.get("/entities/{entity_id:path}", response_model=EntityResponse, response_model_by_alias=True,
                summary="An entity: label, kind, text and neighbours by relation (id, IRI, label or alias)")
    def entity(entity_id: str, limit: int = Query(20, ge=1, le=500, description="Neighbours listed per "
                                                                               "relation and direction.")) -> dict:
        check_length(entity_id, settings.max_question_chars, "the entity id", "--max-question")
        e = kg.index_of(entity_id)
        if e < 0:
            e = kg.lookup(entity_id)  # a label or alias; UnknownEntityError (404) lists close matches
        return entity_json(kg, e, limit)

    @router.get("/search", response_model=SearchResponse,
                summary="Entities an alias names, with their priors p(entity | alias)")
    def search(q: str = Query(min_length=1, description="An alias, label or name."),
               limit: int = Query(10, ge=1, le=100)) -> dict:
        check_length(q, MAX_QUERY_CHARS, "the search query", "(a shorter query)")
        return search_json(kg, q, limit)

    return router
