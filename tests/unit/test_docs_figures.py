"""The figure blocks of README.md and docs/benchmarks.md are what docs/figures/*.json give (no hand-copied number)."""

from __future__ import annotations

import os

from rag.evaluate import docs
from tests.helpers import ROOT


def test_generated_figure_blocks_are_up_to_date() -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)  # the renderer reads docs/figures/ relative to the repository
    try:
        assert docs.main(["--check"]) == 0, "stale figures: run `make docs` (or `make figures` to re-measure)"
    finally:
        os.chdir(cwd)


def test_a_stale_block_is_found(tmp_path) -> None:
    stale = tmp_path / "x.md"
    stale.write_text("<!-- BEGIN figures:qa-splits -->\n| old |\n<!-- END figures:qa-splits -->\n", encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert docs.main(["--check", str(stale)]) == 1
    finally:
        os.chdir(cwd)
