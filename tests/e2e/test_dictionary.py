"""The seeds' own names come from the seeds' mined dictionary (the hand list no longer holds them)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model


def test_seed_names_are_known_from_the_collection_dictionary(components) -> None:
    r = components.library.retriever("default")
    assert (
        r.data.manifest["dictionary"]["terms"] >= 100 and r.tokenizer.n_terms == r.data.manifest["dictionary"]["terms"]
    )
    general = components.tokenizer
    for q, name in (("南康区2023年地区生产总值是多少？", "南康区"), ("江铃集团的新能源汽车项目在哪？", "江铃集团")):
        assert name in r.tokenizer.entities(q) and name in r.tokenizer.tokens(q), (q, r.tokenizer.tokens(q))
        assert name not in general.tokens(q)  # the general tokenizer splits it: the name is the collection's
    hits = r.search("江铃集团新能源汽车项目", 5, "bm25").hits
    assert any("江铃集团" in h.chunk.text for h in hits)
