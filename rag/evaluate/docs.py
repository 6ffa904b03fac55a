"""The figure tables of README.md and docs/*.md, generated from committed results so they cannot drift.

Usage: python -m rag.evaluate.docs [--check] [FILE.md …]   (default: the files in DOCS)

A block is the text between `<!-- BEGIN figures:NAME -->` and `<!-- END figures:NAME -->`; NAME picks the renderer
and the results it reads: docs/figures/ (written by `rag eval … --figures` and `rag bench … --figures`, the
`make figures` target) for the renderers below and the `compare-*` blocks (rag/evaluate/compare_docs.py),
bench/results/*.json (`make bench`) for the `perf-*` blocks of docs/performance.md (rag/evaluate/perf_docs.py).
Without `--check` the blocks are rewritten in place; with it nothing is written and the exit status is 1 when a
block differs from what the results give (`make lint` runs it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.evaluate import compare_docs, perf_docs
from rag.evaluate.machine import cpu_line
from rag.evaluate.provenance import commit_text

FIGURES = Path("docs/figures")
DOCS = (
    Path("README.md"),
    Path("docs/benchmarks.md"),
    Path("docs/how-it-works.md"),
    Path("docs/performance.md"),
    Path("docs/scale.md"),
)
BLOCK = re.compile(r"(<!-- BEGIN figures:(?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- END figures:(?P=name) -->)", re.S)
RETRIEVAL_KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "evidence_recall@10", "n_single", "n_multi")
ANSWER_KEYS = (
    "answer_accuracy",
    "unanswerable_refused",
    "false_refusal",
    "citation_support",
    "n",
    "n_by_type",
    "latency_ms_p50",
    "latency_ms_p95",
)
ORIGIN_KEYS = ("hit@1", "hit@5", "mrr@10", "n")
BENCH_KEYS = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@100", "n_queries", "latency_ms_p50")
# kept besides when the report has the reference pipelines (`--compare`): the figures their comparison shows
COMPARE_KEYS = ("latency_ms_p50", "latency_ms_p95", "by_type")


def _env(report: dict[str, Any]) -> dict[str, Any]:
    e = report.get("environment") or {}
    return {k: e.get(k) for k in ("cpu", "cpus", "time", "load_average", "commit", "dirty")}


def _part(
    n: int, retrieval: dict[str, Any], answers: dict[str, Any] | None, keys: tuple[str, ...] = RETRIEVAL_KEYS
) -> dict[str, Any]:
    return {
        "n": n,
        "retrieval": {m: {k: r[k] for k in keys if k in r} | _origins(r, ORIGIN_KEYS) for m, r in retrieval.items()},
        **({"answers": {k: answers[k] for k in ANSWER_KEYS if k in answers} | _origins(answers)} if answers else {}),
    }


def _origins(scores: dict[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The figures per origin of the items (a set written in batches, e.g. holdout and holdout2), when it has more
    than one; `keys`: those kept (all by default)."""
    by = scores.get("by_origin") or {}
    if len(by) < 2:
        return {}
    return {"by_origin": {o: {k: v for k, v in f.items() if keys is None or k in keys} for o, f in by.items()}}


def _compare(report: dict[str, Any]) -> dict[str, Any]:
    """The reference pipelines' figures (`--compare`) without their per-query latencies; {} when not run."""
    c = report.get("compare")
    if not c:
        return {}
    systems = {n: {k: v for k, v in s.items() if not isinstance(v, list)} for n, s in c["systems"].items()}
    return {"compare": {**c, "systems": systems}}


