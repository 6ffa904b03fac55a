"""The bench report: the issue's targets against the measured figures, and every section as a Markdown table.

The tables are rag/evaluate/perf_tables.py's, the same functions docs/performance.md's generated blocks call, so a
section reads the same in a run's report and in the docs."""

from __future__ import annotations

from typing import Any

from rag.evaluate import perf_tables as tables
from rag.evaluate.perf_targets import cpu_line, get, targets
from rag.evaluate.provenance import commit_text

__all__ = ["cpu_line", "markdown", "targets"]


def _header(r: dict[str, Any]) -> list[str]:
    env = r.get("environment", {})
    lines = [
        f"# Performance bench {r.get('date', '')}",
        "",
        f"CPU: {cpu_line(env.get('cpu'))}.",
        "",
        f"`{r.get('command', 'make bench')}` on {env.get('cpus')} CPUs, {commit_text(env)}; "
        f"load average {env.get('loadavg_start')} at the start, {env.get('loadavg_end')} at the end "
        "(other work on the machine inflates latencies).",
        "",
    ]
    for rr in r.get("reruns", []):
        lines += [
            f"Re-run later: {', '.join(rr['sections'])} at {rr['date']}, {commit_text(rr.get('environment'))} "
            f"(`{rr['command']}`, load average {get(rr, 'environment', 'loadavg_start')}).",
            "",
        ]
    for key, err in (r.get("errors") or {}).items():
        lines += [f"**Failed:** {key}: `{err}`", ""]
    return lines


def markdown(r: dict[str, Any]) -> str:
    """The run's report: where and with which code it ran, the targets, then each section the run measured."""
    ing = r.get("ingest")
    sections = [
        (
            f"Ingestion: passage encoders and cold builds ({cpu_line(ing.get('cpu'))})" if ing else "",
            ing,
            tables.ingest,
        ),
        ("Index (seeds)", r.get("index"), lambda ix: tables.index(ix, r.get("http"))),
        ("HTTP over loopback (closed loop, httpx async clients on the same 2 cores)", r.get("http"), tables.http),
        ("Local LLM (streamed /ask, one at a time, then concurrent)", r.get("llm"), tables.llm),
        ("Soak (32 clients, /search and /ask alternating)", r.get("soak"), tables.soak),
        ("Scale: FAISS and BM25 on synthetic corpora, one query at a time", r.get("scale"), tables.scale),
        ("Side by side on the seeds", r.get("side_by_side"), tables.side),
        (
            f"Profile (in process, {get(r, 'profile', 'questions')} questions): where a request's time goes",
            r.get("profile"),
            tables.profile,
        ),
    ]
    lines = [*_header(r), "## Targets", "", *tables.targets(r)]
    for title, section, render in sections:
        if section:
            lines += [f"## {title}", "", *render(section)]
    return "\n".join(lines)
