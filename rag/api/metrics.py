"""Prometheus text metrics kept in process: requests and latency by endpoint, answers by generator, index sizes."""

from __future__ import annotations

import threading
from collections import defaultdict

_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[str, list[int]] = defaultdict(lambda: [0] * (len(_BUCKETS) + 1))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.answers: dict[tuple[str, bool], int] = defaultdict(int)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, path, status)] += 1
            b = self.latency[path]
            for i, edge in enumerate(_BUCKETS):
                if seconds <= edge:
                    b[i] += 1
            b[-1] += 1
            self.latency_sum[path] += seconds

    def answered(self, generator: str, answerable: bool) -> None:
        with self._lock:
            self.answers[(generator, answerable)] += 1

    def render(self, index_sizes: dict[str, tuple[int, int]]) -> str:
        out = ["# HELP rag_requests_total HTTP requests by endpoint and status.", "# TYPE rag_requests_total counter"]
        with self._lock:
            for (m, p, s), n in sorted(self.requests.items()):
                out.append(f'rag_requests_total{{method="{m}",path="{p}",status="{s}"}} {n}')
            out += ["# HELP rag_request_seconds Request latency by endpoint.", "# TYPE rag_request_seconds histogram"]
            for p, b in sorted(self.latency.items()):
                for edge, n in zip(_BUCKETS, b, strict=False):
                    out.append(f'rag_request_seconds_bucket{{path="{p}",le="{edge}"}} {n}')
                out.append(f'rag_request_seconds_bucket{{path="{p}",le="+Inf"}} {b[-1]}')
                out.append(f'rag_request_seconds_sum{{path="{p}"}} {self.latency_sum[p]:.6f}')
                out.append(f'rag_request_seconds_count{{path="{p}"}} {b[-1]}')
            out += [
                "# HELP rag_answers_total Answers by generator and whether the documents answered.",
                "# TYPE rag_answers_total counter",
            ]
            for (g, a), n in sorted(self.answers.items()):
                out.append(f'rag_answers_total{{generator="{g}",answerable="{str(a).lower()}"}} {n}')
        out += ["# HELP rag_index_documents Documents per collection.", "# TYPE rag_index_documents gauge"]
        out += [f'rag_index_documents{{collection="{c}"}} {d}' for c, (d, _) in sorted(index_sizes.items())]
        out += ["# HELP rag_index_passages Passages per collection.", "# TYPE rag_index_passages gauge"]
        out += [f'rag_index_passages{{collection="{c}"}} {n}' for c, (_, n) in sorted(index_sizes.items())]
        return "\n".join(out) + "\n"
