"""The CLI's one-shot commands skip the fast query encoder (its ~2 s load outweighs one query) unless asked for."""

from __future__ import annotations

import pytest

from rag.cli import _one_query
from rag.config import Settings


def test_one_query_uses_the_c_engine_unless_fast_queries_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_FAST_QUERIES", raising=False)
    assert Settings().fast_queries and not _one_query(Settings()).fast_queries
    monkeypatch.setenv("RAG_FAST_QUERIES", "1")
    assert _one_query(Settings()).fast_queries