def compact(report: dict[str, Any]) -> dict[str, Any]:
    """The figures of a `rag eval` or `rag bench` report without per-item lists: what docs/figures/ holds."""
    extra = COMPARE_KEYS if report.get("compare") else ()
    if report.get("kind") == "eval":
        parts = {"all": _part(report["n"], report["retrieval"], report.get("answers"), RETRIEVAL_KEYS + extra)}
        parts |= {p: _part(v["n"], v["retrieval"], v.get("answers")) for p, v in (report.get("by_split") or {}).items()}
        return {
            "kind": "eval",
            "qa": report["qa"],
            "split": report.get("split", "all"),
            "limit": report.get("limit"),
            "generator": report.get("generator"),
            "settings": report.get("settings", {}),
            "parts": parts,
            **({"expansion": report["expansion"]} if report.get("expansion") else {}),
            **_compare(report),
            "environment": _env(report),
        }
    return {
        "kind": "bench",
        "name": report["name"],
        "n_documents": report["n_documents"],
        "n_passages": report["n_passages"],
        "n_queries": report["n_queries"],
        "modes": {m: {k: r[k] for k in BENCH_KEYS + extra if k in r} for m, r in report["modes"].items()},
        "answers": {g: {k: v for k, v in a.items() if k != "items"} for g, a in (report.get("answers") or {}).items()},
        **({"llm_replay": report["llm_replay"]} if report.get("llm_replay") else {}),
        **({"expansion": report["expansion"]} if report.get("expansion") else {}),
        **_compare(report),
        "environment": _env(report),
    }


