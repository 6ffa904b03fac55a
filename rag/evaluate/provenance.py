"""Which code a figure was measured with: the git commit and whether the tree differed from it. One helper for the
figures of `rag eval` / `rag bench` (docs/figures/*.json, via rag/evaluate/machine.py's environment()) and the
`make bench` reports (bench/results/*.json), and one sentence for every renderer that shows it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

# the repository holding this code (where the code that measured lives, whatever the working directory)
ROOT = Path(__file__).resolve().parents[2]
# written by the measuring commands themselves (`make figures` runs several in a row): not a change of the code
OUTPUTS = ("docs/figures", "bench/results", "artifacts")


def _git(*args: str, root: Path) -> str | None:
    try:
        p = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout if p.returncode == 0 else None


def git_state(root: Path | None = None) -> dict[str, Any]:
    """{"commit": short hash, "dirty": whether tracked or untracked files differ from it, outputs aside}; None for
    both outside a git checkout (an installed package) or without git."""
    root = root or ROOT
    commit = _git("rev-parse", "--short", "HEAD", root=root)
    if not commit:
        return {"commit": None, "dirty": None}
    status = _git("status", "--porcelain", "--", ".", *(f":(exclude){p}" for p in OUTPUTS), root=root)
    return {"commit": commit.strip(), "dirty": None if status is None else bool(status.strip())}


def commit_text(env: dict[str, Any] | None) -> str:
    """'commit abc1234', '… plus uncommitted changes', or 'commit not recorded' (figures from before it was)."""
    commit = (env or {}).get("commit")
    if not commit:
        return "commit not recorded"
    return f"commit {commit}" + (" plus uncommitted changes" if (env or {}).get("dirty") else "")


def llm_replay(components: Any, generators: Any) -> dict[str, Any]:
    """{"llm_replay": counts} when the local LLM among `generators` (a name or names) read its completions from a
    RAG_LLM_REPLAY_LOG (rag.generate.replay): how many were replayed and generated, and on which CPUs; else {}."""
    names = [generators] if isinstance(generators, str) else list(generators or ())
    if "llm" not in names:
        return {}
    log = getattr(components.generator("llm"), "replay", None)
    return {"llm_replay": log.counts()} if log is not None else {}
