"""Upload checks, the writer lock and half-built cleanup, API keys and the bind rule, alone (fake embedder)."""

from __future__ import annotations

import codecs
import random
import subprocess
import sys

import pytest

from rag.chunk import ChunkParams
from rag.config import Settings
from rag.errors import DecodeError, IndexBusy, UnsupportedFormat
from rag.indexer import Indexer, collection_lock
from rag.ingest import read_bytes
from rag.ingest.sniff import safe_name
from rag.store import faiss_store as store

TEXT = "景德镇陶瓷产业2022年营业收入为500亿元，同比增长12%。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be"])
def test_chinese_encodings_are_decoded(encoding: str) -> None:
    data = TEXT.encode(encoding)
    assert read_bytes(data, "a.txt")[0].text == TEXT


@pytest.mark.parametrize(
    "data,kind",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG image"),
        (b"\xff\xd8\xff\xe0" + b"JFIF" * 50, "JPEG image"),
        (b"PK\x03\x04" + b"x" * 100, "ZIP archive"),
        (b"%PDF-1.7\n" + "南昌".encode() * 20, "PDF document"),
        (b"\x7fELF" + bytes(100), "ELF executable"),
        (b"\x1f\x8b\x08" + bytes(50), "gzip archive"),
    ],
)
def test_binary_content_under_a_text_extension_is_rejected_by_content(data: bytes, kind: str) -> None:
    with pytest.raises(UnsupportedFormat, match=kind):
        read_bytes(data, "notes.txt")


def test_binary_and_undecodable_files_are_rejected_naming_the_file() -> None:
    with pytest.raises(UnsupportedFormat, match="x.md"):
        read_bytes(bytes(range(256)) * 8, "x.md")
    with pytest.raises(DecodeError, match="y.txt"):
        read_bytes(random.Random(7).randbytes(600).replace(b"\x00", b"\x01"), "y.txt")  # noise: no encoding reads it
    with pytest.raises(UnsupportedFormat, match="image.pdf"):
        read_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100), "image.pdf")
    with pytest.raises(UnsupportedFormat, match="pic.docx"):
        read_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100), "pic.docx")
    assert read_bytes(codecs.BOM_UTF8 + "%PDF 不是开头".encode(), "ok.txt")[0].text.startswith("%PDF")


@pytest.mark.parametrize(
    "name,expected",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
        ("/abs/path/a.md", "a.md"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("a\x00b\x1f\u202e.txt", "ab.txt"),
        ("<script>alert(1)</script>.txt", "<script>alert(1)</script>.txt".split("/")[-1]),
    ],
)
def test_file_names_are_reduced_to_a_base_name(name: str | None, expected: str) -> None:
    assert safe_name(name) == expected


def test_a_traversing_upload_name_stays_a_plain_name() -> None:
    d = read_bytes(TEXT.encode(), "../../../../tmp/evil.txt")[0]
    assert d.source == "evil.txt" and d.doc_id == "evil"
    long = read_bytes(TEXT.encode(), "长" * 500 + ".md")[0]
    assert long.source.endswith(".md") and len(long.source) <= 200


def test_a_second_writer_fails_at_once_with_a_clear_message(tmp_path, fake_embedder, tokenizer) -> None:
    indexer = Indexer(tmp_path, fake_embedder, tokenizer, ChunkParams(120, 200, 20))
    doc = read_bytes(TEXT.encode(), "a.txt")
    with collection_lock(tmp_path, "c"):
        with pytest.raises(IndexBusy, match=r"'c' is being indexed by pid \d+"):
            indexer.update("c", add=doc)
        # another process gets the same answer, not a wait
        code = (
            "import sys; from pathlib import Path; from rag.indexer import collection_lock; "
            "from rag.errors import IndexBusy\n"
            f"try:\n    collection_lock(Path({str(tmp_path)!r}), 'c').__enter__()\nexcept IndexBusy as e:\n"
            "    print(e.message); sys.exit(6)"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert r.returncode == 6 and "being indexed by pid" in r.stdout
    assert indexer.update("c", add=doc).added == ["a"]  # free again once the first writer is done


def test_half_built_versions_are_removed_by_the_next_writer(tmp_path, fake_embedder, tokenizer) -> None:
    indexer = Indexer(tmp_path, fake_embedder, tokenizer, ChunkParams(120, 200, 20))
    indexer.update("c", add=read_bytes(TEXT.encode(), "a.txt"))
    root = tmp_path / "c"
    (root / ".building-v-20990101-000000-1-000001").mkdir()
    (root / ".building-v-20990101-000000-1-000001" / "chunks.sqlite").write_bytes(b"half")
    (root / ".CURRENT-v-20990101-000000-1-000001").write_text("v-x")
    live = store.current_version(tmp_path, "c")
    assert not indexer.update("c", add=read_bytes(TEXT.encode(), "a.txt")).version  # unchanged: publishes nothing
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".") and p.name != ".lock") == []
    assert store.current_version(tmp_path, "c") == live


def _settings(**kw) -> Settings:
    return Settings(_env_file=None, **kw)


def test_bind_host_without_keys_is_loopback_only() -> None:
    from rag.api.deps import bind_host

    host, note = bind_host(_settings(), "0.0.0.0")
    assert host == "127.0.0.1" and "no API keys" in note and "127.0.0.1 only" in note
    assert bind_host(_settings(), "127.0.0.1")[0] == "127.0.0.1"
    host, note = bind_host(_settings(api_keys="k1"), "0.0.0.0")
    assert host == "0.0.0.0" and "API keys required" in note
