"""The Ray engine's file pass, as one Ray task runs it: documents' ids and content hashes out, never their text."""

from __future__ import annotations

import numpy as np

from rag.distributed import _scan
from rag.ingest import read_bytes

TEXT = "南昌市2021年工业投资同比增长18.7%。规模以上工业增加值同比增长11.4%。".encode()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


def test_scan_returns_what_the_indexer_compares_and_the_errors() -> None:
    batch = {"bytes": np.array([TEXT, PNG], dtype=object), "path": np.array(["/data/nc.txt", "/data/bad.txt"])}
    out = _scan(batch, 50)
    want = read_bytes(TEXT, "nc.txt")[0]
    assert out["doc_id"][0] == want.doc_id and out["content_hash"][0] == want.content_hash
    assert out["title"][0] == want.title and out["source"][0] == "nc.txt" and out["path"][0] == "/data/nc.txt"
    assert out["error"][0] == "" and "bad.txt" in out["error"][1] and out["doc_id"][1] == ""
    assert set(out) == {"doc_id", "source", "title", "content_hash", "path", "error"}  # no text leaves the worker
