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


def test_a_local_ray_start_up_timeout_is_retried_once(monkeypatch) -> None:
    import sys

    from rag.distributed import RayEngine

    calls: list[str] = []

    class FakeRay:
        def is_initialized(self) -> bool:
            return False

        def init(self, **kw) -> None:
            calls.append("init")
            if len(calls) == 1:
                raise Exception("The current node timed out during startup. This could happen because ...")

        def shutdown(self) -> None:
            calls.append("shutdown")

    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    assert RayEngine(Settings(_env_file=None), workers=1)._ray() is fake
    assert calls == ["init", "shutdown", "init"]
    calls.clear()
    fake.init = lambda **kw: (_ for _ in ()).throw(ValueError("bad address"))  # other errors are not retried
    with pytest.raises(ValueError):
        RayEngine(Settings(_env_file=None), workers=1)._ray()
