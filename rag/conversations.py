"""Saved conversations and answer feedback: one SQLite file beside the index (RAG_INDEX_DIR/conversations.sqlite).

Rows are keyed by an owner: a hash of the caller's API key when keys are configured (a key never sees another key's
rows), or "local" on a server without keys. Every client-controlled size is bounded here, with TooLarge (413) or
BadInput (400), so the routes stay a few lines.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.config import DEFAULT_COLLECTION
from rag.errors import BadInput, NotFound, TooLarge

LOCAL_OWNER = "local"
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
  messages TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations(owner, updated);
CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, created REAL NOT NULL, rating TEXT NOT NULL,
  comment TEXT NOT NULL, correct_answer TEXT NOT NULL, conversation_id TEXT, question TEXT NOT NULL,
  query TEXT NOT NULL, answer TEXT NOT NULL, answerable INTEGER NOT NULL, citations TEXT NOT NULL,
  generator TEXT NOT NULL, collection TEXT NOT NULL, index_version TEXT NOT NULL);
"""
RATINGS = ("up", "down")
STATUSES = ("stopped", "error")  # an assistant turn that did not finish
MESSAGE_KEYS = ("role", "content", "answer", "created", "status", "note", "feedback")
_MARKER = re.compile(r"\[\d+\]")


@dataclass
class Limits:
    """What one owner may store (settings: RAG_MAX_CONVERSATIONS, RAG_MAX_CONVERSATION_MESSAGES, …)."""

    max_conversations: int = 500
    max_messages: int = 200
    max_message_chars: int = 20_000
    max_conversation_bytes: int = 2_000_000
    max_title_chars: int = 100
    max_comment_chars: int = 2_000
    max_feedback: int = 10_000


def owner_of(key: bytes | None) -> str:
    """The owner of a caller's rows: a hash of the key (the key itself is never stored), or the local owner."""
    if not key:
        return LOCAL_OWNER
    return "key:" + hashlib.sha256(key).hexdigest()[:32]


def default_title(messages: list[dict[str, Any]]) -> str:
    first = next((m.get("content", "") for m in messages if m.get("role") == "user"), "")
    return " ".join(str(first).split())[:40] or "新对话"


