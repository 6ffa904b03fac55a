"""The embedding cache keeps what it embedded even when a long run is interrupted."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embed.cache import EmbeddingCache


class _Interrupted(Exception):
    pass


def test_an_interrupted_run_keeps_the_batches_already_embedded(fake_embedder, tmp_path, monkeypatch) -> None:
    texts = [f"第{i}段：南昌市工业增加值增长{i}%。" for i in range(700)]
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    monkeypatch.setattr(cache, "commit_every", 100)
    real = fake_embedder.embed_documents

    def dies_on_the_fourth_batch(batch, progress=None):
        if fake_embedder.calls == 3:
            raise _Interrupted
        return real(batch, progress)

    monkeypatch.setattr(fake_embedder, "embed_documents", dies_on_the_fourth_batch)
    with pytest.raises(_Interrupted):
        cache.embed(fake_embedder, texts)
    cache.close()

    again = EmbeddingCache(tmp_path / "c.sqlite")  # a new process opening the same file
    monkeypatch.setattr(fake_embedder, "embed_documents", real)
    before = fake_embedder.embedded
    vecs = again.embed(fake_embedder, texts)
    assert fake_embedder.embedded - before == 400  # only the 400 never committed are embedded again
    assert vecs.shape == (700, fake_embedder.dim)
    assert np.allclose(vecs[5], fake_embedder.embed_query(texts[5]))
