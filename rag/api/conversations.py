"""Saved conversations (per API key) and answer feedback; an admin reads the feedback back as QA-set JSONL."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from rag.api.deps import Admin, Comp, User, keys_configured, presented, require_admin
from rag.api.schemas import ERROR_RESPONSES, Collection, _Request
from rag.config import DEFAULT_COLLECTION, Settings
from rag.conversations import ConversationStore, Limits, owner_of, qa_items
from rag.errors import BadInput, RagError, TooLarge

router = APIRouter(responses=ERROR_RESPONSES)


def get_store(request: Request) -> ConversationStore:
    """One store per app, opened on first use beside the index."""
    store = getattr(request.app.state, "conversations", None)
    if store is None:
        s: Settings = request.app.state.components.settings
        store = ConversationStore(
            s.conversations_db or s.index_dir / "conversations.sqlite",
            Limits(
                max_conversations=s.max_conversations,
                max_messages=s.max_conversation_messages,
                max_message_chars=s.max_message_chars,
                max_conversation_bytes=s.max_conversation_bytes,
                max_title_chars=s.max_title_chars,
                max_comment_chars=s.max_feedback_chars,
            ),
        )
        request.app.state.conversations = store
    return store


def get_owner(request: Request) -> str:
    """The caller's rows: keyed by a hash of the key when keys are configured, one shared list otherwise."""
    s: Settings = request.app.state.components.settings
    if not keys_configured(s):
        return owner_of(None)
    return owner_of(presented(request.headers))


def body_cap(request: Request) -> None:
    """A body declaring more than a whole conversation's worth of bytes is refused before it is read and parsed."""
    s: Settings = request.app.state.components.settings
    cap = 2 * s.max_conversation_bytes + 65536  # JSON escaping can double the stored size
    try:
        size = int(request.headers.get("content-length", "0"))
    except ValueError:
        raise BadInput("invalid Content-Length header") from None
    if size > cap:
        raise TooLarge(f"request body of {size} bytes is over {cap} bytes (RAG_MAX_CONVERSATION_BYTES)")


Store = Annotated[ConversationStore, Depends(get_store)]
Capped = Depends(body_cap)
Owner = Annotated[str, Depends(get_owner)]


def _json(obj: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(obj, status_code=status, media_type="application/json; charset=utf-8")


class Message(_Request):
    role: Literal["user", "assistant"]
    content: str
    answer: dict[str, Any] | None = Field(None, description="for an assistant turn: the /ask response it came from")
    created: float | None = None
    status: Literal["stopped", "error"] | None = Field(None, description="an assistant turn that did not finish")
    note: str | None = Field(None, description="what the page said about the answer (e.g. replaced, kept the draft)")
    feedback: Literal["up", "down"] | None = None


class ConversationIn(_Request):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "title": "南昌工业",
                    "messages": [{"role": "user", "content": "2021年南昌规模以上工业增加值增长了多少？"}],
                }
            ]
        }
    }
    title: str | None = None
    messages: list[Message] = []


class ConversationPatch(_Request):
    title: str | None = None
    messages: list[Message] | None = None


class FeedbackIn(_Request):
    model_config = {
        "json_schema_extra": {
            "examples": [{"rating": "down", "question": "…", "answer": "…", "correct_answer": "11.4%"}]
        }
    }
    rating: Literal["up", "down"]
    comment: str = ""
    correct_answer: str = ""
    conversation_id: str | None = None
    question: str
    query: str = ""
    answer: str
    answerable: bool = True
    citations: list[dict[str, Any]] = []
    generator: str = ""
    collection: Collection = DEFAULT_COLLECTION


def _dump(msgs: list[Message] | None) -> list[dict[str, Any]] | None:
    return None if msgs is None else [m.model_dump(exclude_none=True) for m in msgs]


@router.get(
    "/conversations", dependencies=[User], tags=["conversations"], summary="Your saved conversations, newest first"
)
def list_conversations(store: Store, owner: Owner) -> JSONResponse:
    return _json({"conversations": store.list(owner)})


@router.post(
    "/conversations",
    dependencies=[User, Capped],
    tags=["conversations"],
    status_code=201,
    summary="Save a conversation",
)
def create_conversation(body: ConversationIn, store: Store, owner: Owner) -> JSONResponse:
    return _json(store.create(owner, body.title, _dump(body.messages)), 201)


@router.get("/conversations/{conv_id}", dependencies=[User], tags=["conversations"])
def get_conversation(conv_id: str, store: Store, owner: Owner) -> JSONResponse:
    return _json(store.get(owner, conv_id))


@router.patch(
    "/conversations/{conv_id}",
    dependencies=[User, Capped],
    tags=["conversations"],
    summary="Rename a conversation or replace its messages",
)
def update_conversation(conv_id: str, body: ConversationPatch, store: Store, owner: Owner) -> JSONResponse:
    return _json(store.update(owner, conv_id, body.title, _dump(body.messages)))


@router.delete("/conversations/{conv_id}", dependencies=[User], tags=["conversations"])
def delete_conversation(conv_id: str, store: Store, owner: Owner) -> JSONResponse:
    store.delete(owner, conv_id)
    return _json({"deleted": conv_id})


@router.post(
    "/feedback",
    dependencies=[User, Capped],
    tags=["feedback"],
    status_code=201,
    summary="Rate an answer (👍/👎, optional comment and correct answer)",
)
def add_feedback(body: FeedbackIn, store: Store, owner: Owner, c: Comp) -> JSONResponse:
    try:
        version = c.library.retriever(body.collection).data.version
    except RagError:
        version = ""
    return _json(store.add_feedback(owner, body.model_dump(), version), 201)


@router.get(
    "/feedback",
    dependencies=[Admin],
    tags=["feedback"],
    summary="Every rating (admin); format=qa gives QA-set JSONL that `rag eval` scores",
    responses={
        200: {
            "description": "the ratings as JSON, or with format=qa one QA item per line",
            "content": {"application/json": {}, "application/x-ndjson": {}},
        }
    },
)
def list_feedback(store: Store, format: Annotated[Literal["json", "qa"], Query()] = "json") -> Response:
    rows = store.feedback()
    if format == "qa":
        items, _ = qa_items(rows)
        body = "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)
        return Response(body, media_type="application/x-ndjson; charset=utf-8")
    return _json({"feedback": rows})


@router.get(
    "/me", dependencies=[User], tags=["conversations"], summary="Whether keys are required and this caller is an admin"
)
def me(request: Request) -> JSONResponse:
    """The chat page shows 删除 and the feedback export only to those who may use them."""
    s: Settings = request.app.state.components.settings
    try:
        require_admin(request)
        admin = True
    except RagError:
        admin = False
    return _json({"auth": keys_configured(s), "admin": admin})
