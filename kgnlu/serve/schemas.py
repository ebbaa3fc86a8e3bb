"""Request and response models of the API (pydantic): what /docs shows and what a request must
hold. Lengths are checked by the endpoints against the server's settings (:func:`check_length`),
so a too-long text is E101 with the limit in the message rather than a generic validation error."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kgnlu.errors import RequestTextTooLongError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class LinkRequest(_Strict):
    text: str = Field(description="Text to link (character offsets in the answer index into it).")
    mode: Literal["fast", "neural"] = Field("fast", description="fast (no neural encoder) or neural "
                                                                 "(MiniLM context scores; built on first use).")
    top: int = Field(5, ge=0, le=50, description="Candidates listed per mention.")


class QARequest(_Strict):
    question: str
    k: int = Field(5, ge=1, description="Answers to return (at most the server's limit, 50 by default).")


class ChooseRequest(_Strict):
    question: str
    choices: list[str] = Field(min_length=1, description="The answer choices, scored against the graph.")


class SparqlRequest(_Strict):
    query: str = Field(description="A SELECT, ASK, CONSTRUCT or DESCRIBE query; the graph's prefixes are "
                                   "predeclared. Updates, LOAD and SERVICE are refused.")


class RELSpan(BaseModel):
    start: int = Field(ge=0)
    length: int = Field(ge=0)


class RELRequest(BaseModel):
    """REL's request (https://github.com/informagi/REL): ``spans`` empty or absent = find and link
    every mention; given = disambiguate those spans only. A span is ``[start, length]`` or, as
    GERBIL sends it, ``{"start": ..., "length": ...}``."""

    model_config = ConfigDict(extra="ignore")  # REL's clients may send more; REL ignores it too
    text: str
    spans: list[tuple[int, int] | RELSpan] = Field(default_factory=list)


class CandidateOut(BaseModel):
    entity: str
    label: str
    score: float
    prior: float
    source: str


class LinkOut(BaseModel):
    start: int
    end: int
    surface: str
    entity: str
    label: str
    kind: str
    score: float
    candidates: list[CandidateOut]


class LinkResponse(BaseModel):
    text: str
    mode: str
    links: list[LinkOut]


class SearchHit(BaseModel):
    entity: str
    label: str
    kind: str
    alias: str = Field(description="The alias (normalised) that matched.")
    prior: float = Field(description="p(entity | alias) from the graph's alias table.")
    exact: bool = Field(description="Whether the alias is the query itself (else a close match).")


class SearchResponse(BaseModel):
    query: str
    results: list[SearchHit]


class NeighbourOut(BaseModel):
    entity: str
    label: str


class RelationNeighbours(BaseModel):
    relation: str
    label: str
    out: list[NeighbourOut] = Field(description="Entities this one points to by the relation.")
    incoming: list[NeighbourOut] = Field(alias="in", description="Entities pointing to this one.")
    out_total: int
    in_total: int

    model_config = ConfigDict(populate_by_name=True)


class EntityResponse(BaseModel):
    entity: str
    iri: str
    label: str
    kind: str
    text: str
    relations: list[RelationNeighbours]


def check_length(value: str, limit: int, what: str, option: str) -> None:
    if len(value) > limit:
        raise RequestTextTooLongError(f"{what} has {len(value):,} characters, over the server's limit of {limit:,}; "
                                      f"send less, or start the server with a larger {option}")