class ConversationStore:
    def __init__(self, path: Path, limits: Limits | None = None):
        self.path = path
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ checks

    def _title(self, title: Any) -> str:
        if not isinstance(title, str):
            raise BadInput("title must be a string")
        title = " ".join(title.split())
        if len(title) > self.limits.max_title_chars:
            raise TooLarge(f"title is {len(title)} characters; the limit is {self.limits.max_title_chars}")
        return title

    def _messages(self, messages: Any) -> tuple[list[dict[str, Any]], str]:
        if not isinstance(messages, list):
            raise BadInput("messages must be a list")
        lim = self.limits
        if len(messages) > lim.max_messages:
            raise TooLarge(f"{len(messages)} messages; the limit is {lim.max_messages} per conversation")
        out = []
        for i, m in enumerate(messages):
            if (
                not isinstance(m, dict)
                or m.get("role") not in ("user", "assistant")
                or not isinstance(m.get("content"), str)
            ):
                raise BadInput(f"messages[{i}] needs a role (user or assistant) and a string content")
            if len(m["content"]) > lim.max_message_chars:
                raise TooLarge(f"messages[{i}] is {len(m['content'])} characters; the limit is {lim.max_message_chars}")
            if m.get("answer") is not None and not isinstance(m["answer"], dict):
                raise BadInput(f"messages[{i}].answer must be an object (the /ask response) or null")
            if m.get("status") not in (None, *STATUSES) or m.get("feedback") not in (None, *RATINGS):
                raise BadInput(f"messages[{i}]: status must be one of {', '.join(STATUSES)}; feedback up or down")
            if len(m.get("note") or "") > lim.max_title_chars * 4:
                raise TooLarge(f"messages[{i}].note is over {lim.max_title_chars * 4} characters")
            out.append({k: m[k] for k in MESSAGE_KEYS if m.get(k) is not None})
        blob = json.dumps(out, ensure_ascii=False)
        if len(blob.encode("utf-8")) > lim.max_conversation_bytes:
            raise TooLarge(
                f"the conversation is {len(blob.encode('utf-8'))} bytes; the limit is {lim.max_conversation_bytes}"
            )
        return out, blob

    # ------------------------------------------------------------------ conversations

    def list(self, owner: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, title, created, updated, messages FROM conversations WHERE owner = ? ORDER BY updated DESC",
            (owner,),
        ).fetchall()
        return [
            {"id": r[0], "title": r[1], "created": r[2], "updated": r[3], "n_messages": len(json.loads(r[4]))}
            for r in rows
        ]

    def get(self, owner: str, conv_id: str) -> dict[str, Any]:
        r = self._db.execute(
            "SELECT id, title, created, updated, messages FROM conversations WHERE owner = ? AND id = ?",
            (owner, conv_id),
        ).fetchone()
        if r is None:  # another owner's conversation is not found either: its existence is not revealed
            raise NotFound(f"conversation '{conv_id}' not found")
        return {"id": r[0], "title": r[1], "created": r[2], "updated": r[3], "messages": json.loads(r[4])}

    def create(
        self, owner: str, title: str | None = None, messages: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        msgs, blob = self._messages(messages or [])
        title = self._title(title) if title else default_title(msgs)
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM conversations WHERE owner = ?", (owner,)).fetchone()
            if n >= self.limits.max_conversations:
                raise TooLarge(
                    f"{n} conversations saved; the limit is {self.limits.max_conversations}: delete some first"
                )
            conv_id, now = uuid.uuid4().hex, time.time()
            self._db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)", (conv_id, owner, title, now, now, blob)
            )
        return self.get(owner, conv_id)

    def update(
        self, owner: str, conv_id: str, title: str | None = None, messages: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        with self._lock:
            current = self.get(owner, conv_id)
            if messages is not None:
                msgs, blob = self._messages(messages)
                if title is None and (not current["title"] or current["title"] == "新对话"):
                    title = default_title(msgs)
                self._db.execute("UPDATE conversations SET messages = ? WHERE id = ?", (blob, conv_id))
            if title is not None:
                self._db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ?", (self._title(title) or "新对话", conv_id)
                )
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), conv_id))
        return self.get(owner, conv_id)

    def delete(self, owner: str, conv_id: str) -> None:
        with self._lock:
            cur = self._db.execute("DELETE FROM conversations WHERE owner = ? AND id = ?", (owner, conv_id))
        if not cur.rowcount:
            raise NotFound(f"conversation '{conv_id}' not found")

    # ------------------------------------------------------------------ feedback

    def add_feedback(self, owner: str, item: dict[str, Any], index_version: str) -> dict[str, Any]:
        lim = self.limits
        if item.get("rating") not in RATINGS:
            raise BadInput("rating must be 'up' or 'down'")
        for k in ("comment", "correct_answer"):
            if len(item.get(k) or "") > lim.max_comment_chars:
                raise TooLarge(f"{k} is {len(item[k])} characters; the limit is {lim.max_comment_chars}")
        for k in ("question", "query", "answer"):
            if len(item.get(k) or "") > lim.max_message_chars:
                raise TooLarge(f"{k} is {len(item[k])} characters; the limit is {lim.max_message_chars}")
        cites = json.dumps(item.get("citations") or [], ensure_ascii=False)
        if len(cites.encode("utf-8")) > lim.max_conversation_bytes:
            raise TooLarge(
                f"citations are {len(cites.encode('utf-8'))} bytes; the limit is {lim.max_conversation_bytes}"
            )
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM feedback WHERE owner = ?", (owner,)).fetchone()
            if n >= lim.max_feedback:
                raise TooLarge(f"{n} ratings stored for this key; the limit is {lim.max_feedback}")
            cur = self._db.execute(
                "INSERT INTO feedback (owner, created, rating, comment, correct_answer, conversation_id, question, "
                "query, answer, answerable, citations, generator, collection, index_version) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    owner,
                    time.time(),
                    item["rating"],
                    (item.get("comment") or "").strip(),
                    (item.get("correct_answer") or "").strip(),
                    item.get("conversation_id"),
                    item.get("question") or "",
                    item.get("query") or item.get("question") or "",
                    item.get("answer") or "",
                    int(bool(item.get("answerable", True))),
                    cites,
                    item.get("generator") or "",
                    item.get("collection") or DEFAULT_COLLECTION,
                    index_version,
                ),
            )
        return self.feedback(feedback_id=cur.lastrowid)[0]

    def feedback(self, feedback_id: int | None = None) -> list[dict[str, Any]]:
        """Every rating, oldest first (an admin view: all owners, each shown only by its hash)."""
        sql = (
            "SELECT id, owner, created, rating, comment, correct_answer, conversation_id, question, query, answer, "
            "answerable, citations, generator, collection, index_version FROM feedback"
        )
        rows = (
            self._db.execute(sql + " WHERE id = ?", (feedback_id,))
            if feedback_id is not None
            else self._db.execute(sql + " ORDER BY id")
        ).fetchall()
        keys = (
            "id",
            "owner",
            "created",
            "rating",
            "comment",
            "correct_answer",
            "conversation_id",
            "question",
            "query",
            "answer",
            "answerable",
            "citations",
            "generator",
            "collection",
            "index_version",
        )
        out = []
        for r in rows:
            d = dict(zip(keys, r, strict=True))
            d["answerable"], d["citations"] = bool(d["answerable"]), json.loads(d["citations"])
            out.append(d)
        return out