def write_figures(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(compact(report), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _f(v: Any) -> str:
    return "—" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *["| " + " | ".join(_f(c) for c in r) + " |" for r in rows],
    ]


def _load(name: str) -> dict[str, Any] | None:
    p = FIGURES / name
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def _need(name: str) -> dict[str, Any]:
    got = _load(name)
    if got is None:
        raise SystemExit(f"{FIGURES / name} is missing: run `make figures`")
    return got


def _measured(*reports: dict[str, Any]) -> str:
    """'Measured <date> on <CPU>, <commit>' for each distinct run (figures from before the commit was recorded say
    so)."""
    seen = dict.fromkeys(
        f"{(e.get('time') or '')[:10]} on {cpu_line(e)}, {commit_text(e)}{_replayed(r)}"
        for r in reports
        for e in (r["environment"],)
    )
    return "Measured " + "; ".join(seen) + "."


def _replayed(report: dict[str, Any]) -> str:
    """How a run used a log of the local LLM's completions (rag.generate.replay), when it did."""
    x = report.get("llm_replay") or (report.get("settings") or {}).get("llm_replay")
    if not x or not x.get("replayed"):
        return ""
    n = x["replayed"] + x["generated"]
    return (
        f" ({x['replayed']} of the local LLM's {n} completions read from a log of the same prompts generated on "
        f"{' and '.join(x['cpus']) or 'a recorded CPU'})"
    )


PART_NAMES = {"all": "all", "dev": "dev (tuned on)", "test": "test (held out)", "independent": "of which independent"}


def qa_splits() -> list[str]:
    """The QA set, dev and test side by side: hybrid retrieval, extractive answers, and the LLM's when measured."""
    ext = _need("eval-extractive.json")
    llm = _load("eval-llm.json")
    cols = [p for p in ("test", "independent", "dev", "all") if p in ext["parts"]]  # held-out figures first
    rows: list[list[Any]] = [["items", *[ext["parts"][p]["n"] for p in cols]]]
    for k, label in (("hit@1", "hybrid hit@1"), ("hit@5", "hybrid hit@5"), ("mrr@10", "hybrid MRR@10")):
        rows.append([label, *[ext["parts"][p]["retrieval"]["hybrid"].get(k) for p in cols]])
    keys = (
        ("answer_accuracy", "answer accuracy"),
        ("unanswerable_refused", "unanswerable refused"),
        ("false_refusal", "false refusals"),
        ("citation_support", "citation support"),
    )
    for name, rep in (("extractive", ext), ("local LLM", llm)):
        if not rep:
            continue
        if rep.get("split", "all") != "all":  # a run of one split: its "all" is that split, not the whole set
            rep = {**rep, "parts": {k: v for k, v in rep["parts"].items() if k != "all"}}
        for k, label in keys:
            rows.append([f"{name}: {label}", *[(rep["parts"].get(p) or {}).get("answers", {}).get(k) for p in cols]])
        if rep is not ext and any(
            rep["parts"].get(p, {}).get("n") != ext["parts"][p]["n"] for p in cols if p in rep["parts"]
        ):
            rows.append(
                [
                    f"{name}: items run (a fixed stratified sample)",
                    *[(rep["parts"].get(p) or {}).get("n") for p in cols],
                ]
            )
    return [
        *_table(["measure", *[PART_NAMES[p] for p in cols]], rows),
        "",
        _measured(*[r for r in (ext, llm) if r]) + " Generated from docs/figures/eval-*.json by "
        "`python -m rag.evaluate.docs`; `make figures` re-measures.",
    ]


def cmrc2018() -> list[str]:
    """cmrc2018-trial: document retrieval per mode, and end-to-end answers per generator."""
    ret = _need("bench-cmrc2018-trial.json")
    extra = [r for r in (_load("bench-cmrc2018-trial-llm.json"),) if r]
    rows = [
        [m, *[s.get(k) for k in ("hit@1", "hit@5", "mrr@10", "ndcg@10", "recall@100")]] for m, s in ret["modes"].items()
    ]
    out = [
        f"{ret['n_documents']} documents, {ret['n_passages']} passages, {ret['n_queries']} judged queries.",
        "",
        *_table(["mode", "hit@1", "hit@5", "MRR@10", "nDCG@10", "recall@100"], rows),
        "",
    ]
    arows = [
        [g, a["n"], a["accuracy"], a["accuracy_150"], a["refused"], a["citation_support"], a["citation_evidence"]]
        for r in (ret, *extra)
        for g, a in r.get("answers", {}).items()
    ]
    if arows:
        out += [
            *_table(
                [
                    "answers",
                    "queries",
                    "accuracy (RGB rule)",
                    "accuracy, ≤ 150 chars",
                    "refused",
                    "citation support",
                    "citation holds the evidence",
                ],
                arows,
            ),
            "",
        ]
    return [
        *out,
        _measured(ret, *extra) + " Generated from docs/figures/bench-cmrc2018-trial*.json by "
        "`python -m rag.evaluate.docs`; `make figures` re-measures.",
    ]


EXPAND_TYPES = ("paraphrase",)  # the question type expansion is for, shown beside the part's whole


def expand() -> list[str]:
    """Query expansion (`rag eval --expand`): hybrid retrieval without and with it, per part and for paraphrases."""
    rep = _need("eval-expand.json")
    x = rep["expansion"]
    rows: list[list[Any]] = []
    for part in ("test", "independent", "dev"):
        got = x["parts"].get(part)
        if not got:
            continue
        subsets = [(PART_NAMES[part], got)]
        subsets += [(f"{PART_NAMES[part]}: {t} items", got["by_type"][t]) for t in EXPAND_TYPES if t in got["by_type"]]
        for label, sub in subsets:
            for mode, name in (("hybrid", "hybrid"), ("hybrid+expand", f"hybrid + expansion ({x['mode']})")):
                s = sub[mode]
                expanded = sub["expanded"] if mode != "hybrid" else "—"
                rows.append([label, name, sub["n"], expanded, s["hit@1"], s["hit@5"], s["mrr@10"]])
    model = f"`{x['generator']}` generator's model"
    calls = (
        f"The expansion call ({x['calls']} calls over the {x['n']} questions searched, several-evidence ones "
        f"included; {model}) took a median {x['call_ms_p50'] / 1000:.1f} s, p95 {x['call_ms_p95'] / 1000:.1f} s."
        if x["calls"]
        else "No question was weak enough to call the model."
    )
    return [
        *_table(["items", "retrieval", "questions", "expanded", "hit@1", "hit@5", "MRR@10"], rows),
        "",
        "Questions: those with one evidence string (what hit@k and MRR are over); expanded: BM25 matched little of "
        f"the question (coverage below {x['weak_coverage']}) and the model gave terms. {calls} "
        + _measured(rep)
        + " Generated from docs/figures/eval-expand.json by `python -m rag.evaluate.docs`; `make figures` re-measures.",
    ]


def expand_cmrc2018() -> list[str]:
    """Query expansion on cmrc2018-trial (`rag bench --expand`): hybrid document retrieval without and with it."""
    rep = _need("bench-cmrc2018-trial-expand.json")
    x = rep["expansion"]
    rows = [
        [name, rep["n_queries"], x["expanded"] if mode != "hybrid" else "—"]
        + [rep["modes"][mode].get(k) for k in ("hit@1", "hit@5", "mrr@10", "ndcg@10")]
        for mode, name in (("hybrid", "hybrid"), ("hybrid+expand", f"hybrid + expansion ({x['mode']})"))
    ]
    calls = (
        f"{x['calls']} queries called the model (median {x['call_ms_p50'] / 1000:.1f} s, p95 "
        f"{x['call_ms_p95'] / 1000:.1f} s)."
        if x["calls"]
        else "No query was weak enough to call the model."
    )
    return [
        *_table(["retrieval", "queries", "expanded", "hit@1", "hit@5", "MRR@10", "nDCG@10"], rows),
        "",
        f"{calls} "
        + _measured(rep)
        + " Generated from docs/figures/bench-cmrc2018-trial-expand.json by `python -m rag.evaluate.docs`; "
        "`make figures` re-measures.",
    ]


def holdout() -> list[str]:
    """eval/holdout.jsonl, written over the seeds by someone who saw no output of the pipeline and never tuned on:
    each retriever alone and hybrid, and the answers of each generator measured on it."""
    ext = _need("eval-holdout-extractive.json")
    llm = _load("eval-holdout-llm.json")
    part = ext["parts"]["all"]  # every item of the file is held out (split "test")
    rows: list[list[Any]] = []
    for mode in ("dense", "bm25", "hybrid"):
        r = part["retrieval"].get(mode)
        if r:
            rows.append([f"{mode} retrieval", r["n_single"], r["hit@1"], r["hit@5"], r["mrr@10"], "", "", "", ""])
            if mode != "dense":
                for o, f in (r.get("by_origin") or {}).items():
                    rows.append([f"{mode} retrieval: {o}", f["n"], f["hit@1"], f["hit@5"], f["mrr@10"], "", "", "", ""])
    for name, rep in (("extractive", ext), ("local LLM", llm)):
        if rep:
            a = rep["parts"]["all"]["answers"]
            for label, f in [
                (f"{name} answers", a),
                *((f"{name} answers: {o}", f) for o, f in a.get("by_origin", {}).items()),
            ]:
                keys = ("answer_accuracy", "unanswerable_refused", "false_refusal", "citation_support")
                rows.append([label, f["n"], "", "", "", *(f[k] for k in keys)])
    head = ["", "items", "hit@1", "hit@5", "MRR@10", "accuracy", "unanswerable refused", "false refusals", "citation"]
    return [
        *_table(head, rows),
        "",
        _measured(*[r for r in (ext, llm) if r]) + " Generated from docs/figures/eval-holdout-*.json by "
        "`python -m rag.evaluate.docs`; `make figures` re-measures.",
    ]


RENDERERS: dict[str, Callable[[], list[str]]] = {
    "qa-splits": qa_splits,
    "cmrc2018": cmrc2018,
    "expand": expand,
    "expand-cmrc2018": expand_cmrc2018,
    "holdout": holdout,
}


def render(text: str, where: str = "") -> str:
    """`text` with every figures block rewritten from the results."""

    picked: dict[str, Any] | None = None  # the bench reports, read once per file and only when it has perf blocks

    def one(m: re.Match[str]) -> str:
        nonlocal picked
        name = m["name"]
        if name in perf_docs.RENDERERS:
            picked = perf_docs.pick() if picked is None else picked
            lines = perf_docs.RENDERERS[name](picked)
        elif name in RENDERERS:
            lines = RENDERERS[name]()
        elif name in compare_docs.RENDERERS:
            lines = compare_docs.RENDERERS[name]()
        else:
            known = ", ".join([*RENDERERS, *compare_docs.RENDERERS, *perf_docs.RENDERERS])
            raise SystemExit(f"{where}: unknown figures block {name!r}; known: {known}")
        return m.group(1) + "\n".join(lines).rstrip("\n") + "\n" + m.group(4)

    return BLOCK.sub(one, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path, default=list(DOCS))
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a block is stale")
    a = ap.parse_args(argv)
    stale = []
    for path in a.files:
        text = path.read_text(encoding="utf-8")
        new = render(text, str(path))
        if new != text:
            stale.append(path)
            if not a.check:
                path.write_text(new, encoding="utf-8")
    if a.check and stale:
        print(f"stale figures in {', '.join(map(str, stale))}: run `python -m rag.evaluate.docs`", file=sys.stderr)
        return 1
    print(("rewrote " if stale else "figures up to date in ") + ", ".join(map(str, stale or a.files)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
