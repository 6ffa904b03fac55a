"""The Ray engine's file pass, as one Ray task runs it: documents' ids and content hashes out, never their text."""

from __future__ import annotations

import numpy as np
import pytest

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


def _csv(rows: int) -> bytes:
    return ("项目,投资\n" + "".join(f"项目{i},{i}亿元\n" for i in range(rows))).encode()


def test_files_are_read_with_the_limits_of_the_entry_point() -> None:
    """`rag index --engine ray` reads the operator's files as the in-process engine does (load_paths: no upload
    limits), in both passes; limits given to the engine are the ones the workers apply."""
    from rag.config import Settings
    from rag.distributed import FileDoc, _read_wanted
    from rag.errors import TooLarge
    from rag.ingest import IngestLimits

    upload = IngestLimits.of(Settings())
    big = _csv(upload.max_table_rows + 1)  # one row more than an upload may hold
    batch = {"bytes": np.array([big], dtype=object), "path": np.array(["/data/big.csv"])}
    with pytest.raises(TooLarge):
        read_bytes(big, "big.csv", 50, upload)

    out = _scan(batch, 50)  # the operator's default, as load_paths
    assert out["error"] == [""] and len(out["doc_id"]) == 1
    assert _scan(batch, 50, IngestLimits.unlimited()) == out
    refused = _scan(batch, 50, upload)
    assert "big.csv" in refused["error"][0] and "RAG_MAX_TABLE_ROWS" in refused["error"][0]

    wanted = frozenset(out["doc_id"])
    docs = _read_wanted(batch, 50, IngestLimits.unlimited(), wanted)
    assert [d.doc_id for d in docs] == out["doc_id"] and docs[0].content_hash == out["content_hash"][0]
    with pytest.raises(TooLarge):
        _read_wanted(batch, 50, upload, wanted)
    assert _read_wanted(batch, 50, IngestLimits.unlimited(), frozenset()) == []

    assert FileDoc("d", "d.csv", "d", "", {}, "h").limits == IngestLimits.unlimited()  # as load_paths reads
    small = {"bytes": np.array([_csv(5)], dtype=object), "path": np.array(["/data/five.csv"])}
    assert _scan(small, 50, IngestLimits(max_table_rows=4))["error"][0]  # the given limits, not the defaults
    assert not _scan(small, 50, IngestLimits(max_table_rows=5))["error"][0]


def test_local_engine_reads_the_same_file(tmp_path) -> None:
    """The in-process engine's `rag index` path reads the file the Ray test above reads, with the same documents."""
    from rag.config import Settings
    from rag.ingest import IngestLimits, load_paths

    f = tmp_path / "big.csv"
    f.write_bytes(_csv(IngestLimits.of(Settings()).max_table_rows + 1))
    batch = {"bytes": np.array([f.read_bytes()], dtype=object), "path": np.array([str(f)])}
    local = load_paths([f])
    out = _scan(batch, 50)
    assert [d.doc_id for d in local] == out["doc_id"] and [d.content_hash for d in local] == out["content_hash"]
