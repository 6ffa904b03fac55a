"""`rag eval`, `rag bench` and `rag feedback export`: the evaluation commands, with progress bars on a terminal."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import NotFound


def print_json(obj: Any) -> None:
    """One JSON document on a line of standard output (every `--json` of the CLI)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


class _Bars:
    """tqdm bars by stage (indexing, each search pass), shown only when stderr is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            for other in self._bars.values():
                other.close()
            bar = self._bars[stage] = tqdm(total=total, desc=stage, unit="it", leave=False)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


def _report(args: argparse.Namespace, run: Callable[[_Bars], dict[str, Any]]) -> int:
    """Run an evaluation with progress bars on a terminal, keep its figures (`--figures`), print it (`--json`)."""
    bars = _Bars(sys.stderr.isatty() and not args.json)
    try:
        report = run(bars)
    finally:
        bars.close()
    if args.figures:
        from rag.evaluate.docs import write_figures

        write_figures(report, Path(args.figures))
    if args.json:
        print_json(report)
    return 0


def cmd_eval(args: argparse.Namespace, s: Settings) -> int:
    from rag.evaluate import run_eval
    from rag.factory import Components

    modes = ("dense", "bm25", "hybrid") if args.mode == "all" else (args.mode,)
    return _report(
        args,
        lambda bars: run_eval(
            Components(s),
            Path(args.qa),
            args.top_k,
            args.collection or s.collection,
            args.generator,
            Path(args.out) if args.out else None,
            args.limit,
            modes,
            compare=args.compare,
            answers=not args.retrieval_only,
            split=args.split,
            progress=bars,
            verbose=not args.json,
            expand=args.expand,
        ),
    )


def cmd_bench(args: argparse.Namespace, s: Settings) -> int:
    from rag.evaluate import run_bench
    from rag.factory import Components

    gens = tuple(g for g in (args.generator or "extractive").split(",") if g) if args.answers else ()
    return _report(
        args,
        lambda bars: run_bench(
            Components(s),
            Path(args.dataset),
            args.mode,
            args.top_k,
            Path(args.out) if args.out else None,
            compare=args.compare,
            limit=args.limit,
            answers=gens,
            progress=bars,
            verbose=not args.json,
            expand=args.expand,
        ),
    )


def cmd_feedback(args: argparse.Namespace, s: Settings) -> int:
    from rag.conversations import ConversationStore, qa_items

    path = s.conversations_db or s.index_dir / "conversations.sqlite"
    if not path.exists():
        raise NotFound(
            f"no feedback yet: {path} does not exist (ratings are stored when the chat page's 👍/👎 is used)"
        )
    items, skipped = qa_items(ConversationStore(path).feedback())
    lines = "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)
    if args.out:
        Path(args.out).write_text(lines, encoding="utf-8")
    else:
        sys.stdout.write(lines)
    print(
        f"{len(items)} rated answers exported as QA items{f' to {args.out}' if args.out else ''}; {skipped} skipped "
        "(👎 without a correct answer)",
        file=sys.stderr,
    )
    return 0
