"""eval/qa.jsonl passes its own checks (eval/check_qa.py): evidence in the named seed, unanswerables absent, keys."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import QA, ROOT, SEEDS


def test_the_qa_set_passes_check_qa() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "check_qa.py"), str(QA), str(SEEDS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
