"""Request and response schemas of the HTTP API (API.md); domain types live in rag.types."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag.config import ASK_MAX_TOP_K, ASK_TOP_K, DEFAULT_COLLECTION, SEARCH_MODE, SEARCH_TOP_K

# A collection is a folder under the index directory: letters, digits (any script), _ and -; never a path.
COLLECTION_PATTERN = r"^[\w-]{1,64}$"
Collection = Annotated[str, Field(pattern=COLLECTION_PATTERN, description="collection name: letters, digits, _ and -")]


def _utf8(v: Any) -> Any:
    """JSON may escape a lone surrogate (\\ud800); such a string is not text and cannot reach the models."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(f"not valid Unicode text (a lone surrogate at character {e.start})") from None
    elif isinstance(v, list | tuple):
        for x in v:
            _utf8(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            _utf8(k)
            _utf8(x)
    return v


class _Request(BaseModel):
    """Every request body: its strings must be valid Unicode."""

    @field_validator("*")
    @classmethod
    def _valid_text(cls, v: Any) -> Any:
        return _utf8(v)


class SearchRequest(_Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{"query": "华勤千亿产业基地项目投资多少", "top_k": 5}]})
    query: str
    top_k: int = Field(SEARCH_TOP_K, ge=1, le=200)
    collection: Collection = DEFAULT_COLLECTION
    mode: Literal["hybrid", "dense", "bm25"] = SEARCH_MODE


class Turn(_Request):
    role: Literal["user", "assistant", "system"]
    content: str


class AskRequest(_Request):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"question": "2021年南昌规模以上工业增加值增长了多少？"}]}
    )
    question: str
    top_k: int = Field(ASK_TOP_K, ge=1, le=ASK_MAX_TOP_K)
    collection: Collection = DEFAULT_COLLECTION
    history: list[Turn] = []
    generator: str | None = None
    stream: bool = False
    draft: bool = Field(
        False,
        description="with stream and a non-extractive generator: first a `draft` event holding "
        "the extractive answer (the `done` shape), right after retrieval",
    )


class ChatMessage(_Request):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(_Request):
    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {"model": "rag", "messages": [{"role": "user", "content": "2021年南昌工业投资同比增长多少？"}]}
            ]
        },
    )
    model: str = "rag"
    messages: list[ChatMessage]
    stream: bool = False
    collection: Collection = DEFAULT_COLLECTION
    top_k: int = Field(ASK_TOP_K, ge=1, le=ASK_MAX_TOP_K)
    generator: str | None = None


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


_ERRORS = {
    400: "bad input, or a Host name this server does not serve",
    401: "missing or wrong API key",
    403: "the key lacks the right, or a cross-site request",
    404: "unknown collection or document",
    408: "the request body arrived too slowly",
    409: "the collection is being indexed by another writer, or a document id is taken by another file",
    413: "question, history, body, upload or file too large (docs/security.md)",
    415: "unsupported or binary file",
    422: "invalid request or undecodable file",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": d} for code, d in _ERRORS.items()
}