def qa_items(feedback: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Ratings as QA-set items (API.md, read by `rag eval`), and how many ratings could not become one.

    👍 on an answer: the answer (without [n] markers) is right, its cited quotes are the evidence.
    👍 on a refusal: the documents do not say (an unanswerable item).
    👎 with a correct answer: that answer; evidence is the cited quotes that contain it, if any.
    👎 without one: nothing known to be right, skipped.
    """
    items, skipped = [], 0
    for f in feedback:
        cites = f.get("citations") or []
        base = {
            "id": f"fb{f['id']:05d}",
            "question": f["question"],
            "answer_aliases": [],
            "answer_parts": [],
            "source": "feedback",
            "rating": f["rating"],
            "generator": f["generator"],
            "index_version": f["index_version"],
        }
        if f["rating"] == "up" and not f["answerable"]:
            items.append({**base, "answer": "", "doc": None, "evidence": None, "type": "unanswerable"})
            continue
        if f["rating"] == "up":
            answer = _MARKER.sub("", f["answer"]).strip().rstrip("。")
            used = [c for c in cites if c.get("quote")]
        elif f["correct_answer"]:
            answer = f["correct_answer"]
            used = [c for c in cites if c.get("quote") and _norm(answer) in _norm(c["quote"] + c.get("text", ""))]
        else:
            skipped += 1
            continue
        quotes = list(dict.fromkeys(c["quote"] for c in used))
        docs = list(dict.fromkeys(c["source"] for c in used if c.get("source")))
        item = {
            **base,
            "answer": answer,
            "doc": docs[0] if len(docs) == 1 else (docs or None),
            "evidence": quotes[0] if len(quotes) == 1 else (quotes or None),
            "type": "factoid",
        }
        if len(_norm(answer)) > 150 or (f["rating"] == "up" and len(quotes) > 1 and len(_norm(answer)) > 60):
            # a long answer is scored by its parts: each cited quote must come back
            item.update(type="summary", answer_parts=quotes or [answer])
        items.append(item)
    return items, skipped


def _norm(s: str) -> str:
    import unicodedata

    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", unicodedata.normalize("NFKC", s))).lower()
