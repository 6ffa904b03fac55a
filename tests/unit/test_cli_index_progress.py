"""`rag index --progress json`: stage lines on stderr with passages/s and ETA, the report alone on stdout."""

from __future__ import annotations

import json
from pathlib import Path

from rag import cli
from rag.config import Settings
from rag.factory import Components
from tests.unit.test_jobs import SlowEmbedder, doc_text


def test_index_progress_json_lines(tmp_path: Path, monkeypatch, capsys) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(3):
        (folder / f"d{i}.txt").write_text(doc_text(f"第{i}篇", 30), encoding="utf-8")
    s = Settings(_env_file=None, index_dir=tmp_path / "index", embed_cache=tmp_path / "cache.sqlite")

    def components(settings: Settings) -> Components:
        return Components(settings, embedder=SlowEmbedder(delay=0.15))

    monkeypatch.setattr(cli, "_components", components)
    monkeypatch.setattr(cli, "get_settings", lambda: s)
    assert cli.main(["index", str(folder), "--json", "--progress", "json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert sorted(report["added"]) == ["d0", "d1", "d2"]
    lines = [json.loads(x) for x in err.splitlines()]
    assert all(x["event"] == "progress" for x in lines)
    assert list(dict.fromkeys(x["stage"] for x in lines)) == ["reading", "chunking", "embedding", "publishing", "done"]
    assert [x["files_read"] for x in lines if x["stage"] == "reading"][-1] == 3
    emb = [x for x in lines if x["stage"] == "embedding"]
    assert emb[-1]["passages_done"] == emb[-1]["passages_total"] == report["embedded"]
    assert any(x["eta_s"] is not None and x["passages_per_s"] > 0 for x in emb)
    assert lines[-1]["stage"] == "done"
    # without --progress and without a terminal: the report only, nothing on stderr
    (folder / "d3.txt").write_text("宜春锂电产业2022年营业收入为1500亿元。", encoding="utf-8")
    assert cli.main(["index", str(folder), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["added"] == ["d3"] and err == ""
