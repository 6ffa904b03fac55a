"""What tests import: paths, a fake embedder, settings for a test index, a free port, a server on loopback, SSE.

Fixtures live in conftest.py files; nothing imports a conftest as a module.
"""

from __future__ import annotations

import functools
import hashlib
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
QA = ROOT / "eval" / "qa.jsonl"
SHARED_CACHE = ROOT / "index" / "cache" / "embeddings.sqlite"
ARTIFACTS = ROOT / "artifacts"
# Equality tests (Milvus vs FAISS, a replica vs the builder) score this fixed subset of the QA set (`run_eval`'s and
# `rag eval`'s --limit: stratified by split, origin and type, at an even stride in file order), not all of it: the
# same items through two stores prove them equal as well, in a quarter of the time.
EQUALITY_SAMPLE = 200
# ../shared beside the checkout, or ../../shared from a git worktree under it
SHARED = next(
    (p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if (p / "bench").is_dir()), ROOT.parent / "shared"
)
CMRC_CORPUS = SHARED / "bench" / "cmrc2018-trial" / "corpus.jsonl"


def embedded_texts(corpus: str) -> list[str]:
    """The texts the indexer embeds for a corpus, "seeds" or "cmrc2018-trial" (its chunks with their titles)."""
    import pytest

    if corpus == "cmrc2018-trial" and not CMRC_CORPUS.exists():
        pytest.skip(f"{CMRC_CORPUS} is absent")
    return list(_embedded_texts(corpus))


@functools.cache
def _embedded_texts(corpus: str) -> tuple[str, ...]:
    """Chunked once per session: the encoder tests ask for the same corpus a dozen times."""
    from rag.chunk import ChunkParams
    from rag.config import Settings
    from rag.indexer import prepare
    from rag.ingest import load_paths
    from rag.zh import Tokenizer

    s = Settings(_env_file=None)
    params = ChunkParams(s.chunk_size, s.chunk_max, s.chunk_overlap)
    path = SEEDS if corpus == "seeds" else CMRC_CORPUS
    return tuple(prepare(load_paths([path], s.dedup_min_chars), params, Tokenizer())[2])


class FakeEmbedder:
    """Hashed character bigrams: deterministic, fast, and similar texts get similar vectors. Unit tests only."""

    id = "fake:bigram-64"
    dim = 64
    batch_size = 32

    def __init__(self) -> None:
        self.calls = 0
        self.embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:], strict=False):
            v[int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(self, texts, progress=None):
        self.calls += 1
        self.embedded += len(texts)
        if progress:
            progress(len(texts))
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)


def settings_for(index_dir: Path, **kw: Any):
    """Settings for a test index: no .env, the shared embedding cache, the repository's prompts; requests may choose
    the local LLM (tests/e2e/test_llm.py over HTTP)."""
    from rag.config import Settings

    kw.setdefault("generators", "extractive,llm")
    return Settings(_env_file=None, index_dir=index_dir, embed_cache=SHARED_CACHE, prompts_dir=ROOT / "prompts", **kw)


def unit_settings(tmp_path: Path, **kw: Any):
    """Settings for a unit test's own small index under `tmp_path` (fake embedder): no .env, its own embedding cache,
    the repository's prompts, and no refusal threshold unless `kw` sets one."""
    from rag.config import Settings

    kw.setdefault("refuse_below", 0.0)
    kw.setdefault("llm_refuse_below", 0.0)
    return Settings(
        _env_file=None,
        index_dir=tmp_path / "index",
        embed_cache=tmp_path / "cache.sqlite",
        prompts_dir=ROOT / "prompts",
        **kw,
    )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ok(url: str, timeout_s: float, every_s: float = 0.2, headers: dict[str, str] | None = None) -> bool:
    """Poll `url` until it answers 200; False when `timeout_s` passes first."""
    import httpx

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        try:
            if httpx.get(url, timeout=1, headers=headers).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(every_s)
    return False


class Server:
    """An ASGI app served by uvicorn in a thread on a free loopback port, around a `with` block."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        if not wait_until_ok(self.url + "/healthz", timeout_s=60, every_s=0.1):
            raise RuntimeError("server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def sse_events(url: str, payload: dict, timeout: float = 300) -> list[tuple[str | None, object]]:
    """POST and read a text/event-stream response as (event, data) pairs."""
    import httpx

    events: list[tuple[str | None, object]] = []
    with httpx.stream("POST", url, json=payload, timeout=timeout) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    return events
