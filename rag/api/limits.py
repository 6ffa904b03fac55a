"""Per-request checks a schema cannot express: the history's size (413) and the generators a request may choose
(400)."""

from __future__ import annotations

from collections.abc import Sequence

from rag.config import GENERATORS, Settings
from rag.errors import BadInput, TooLarge


def allowed_generators(s: Settings) -> list[str]:
    """RAG_GENERATORS, or the server's own generator and the extractive one."""
    names = [g.strip() for g in s.generators.split(",") if g.strip()] or [s.generator, "extractive"]
    return [g for g in GENERATORS if g in names]


def check_generator(s: Settings, name: str | None) -> str | None:
    """A generator a request asks for must be one the server was configured with: none is loaded on demand."""
    allowed = allowed_generators(s)
    if name is not None and name not in allowed:
        raise BadInput(
            f"generator '{name}' is not enabled on this server; enabled: {', '.join(allowed)} (RAG_GENERATORS)"
        )
    return name


def check_history(s: Settings, history: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """At most RAG_MAX_HISTORY_TURNS turns, each within the question limit, RAG_MAX_HISTORY_CHARS in all (413)."""
    if len(history) > s.max_history_turns:
        raise TooLarge(f"history has {len(history)} turns; the limit is {s.max_history_turns} (RAG_MAX_HISTORY_TURNS)")
    total = 0
    for i, turn in enumerate(history):
        n = len(turn.get("content") or "")
        if n > s.max_question_chars:
            raise TooLarge(
                f"history turn {i + 1} is {n} characters; the limit is {s.max_question_chars} (RAG_MAX_QUESTION_CHARS)"
            )
        total += n
    if total > s.max_history_chars:
        raise TooLarge(f"history is {total} characters; the limit is {s.max_history_chars} (RAG_MAX_HISTORY_CHARS)")
    return list(history)
