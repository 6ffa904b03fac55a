"""`python -m bench` (what `make bench` runs): every section, then bench/results/<date>.json and .md.

Sections: ingest (the C engine and the int8 encoder side by side on the seeds' passages; profiled cold builds of the
seeds and of the BEIR set in --bench-data, each with an empty embedding cache), index (cold build of the seeds into
a fresh folder, re-index, add one), http (/search and /ask at each concurrency against a real server), llm (time to
first token, tokens/s, a short concurrent run), soak (32 clients, minutes), scale (FAISS kinds and BM25 on synthetic
corpora of each size), side (LangChain and Chatchat pipelines).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.config import Settings, get_settings
from rag.evaluate.provenance import git_state

SECTIONS = ("ingest", "index", "http", "llm", "soak", "scale", "side")


def _ints(s: str) -> list[int]:
    return [int(x.replace("_", "")) for x in s.split(",") if x.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench", description="performance bench -> bench/results/<date>.json and .md"
    )
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    p.add_argument(
        "--sizes", default=os.environ.get("BENCH_SIZES", "10000,100000"), help="synthetic corpus sizes (BENCH_SIZES)"
    )
    p.add_argument("--kinds", default="flat,ivf,ivf_sq8,hnsw", help="FAISS index kinds to measure at each size")
    p.add_argument(
        "--hnsw-max", type=int, default=100_000, help="largest size HNSW is built at (slow to build on 2 cores)"
    )
    p.add_argument("--concurrency", default="1,8,32")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per HTTP load point")
    p.add_argument("--soak", type=float, default=120.0, help="seconds of the 32-client soak run")
    p.add_argument("--llm-requests", type=int, default=5, help="streamed LLM answers one at a time")
    p.add_argument("--llm-concurrency", default="4", help="short concurrent LLM runs (one request per client)")
    p.add_argument("--qa", default="eval/qa.jsonl", help="questions for the HTTP runs")
    p.add_argument(
        "--bench-data",
        default=os.environ.get("BENCH_DATA", "../shared/bench/cmrc2018-trial"),
        help="BEIR folder whose corpus the ingest section also builds cold (BENCH_DATA; skipped when absent)",
    )
    p.add_argument("--out-dir", default="bench/results")
    p.add_argument("--name", help="report name (default: today's date)")
    p.add_argument("--merge", action="store_true", help="keep the other sections of an existing report of that name")
    p.add_argument(
        "--index-from", help="without the index section: copy this index folder instead of building the seeds"
    )
    return p


def _questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _environment() -> dict[str, Any]:
    import faiss

    from bench.indexing import cpu_info

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu_info(),
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "platform": platform.platform(),
        **git_state(),  # the commit, and whether the tree differed from it
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    }


def run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; valid: {', '.join(SECTIONS)}")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = args.name or time.strftime("%Y-%m-%d")
    report: dict[str, Any] = {}
    if args.merge and (out_dir / f"{name}.json").exists():
        report = json.loads((out_dir / f"{name}.json").read_text(encoding="utf-8"))
        report.setdefault("reruns", []).append(
            {
                "sections": sections,
                "command": " ".join(sys.argv[1:]),
                "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "environment": _environment(),
            }
        )
    else:
        report = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": "python -m bench " + " ".join(sys.argv[1:]),
            "environment": _environment(),
            "sections": sections,
        }
    questions = _questions(Path(args.qa))
    log = lambda m: print(m, flush=True)  # noqa: E731

    def save() -> None:
        from bench.report import markdown

        report["environment"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        (out_dir / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        (out_dir / f"{name}.md").write_text(markdown(report) + "\n", encoding="utf-8")

    def section(key: str | None, title: str, fn: Callable[[], Any]) -> None:
        """Run one section (its result under `key`); a failure is listed under "errors" and the others still run."""
        log(title)
        try:
            result = fn()
            if key:
                report[key] = result
            report.get("errors", {}).pop(key or title, None)
        except Exception as e:  # noqa: BLE001 - one broken section must not lose the others' figures
            traceback.print_exc()
            report.setdefault("errors", {})[key or title] = f"{type(e).__name__}: {e}"
        save()

    work = Path(tempfile.mkdtemp(prefix="rag-perf-"))
    try:
        if "ingest" in sections:
            from bench.indexing import ingestion

            section(
                "ingest",
                "ingest: C engine vs int8 encoder on the same passages, profiled cold builds",
                lambda: ingestion(settings.seeds_dir, Path(args.bench_data), work, settings, log),
            )
        index_dir = work / "index"
        if args.index_from and "index" not in sections:
            shutil.copytree(args.index_from, index_dir)
        elif {"index", "http", "llm", "soak", "side"} & set(sections):
            from bench.indexing import index_timings

            section(
                "index",
                "index: cold build of the seeds (empty embedding cache), re-index, add one document",
                lambda: index_timings(settings.seeds_dir, index_dir, settings),
            )
            log(f"  {report.get('index')}")
        from bench import http, scale, side

        if "http" in sections:
            section(
                "http",
                "http: /search and /ask (extractive) over loopback",
                lambda: http.query_runs(index_dir, questions, _ints(args.concurrency), args.duration, log),
            )
        if "llm" in sections:
            section(
                "llm",
                "llm: streamed answers (5 passages)",
                lambda: http.llm_runs(index_dir, questions, args.llm_requests, _ints(args.llm_concurrency), log=log),
            )
        if "soak" in sections and args.soak > 0:
            section(
                "soak",
                f"soak: 32 clients for {args.soak:.0f}s",
                lambda: http.soak(index_dir, questions, args.soak, log=log),
            )
        if "side" in sections:
            from rag.embed.cache import EmbeddingCache
            from rag.factory import Components

            comp = Components(
                settings.model_copy(
                    update={"index_dir": index_dir, "embed_cache": index_dir / "cache" / "embeddings.sqlite"}
                )
            )
            shared = settings.embed_cache or settings.index_dir / "cache" / "embeddings.sqlite"
            section(
                "side_by_side",
                "side by side: ours vs LangChain tutorial vs Chatchat defaults",
                lambda: side.side_by_side(comp, EmbeddingCache(shared), questions[:60], log=log),
            )
            section(
                "profile",
                "profile: stages of /search and /ask, top functions of /ask",
                lambda: side.profile(comp, questions[:60]),
            )
        if "scale" in sections:
            kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
            report["scale"] = {"faiss": [], "bm25": []}

            def scale_at(n: int) -> None:
                report["scale"]["faiss"].append(scale.faiss_runs(n, kinds, args.hnsw_max, log=log))
                save()
                report["scale"]["bm25"].append(scale.bm25_runs(n, log=log))

            for n in _ints(args.sizes):
                section(None, f"scale: {n:,d} chunks", lambda n=n: scale_at(n))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    save()
    print()
    print((out_dir / f"{name}.md").read_text(encoding="utf-8"))
    print(f"wrote {out_dir / name}.json and .md")
    return report


def main(argv: list[str] | None = None) -> int:
    run(parser().parse_args(argv), get_settings())
    return 0


if __name__ == "__main__":
    sys.exit(main())
