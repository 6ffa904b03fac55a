"""Which code measured a figure: the commit and whether the tree differed from it, recorded by one helper for the
figures of `rag eval` / `rag bench` and the `make bench` reports, and shown in every rendered block."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from rag.evaluate import docs
from rag.evaluate.machine import environment
from rag.evaluate.provenance import commit_text, git_state

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "rag").mkdir(parents=True)
    (root / "docs" / "figures").mkdir(parents=True)
    (root / "rag" / "x.py").write_text("A = 1\n", encoding="utf-8")
    (root / "docs" / "figures" / "eval.json").write_text("{}\n", encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    return root


def test_git_state_names_the_commit_and_a_changed_tree(repo: Path) -> None:
    head = _git(repo, "rev-parse", "--short", "HEAD")
    assert git_state(repo) == {"commit": head, "dirty": False}
    # what the measuring commands write themselves is not a change of the code (`make figures` runs several)
    (repo / "docs" / "figures" / "eval.json").write_text('{"n": 1}\n', encoding="utf-8")
    (repo / "docs" / "figures" / "new.json").write_text("{}\n", encoding="utf-8")
    assert git_state(repo)["dirty"] is False
    (repo / "rag" / "x.py").write_text("A = 2\n", encoding="utf-8")
    assert git_state(repo) == {"commit": head, "dirty": True}
    _git(repo, "checkout", "-q", "rag/x.py")
    (repo / "rag" / "new.py").write_text("B = 1\n", encoding="utf-8")  # an untracked module changes the code too
    assert git_state(repo)["dirty"] is True


def test_outside_a_checkout_nothing_is_recorded(tmp_path: Path) -> None:
    assert git_state(tmp_path) == {"commit": None, "dirty": None}


def test_commit_text() -> None:
    assert commit_text({"commit": "abc1234", "dirty": False}) == "commit abc1234"
    assert commit_text({"commit": "abc1234"}) == "commit abc1234"  # bench reports from before "dirty" was recorded
    assert commit_text({"commit": "abc1234", "dirty": True}) == "commit abc1234 plus uncommitted changes"
    assert commit_text({"cpus": 2}) == commit_text(None) == "commit not recorded"


def test_eval_figures_record_the_commit_and_the_blocks_show_it(tmp_path: Path, monkeypatch) -> None:
    env = environment()
    assert set(env) >= {"commit", "dirty", "cpu", "time"}
    assert env == {**env, **git_state()}  # the same helper as the bench's reports (bench/run.py)
    report = {
        "kind": "eval",
        "qa": "qa.jsonl",
        "n": 2,
        "retrieval": {"hybrid": {"hit@1": 1.0, "hit@5": 1.0, "mrr@10": 1.0}},
        "answers": {"answer_accuracy": 0.5, "n": 2},
        "by_split": {},
        "environment": {**env, "commit": "abc1234", "dirty": True},
    }
    docs.write_figures(report, tmp_path / "eval-extractive.json")
    kept = json.loads((tmp_path / "eval-extractive.json").read_text(encoding="utf-8"))["environment"]
    assert kept["commit"] == "abc1234" and kept["dirty"] is True
    monkeypatch.setattr(docs, "FIGURES", tmp_path)
    assert ", commit abc1234 plus uncommitted changes." in docs.qa_splits()[-1]
    # figure files written before the commit was recorded still render, and say so
    del kept["commit"], kept["dirty"]
    old = json.loads((tmp_path / "eval-extractive.json").read_text(encoding="utf-8"))
    (tmp_path / "eval-extractive.json").write_text(json.dumps({**old, "environment": kept}), encoding="utf-8")
    assert ", commit not recorded." in docs.qa_splits()[-1]
