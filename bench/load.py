"""An async HTTP load generator (httpx over loopback): N concurrent clients, each sending its next request as soon
as the previous one is answered (closed loop), for a duration or a number of requests."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np


@dataclass
class LoadResult:
    path: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stages: dict[str, list[float]] = field(default_factory=dict)  # the server's own timings_ms, by stage
    failed: int = 0  # requests that raised, were not 200, or whose body broke the contract

    @property
    def n(self) -> int:
        return len(self.latencies_ms)

    def summary(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "concurrency": self.concurrency,
            "requests": self.n,
            "failed": self.failed,
            "seconds": round(self.seconds, 2),
            "rps": round(self.n / self.seconds, 1) if self.seconds else 0.0,
            **percentiles(self.latencies_ms),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_ms_p50": {k: round(float(np.median(v)), 2) for k, v in self.stages.items() if v},
            "errors": self.errors[:5],
        }


def percentiles(values: list[float], prefix: str = "") -> dict[str, float | None]:
    """p50/p95/p99 and mean, in the units given (None when there are no values)."""
    if not values:
        return {f"{prefix}p50": None, f"{prefix}p95": None, f"{prefix}p99": None, f"{prefix}mean": None}
    a = np.asarray(values, dtype=np.float64)
    return {
        f"{prefix}p50": round(float(np.percentile(a, 50)), 2),
        f"{prefix}p95": round(float(np.percentile(a, 95)), 2),
        f"{prefix}p99": round(float(np.percentile(a, 99)), 2),
        f"{prefix}mean": round(float(a.mean()), 2),
    }


Check = Callable[[dict[str, Any]], str | None]  # a response body -> an error message, or None when it is right
Request = tuple[str, dict[str, Any]]  # (path, JSON body)


async def _run(
    url: str, reqs: list[Request], concurrency: int, duration_s: float | None, requests: int | None, timeout_s: float
) -> LoadResult:
    res = LoadResult("+".join(dict.fromkeys(p for p, _ in reqs)), concurrency)
    cycle = itertools.cycle(reqs)
    sent = itertools.count()
    deadline = time.perf_counter() + duration_s if duration_s else None
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client(http: httpx.AsyncClient) -> None:
        while True:
            if deadline is not None and time.perf_counter() >= deadline:
                return
            if requests is not None and next(sent) >= requests:
                return
            path, body = next(cycle)
            t = time.perf_counter()
            try:
                r = await http.post(path, json=body)
                ms = (time.perf_counter() - t) * 1000
                res.statuses[r.status_code] += 1
                check = CHECKS.get(path)
                if r.status_code == 200:
                    body = r.json()
                    for k, v in (body.get("timings_ms") or {}).items():
                        if isinstance(v, int | float):
                            res.stages.setdefault(k, []).append(float(v))
                    problem = check(body) if check is not None else None
                else:
                    problem = f"{r.status_code}: {r.text[:200]}"
                res.latencies_ms.append(ms)
            except httpx.HTTPError as e:
                problem = f"{path}: {type(e).__name__}: {e}"
            if problem:
                res.failed += 1
                res.errors.append(problem)

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout_s) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        res.seconds = time.perf_counter() - t0
    return res


def run_load(
    url: str,
    reqs: list[Request],
    concurrency: int,
    duration_s: float | None = None,
    requests: int | None = None,
    timeout_s: float = 120.0,
) -> LoadResult:
    """Closed-loop load: `concurrency` clients cycle through `reqs` until `duration_s` or `requests` is reached;
    each 200 response is checked for its path's contract (results, an answer, citations when answerable)."""
    if duration_s is None and requests is None:
        raise ValueError("give duration_s or requests")
    return asyncio.run(_run(url, reqs, concurrency, duration_s, requests, timeout_s))


def search_requests(questions: list[str], top_k: int = 10) -> list[Request]:
    return [("/search", {"query": q, "top_k": top_k}) for q in questions]


def ask_requests(questions: list[str], generator: str = "extractive") -> list[Request]:
    return [("/ask", {"question": q, "generator": generator}) for q in questions]


def mixed_requests(questions: list[str]) -> list[Request]:
    """/search and /ask (extractive) of each question in turn."""
    return [r for pair in zip(search_requests(questions), ask_requests(questions), strict=True) for r in pair]


def stream_ask(url: str, payload: dict[str, Any], timeout_s: float = 300.0) -> dict[str, Any]:
    """One streamed /ask: time to the first token event, total time, and the server's own timings."""
    t0 = time.perf_counter()
    first: float | None = None
    done: dict[str, Any] = {}
    name = None
    with httpx.stream("POST", url + "/ask", json={**payload, "stream": True}, timeout=timeout_s) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                if name == "token" and first is None:
                    first = time.perf_counter() - t0
                elif name == "done":
                    done = json.loads(line[6:])
    timings = done.get("timings_ms", {})
    return {
        "ttft_ms": round(first * 1000, 1) if first is not None else None,
        "total_ms": round((time.perf_counter() - t0) * 1000, 1),
        "generator": done.get("generator"),
        "answerable": done.get("answerable"),
        "server_ttft_ms": timings.get("ttft"),
        "tokens_per_s": timings.get("tokens_per_s"),
        "completion_tokens": timings.get("completion_tokens"),
        "prompt_tokens": timings.get("prompt_tokens"),
    }


def check_search(body: dict[str, Any]) -> str | None:
    return None if isinstance(body.get("results"), list) and body["results"] else "search returned no results"


def check_ask(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("answer"), str) or not body["answer"]:
        return "ask returned no answer"
    if body.get("answerable") and not body.get("citations"):
        return "an answerable answer without citations"
    return None


CHECKS: dict[str, Check] = {"/search": check_search, "/ask": check_ask}
