"""`make bench-scale` (`python -m bench.ray_scale [PATH …]`): chunks per second of `rag index --engine ray`.

Starts local Ray with 1 and 2 workers over the given files (default: seeds/) and prints the report as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from rag.config import Settings, get_settings
from rag.distributed import RayEngine


def bench(settings: Settings, paths: list[Path], workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Passages per second of the Ray engine with 1 and 2 local workers reading the files themselves (no embedding
    cache: every passage embedded). Each run includes starting Ray, the scan pass, the actors and their model loads."""
    import ray

    out: dict[str, Any] = {"embedder": settings.embedder, "cpus": os.cpu_count(), "runs": []}
    for w in workers:
        eng = RayEngine(settings, workers=w, use_cache=False)
        t = time.perf_counter()
        docs = eng.scan(paths)
        n = sum(len(b) for b in eng(docs))
        s = time.perf_counter() - t
        out["documents"] = len(docs)
        out["runs"].append({"workers": w, "chunks": n, "seconds": round(s, 2), "chunks_per_s": round(n / s, 2)})
        ray.shutdown()
    return out


def main() -> None:
    """`python -m bench.ray_scale [PATH …]`: the Ray indexing bench (make bench-scale) as JSON on stdout."""
    s = get_settings()
    report = bench(s, [Path(p) for p in sys.argv[1:]] or [s.seeds_dir])
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
