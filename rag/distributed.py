"""`rag index --engine ray`: chunk, tokenize and embed documents with Ray Data, on a laptop or a Ray cluster.

Documents go through `map_batches` to a pool of `workers` actors, each of which loads the embedder once and runs the
same stage as the in-process engine (`rag.indexer.prepare`, then the embedder). Batches stream back to the indexer,
which hands them to the store as they arrive (Milvus upserts them at once; FAISS assembles its version at the end).
`RAY_ADDRESS` (or `RAG_RAY_ADDRESS`) names a running cluster; without it a local Ray instance is started.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

import numpy as np

from rag.config import Settings
from rag.store import Batch
from rag.types import Chunk, Document


class _EmbedWorker:
    """One per Ray actor: settings in, the model loaded once, batches of documents -> passages with vectors."""

    def __init__(self, settings: Settings, use_cache: bool) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from rag.factory import Components

        self.c = Components(settings)  # only its embedder, tokenizer and chunking are used: no store is opened here
        self.cache = None
        if use_cache:  # a node-local (or shared) cache: passages embedded before are not embedded again
            from rag.embed.cache import EmbeddingCache

            self.cache = EmbeddingCache(settings.embed_cache or settings.index_dir / "cache" / "embeddings.sqlite")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        from rag.indexer import prepare

        docs = [Document(**json.loads(s)) for s in batch["doc"]]
        chunks, tokens, texts = prepare(docs, self.c.chunk_params, self.c.tokenizer)
        emb = self.c.embedder
        vecs = self.cache.embed(emb, texts) if self.cache else emb.embed_documents(texts)
        return {"chunk": [json.dumps(asdict(c), ensure_ascii=False) for c in chunks],
                "tokens": [json.dumps(t, ensure_ascii=False) for t in tokens],
                "vector": [np.asarray(v, dtype=np.float32) for v in vecs]}


class RayEngine:
    """An `Indexer.engine`: documents -> Batches, computed by `workers` Ray actors."""

    def __init__(self, settings: Settings, workers: int = 2, batch_docs: int = 8, cpus_per_worker: float = 1.0,
                 gpus_per_worker: float = 0.0, use_cache: bool = True, address: str | None = None):
        self.workers, self.batch_docs = workers, batch_docs
        self.cpus, self.gpus = cpus_per_worker, gpus_per_worker
        self.use_cache = use_cache
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        # each actor's embedder gets the cores Ray gives it, so actors on one machine do not oversubscribe it
        self.settings = settings.model_copy(update={"threads": max(1, int(cpus_per_worker))})

    def _ray(self):  # noqa: ANN202
        import ray

        if ray.is_initialized():
            return ray
        kw = {} if self.address else {"num_cpus": max(os.cpu_count() or 1, int(self.workers * self.cpus))}
        for attempt in (1, 2):
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True, **kw)
                break
            except Exception as e:  # Ray raises a bare Exception when its local node misses its fixed 30 s start-up window
                if attempt == 2 or "timed out during startup" not in str(e):
                    raise
                ray.shutdown()  # on a loaded 2-core machine one gRPC call can take all 30 s: start it once more
        return ray

    def __call__(self, docs: list[Document], progress: Callable[[int, int], None] | None = None) -> Iterator[Batch]:
        if not docs:
            return
        ray = self._ray()
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ds = ray.data.from_items([{"doc": json.dumps(asdict(d), ensure_ascii=False)} for d in docs],
                                 override_num_blocks=max(1, min(len(docs), self.workers * 4)))
        ds = ds.map_batches(_EmbedWorker, fn_constructor_args=(self.settings, self.use_cache), batch_size=self.batch_docs,
                            compute=ray.data.ActorPoolStrategy(size=self.workers), num_cpus=self.cpus,
                            num_gpus=self.gpus or None,
                            batch_format="numpy")
        done = 0
        for b in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=2):
            chunks = [Chunk(**json.loads(s)) for s in b["chunk"]]
            if not chunks:
                continue
            done += len(chunks)
            if progress:
                progress(done, done)
            yield Batch(chunks, [json.loads(t) for t in b["tokens"]], np.stack(list(b["vector"])).astype(np.float32))


def bench(settings: Settings, docs: list[Document], workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Chunks per second of the Ray engine with 1 and 2 local workers (no embedding cache: every passage embedded).

    Each run includes starting the actors and loading the model in each, as a real run does."""
    import ray

    out: dict[str, Any] = {"documents": len(docs), "embedder": settings.embedder, "cpus": os.cpu_count(), "runs": []}
    for w in workers:
        eng = RayEngine(settings, workers=w, use_cache=False)
        t = time.perf_counter()
        n = sum(len(b) for b in eng(docs))
        s = time.perf_counter() - t
        out["runs"].append({"workers": w, "chunks": n, "seconds": round(s, 2), "chunks_per_s": round(n / s, 2)})
        ray.shutdown()
    return out


def main() -> None:
    """`python -m rag.distributed [PATH …]`: the Ray indexing bench (make bench-scale) as JSON on stdout."""
    import sys

    from rag.config import get_settings
    from rag.ingest import load_paths

    s = get_settings()
    paths = [__import__("pathlib").Path(p) for p in sys.argv[1:]] or [s.seeds_dir]
    report = bench(s, load_paths(paths, s.dedup_min_chars))
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
