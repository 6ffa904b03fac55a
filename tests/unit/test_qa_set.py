"""eval/qa.jsonl and eval/holdout.jsonl pass eval/check_qa.py: evidence in the named seed, unanswerables absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import QA, ROOT, SEEDS


@pytest.mark.parametrize("qa", [QA, ROOT / "eval" / "holdout.jsonl"], ids=["qa", "holdout"])
def test_the_qa_sets_pass_check_qa(qa: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "check_qa.py"), str(qa), str(SEEDS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
