"""A core install (`pip install rag-zh`, no extras) serves /search and /ask; `rag eval` without the eval extra says
which extra to install. A fresh interpreter refuses to import the eval extra's libraries and records every attempt;
a fake embedder stands in for the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

# The top-level modules of the `eval` extra (scikit-learn is left out: sentence-transformers needs it anyway).
EVAL_MODULES = (
    "ranx",
    "matplotlib",
    "langchain_community",
    "langchain_classic",
    "langchain_text_splitters",
    "rank_bm25",
)
# Not dependencies at all: the package imports langchain_core only (rag/langchain.py), never the langchain
# meta-package or the langgraph it pulls in.
NOT_INSTALLED = ("langchain", "langgraph")

SCRIPT = r"""
import hashlib, importlib.abc, io, json, sys, tempfile
from contextlib import redirect_stderr
from pathlib import Path

BLOCKED = set(sys.argv[1].split(","))
tried = []


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            tried.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Block())

import numpy as np

from rag.api.app import create_app
from rag.config import Settings
from rag.factory import Components
from rag.ingest import read_bytes


class Fake:
    id, dim, batch_size = "fake:bigram-64", 64, 32

    def _vec(self, text):
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            v[int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(self, texts, progress=None):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text):
        return self._vec(text)


from fastapi.testclient import TestClient

tmp = Path(tempfile.mkdtemp())
s = Settings(_env_file=None, index_dir=tmp / "index", embed_cache=tmp / "cache.sqlite", prompts_dir=Path("prompts"),
             refuse_below=0.0)
comp = Components(s, embedder=Fake())
doc = "南昌市2021年工业投资同比增长18.7%，规模以上工业增加值同比增长11.4%。\n\n赣州2023年地区生产总值达4606亿元。"
comp.indexer.update("default", add=read_bytes(doc.encode(), "nc.txt"))
out = {}
with TestClient(create_app(s, comp), base_url="http://127.0.0.1") as client:
    r = client.post("/search", json={"query": "南昌工业投资增长"})
    out["search"] = [r.status_code, [h["source"] for h in r.json().get("results", [])]]
    r = client.post("/ask", json={"question": "2021年南昌工业投资同比增长多少？", "generator": "extractive"})
    body = r.json()
    out["ask"] = [r.status_code, body.get("answer", ""), len(body.get("citations", []))]
out["tried_serving"] = sorted(set(tried))

from rag.cli import main

err = io.StringIO()
with redirect_stderr(err):
    out["eval_rc"] = main(["eval", "eval/qa.jsonl", "--retrieval-only"])
out["eval_err"] = err.getvalue()
print("RESULT " + json.dumps(out, ensure_ascii=False))
"""


def test_core_install_serves_search_and_ask_and_eval_names_the_extra(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_INDEX_DIR": str(tmp_path / "index")}
    env = {k: v for k, v in env.items() if k not in ("RAG_EMBEDDER", "RAG_STORE", "RAG_GENERATOR")}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(EVAL_MODULES + NOT_INSTALLED)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-4000:]
    out = json.loads(line.removeprefix("RESULT "))
    status, sources = out["search"]
    assert status == 200 and sources == ["nc.txt"]
    status, answer, n_citations = out["ask"]
    assert status == 200 and "18.7%" in answer and n_citations >= 1
    assert out["tried_serving"] == []  # nothing on the serving path reaches for the eval extra, not even optionally
    assert out["eval_rc"] == 5  # MissingExtra is a ConfigError
    assert "pip install 'rag-zh[eval]'" in out["eval_err"]
    assert all(m.replace("_", "-") in out["eval_err"] for m in ("ranx", "matplotlib"))


def test_core_dependencies_name_langchain_core_not_the_langchain_meta_package() -> None:
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = re.compile(r"^[A-Za-z0-9_.-]+")
    core = {name.match(d)[0].lower() for d in project["dependencies"]}
    extras = {name.match(d)[0].lower() for ds in project["optional-dependencies"].values() for d in ds}
    assert "langchain-core" in core
    assert not {"langchain", "langgraph"} & (core | extras)


def test_prompts_come_from_the_installed_copy_outside_the_repository(tmp_path, monkeypatch) -> None:
    from rag import prompts

    installed = tmp_path / "share" / "rag-zh" / "prompts"
    installed.mkdir(parents=True)
    for f in (ROOT / "prompts").glob("*.md"):
        (installed / f.name).write_text(f.read_text(encoding="utf-8").replace("。", "。 "), encoding="utf-8")
    monkeypatch.setattr(prompts, "installed_prompts", lambda: installed)
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no prompts/ here: the installed copy is read
    assert prompts.load_prompts(Path("prompts")).templates["refusal"] == (installed / "refusal.md").read_text("utf-8")
    monkeypatch.chdir(ROOT)  # the repository's own prompts/ wins where it exists
    repo = (ROOT / "prompts" / "refusal.md").read_text("utf-8")
    assert prompts.load_prompts(Path("prompts")).templates["refusal"] == repo
    with pytest.raises(ConfigError):  # an explicit folder that does not exist is an error, never silently replaced
        prompts.load_prompts(tmp_path / "missing")
