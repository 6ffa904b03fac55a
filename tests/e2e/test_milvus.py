"""The service on Milvus (Milvus Lite, Milvus' gRPC protocol locally) with the real model over the seeds: the QA-set
retrieval figures (a fixed subset) equal FAISS's within 0.01, answers cite exact spans, and two stateless replicas
share one Milvus."""

from __future__ import annotations

import httpx
import pytest

from rag.evaluate import run_eval
from tests.helpers import ARTIFACTS, EQUALITY_SAMPLE, QA, SEEDS, Server, settings_for

pytestmark = pytest.mark.model
pytest.importorskip("pymilvus")


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    """Components on a fresh Milvus Lite database, the seeds indexed (vectors from the shared embedding cache)."""
    from rag.factory import Components
    from rag.ingest import load_paths

    d = tmp_path_factory.mktemp("milvus")
    comp = Components(settings_for(d / "index", store="milvus", milvus_uri=str(d / "milvus.db")))
    report = comp.indexer.update("default", add=load_paths([SEEDS]))
    assert report.n_documents == 5 and report.n_chunks > 300
    return comp


def _replica(comp):
    """A second API process's components: same settings, its own client, nothing shared in memory."""
    from rag.factory import Components

    return Components(comp.settings)


def test_qa_retrieval_matches_faiss(milvus, faiss_retrieval) -> None:
    """The same fixed subset of the QA set (EQUALITY_SAMPLE items) through Milvus and through FAISS."""
    out = ARTIFACTS / "eval-milvus.json"
    milvus_r = run_eval(milvus, QA, answers=False, limit=EQUALITY_SAMPLE, out=out, verbose=False)["retrieval"]
    faiss_r = faiss_retrieval["retrieval"]
    assert milvus_r["hybrid"]["n_single"] == faiss_r["hybrid"]["n_single"] > 0
    for mode in ("dense", "bm25", "hybrid"):
        for k in ("hit@1", "hit@5", "mrr@10"):
            assert abs(milvus_r[mode][k] - faiss_r[mode][k]) <= 0.01, (mode, k, milvus_r[mode][k], faiss_r[mode][k])


def test_same_passages_as_faiss(milvus, components) -> None:
    f = components.library.retriever("default").data
    m = milvus.library.retriever("default").data
    assert len(m.chunks) == len(f.chunks) and set(m.documents) == set(f.documents)
    assert sorted(c.chunk_id for c in m.chunks) == sorted(c.chunk_id for c in f.chunks)
    for t in ("南昌", "赣州", "工业增加值"):
        assert m.bm25.idf(t) == pytest.approx(f.bm25.idf(t), rel=1e-5)


def test_answer_cites_exact_span(milvus) -> None:
    a = milvus.pipeline.ask("2021年南昌规模以上工业增加值增长了多少？", generator="extractive")
    assert a.answerable and "11.4%" in a.answer and a.citations
    doc = milvus.library.retriever("default").data.documents[a.citations[0].hit.chunk.doc_id]
    c = a.citations[0]
    assert doc.text[c.quote_start : c.quote_end] == c.quote


def test_two_replicas_share_one_milvus(milvus) -> None:
    """Upload through one API replica, search and delete through the other: they share only Milvus."""
    from rag.api.app import create_app

    a, b = milvus, _replica(milvus)
    with Server(create_app(a.settings, a)) as sa, Server(create_app(b.settings, b)) as sb:
        q = {"query": "赣州脐橙种植面积", "top_k": 3}
        assert httpx.post(sb.url + "/search", json=q, timeout=60).json()["results"]
        text = "赣州市2024年脐橙种植面积达到203万亩，产量165万吨。".encode()
        r = httpx.post(sa.url + "/documents", files=[("files", ("navel.txt", text, "text/plain"))], timeout=120)
        assert r.status_code == 201, r.text
        assert r.json()["added"] == ["navel"]
        hits = httpx.post(sb.url + "/search", json={**q, "mode": "bm25"}, timeout=60).json()["results"]
        assert hits[0]["doc_id"] == "navel" and hits[0]["text"].startswith("赣州市2024年")
        doc = httpx.get(sb.url + "/documents/navel", timeout=60).json()
        assert doc["text"][hits[0]["start"] : hits[0]["end"]] == hits[0]["text"]
        ask = httpx.post(sb.url + "/ask", json={"question": "赣州2024年脐橙产量是多少？"}, timeout=120).json()
        assert ask["answerable"] and "165万吨" in ask["answer"]
        assert httpx.delete(sb.url + "/documents/navel", timeout=60).status_code == 200
        hits = httpx.post(sa.url + "/search", json={**q, "mode": "bm25"}, timeout=60).json()["results"]
        assert all(h["doc_id"] != "navel" for h in hits)
        assert httpx.get(sa.url + "/documents/navel", timeout=60).status_code == 404
        listed = httpx.get(sa.url + "/documents", timeout=60).json()["documents"]
        assert len(listed) == 5 and all(d["passages"] > 0 for d in listed)
