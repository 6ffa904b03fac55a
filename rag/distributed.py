"""`rag index --engine ray`: chunk, tokenize and embed documents with Ray Data, on a laptop or a Ray cluster.

The workers read the files (Ray Data `read_binary_files`), so file contents never pass through the driver: a first
pass parses each file in a task and returns only each document's id, title and content hash, from which the indexer
decides what changed (unchanged files stop there); a second pass reads the changed files again in a pool of
`workers` actors, each of which loads the embedder once and runs the same stage as the in-process engine
(`rag.indexer.prepare`, then the embedder through the embedding cache). Batches stream back with the documents'
cleaned text, and the indexer hands them to the store as they arrive (Milvus upserts them at once; FAISS assembles
its version at the end). Documents given as text (an upload through the API) go to the same actors as items.
`RAY_ADDRESS` (Ray's own variable) names a running cluster; without it a local Ray instance is started.

The workers read files with the limits of the entry point that named them, as the in-process engine does: `scan`
defaults to the operator's limits (`IngestLimits.unlimited()`, like `rag.ingest.load_paths`), and each `FileDoc`
carries the limits it was scanned with, so the second pass reads it under the same ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rag.chunk import ChunkParams
from rag.config import Settings
from rag.errors import BadInput
from rag.ingest.limits import IngestLimits
from rag.store import Batch
from rag.types import Chunk, Document


@dataclass
class FileDoc(Document):
    """A document known by its file, title and content hash; a worker reads its text when it has to be indexed."""

    stub: ClassVar[bool] = True
    path: str = ""
    limits: IngestLimits = field(default_factory=IngestLimits.unlimited, compare=False, repr=False)


def _scan(
    batch: dict[str, np.ndarray], dedup_min_chars: int, limits: IngestLimits | None = None
) -> dict[str, list[str]]:
    """A Ray task over a batch of files: each document's id, source, title and content hash (no text).
    `limits`: those the files are read with (default: the operator's, `IngestLimits.unlimited()`)."""
    from rag.errors import RagError
    from rag.ingest import read_bytes

    limits = limits or IngestLimits.unlimited()
    out: dict[str, list[str]] = {k: [] for k in ("doc_id", "source", "title", "content_hash", "path", "error")}
    for data, path in zip(batch["bytes"], batch["path"], strict=True):
        try:
            docs = read_bytes(bytes(data), Path(str(path)).name, dedup_min_chars, limits)
        except RagError as e:  # reported by the driver as the project's error, not as a Ray task failure
            docs, err = [], e.message
        else:
            err = ""
        rows = [(d.doc_id, d.source, d.title, d.content_hash) for d in docs] or ([("", "", "", "")] if err else [])
        for did, src, title, h in rows:
            for k, v in zip(out, (did, src, title, h, str(path), err), strict=True):
                out[k].append(v)
    return out


def _read_wanted(
    batch: dict[str, np.ndarray], dedup_min_chars: int, limits: IngestLimits, wanted: frozenset[str]
) -> list[Document]:
    """The second pass over a batch of files: their documents the driver asked for, read under `limits`."""
    from rag.ingest import read_bytes

    return [
        d
        for data, path in zip(batch["bytes"], batch["path"], strict=True)
        for d in read_bytes(bytes(data), Path(str(path)).name, dedup_min_chars, limits)
        if d.doc_id in wanted
    ]


class _EmbedWorker:
    """One per Ray actor: settings in, the model loaded once, batches of documents -> passages with vectors."""

    def __init__(
        self,
        settings: Settings,
        params: ChunkParams,
        use_cache: bool,
        wanted: frozenset[str] = frozenset(),
        limits: IngestLimits | None = None,
    ) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from rag.embed import make_embedder
        from rag.zh import Tokenizer

        self.wanted = wanted
        self.limits = limits or IngestLimits.unlimited()
        self.params = params
        self.dedup_min_chars = settings.dedup_min_chars
        self.embedder = make_embedder(settings)
        self.tokenizer = Tokenizer(settings.user_dict, settings.stopwords)
        self.cache = None
        if use_cache:  # a node-local (or shared) cache: passages embedded before are not embedded again
            from rag.embed.cache import EmbeddingCache

            self.cache = EmbeddingCache(settings.embed_cache or settings.index_dir / "cache" / "embeddings.sqlite")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        from rag.indexer import CountingEmbedder, prepare

        if "bytes" in batch:  # files: read here, keeping the documents the driver asked for
            docs = _read_wanted(batch, self.dedup_min_chars, self.limits, self.wanted)
        else:
            docs = [Document(**json.loads(s)) for s in batch["doc"]]
        chunks, tokens, texts = prepare(docs, self.params, self.tokenizer)
        emb = CountingEmbedder(self.embedder)
        vecs = self.cache.embed(emb, texts) if self.cache else emb.embed_documents(texts)
        first = {}  # each document's text rides on its first passage's row (the columns have one row per passage)
        for i, c in enumerate(chunks):
            first.setdefault(c.doc_id, i)
        text = {i: json.dumps(asdict(d), ensure_ascii=False) for d in docs if (i := first.get(d.doc_id)) is not None}
        return {
            "chunk": [json.dumps(asdict(c), ensure_ascii=False) for c in chunks],
            "tokens": [json.dumps(t, ensure_ascii=False) for t in tokens],
            "vector": [np.asarray(v, dtype=np.float32) for v in vecs],
            "doc": [text.get(i, "") for i in range(len(chunks))],
            "embedded": [emb.embedded if i == 0 else 0 for i in range(len(chunks))],
        }


class RayEngine:
    """An `Indexer.engine`: documents -> Batches, computed by `workers` Ray actors."""

    def __init__(
        self,
        settings: Settings,
        workers: int = 2,
        batch_docs: int = 8,
        cpus_per_worker: float = 1.0,
        gpus_per_worker: float = 0.0,
        use_cache: bool = True,
        address: str | None = None,
        chunk_params: ChunkParams | None = None,
    ):
        """`chunk_params`: those of the collection's indexer (rag.factory.Components); default: the settings'."""
        self.workers, self.batch_docs = workers, batch_docs
        self.chunk_params = chunk_params or ChunkParams(settings.chunk_size, settings.chunk_max, settings.chunk_overlap)
        self.cpus, self.gpus = cpus_per_worker, gpus_per_worker
        self.use_cache = use_cache
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        # each actor's embedder gets the cores Ray gives it, so actors on one machine do not oversubscribe it
        self.settings = settings.model_copy(update={"threads": max(1, int(cpus_per_worker))})

    def _ray(self):
        import ray

        if ray.is_initialized():
            return ray
        kw = {} if self.address else {"num_cpus": max(os.cpu_count() or 1, int(self.workers * self.cpus))}
        for attempt in (1, 2):
            try:
                ray.init(
                    address=self.address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True, **kw
                )
                break
            except (
                Exception
            ) as e:  # Ray raises a bare Exception when its local node misses its fixed 30 s start-up window
                if attempt == 2 or "timed out during startup" not in str(e):
                    raise
                ray.shutdown()  # on a loaded 2-core machine one gRPC call can take all 30 s: start it once more
        return ray

    def scan(self, paths: list[Path], limits: IngestLimits | None = None) -> list[FileDoc]:
        """The documents in these files and folders, each file read and parsed by a Ray task (not by this process).

        `limits`: what a file may cost, as `rag.ingest.load_paths` takes them (default: the operator's own files,
        `IngestLimits.unlimited()`); the documents keep them for the workers that read the files again."""
        from rag.ingest import iter_files

        limits = limits or IngestLimits.unlimited()
        files = [str(f.resolve()) for f in iter_files(paths)]
        if not files:
            return []
        ray = self._ray()
        ray.data.DataContext.get_current().enable_progress_bars = False
        ds = ray.data.read_binary_files(files, include_paths=True, override_num_blocks=self._blocks(len(files)))
        ds = ds.map_batches(
            _scan,
            fn_args=(self.settings.dedup_min_chars, limits),
            batch_size=self.batch_docs,
            batch_format="numpy",
            num_cpus=self.cpus,
        )
        out: list[FileDoc] = []
        for b in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for did, src, title, h, path, err in zip(
                b["doc_id"], b["source"], b["title"], b["content_hash"], b["path"], b["error"], strict=True
            ):
                if err:
                    raise BadInput(str(err))
                out.append(FileDoc(str(did), str(src), str(title), "", {}, str(h), path=str(path), limits=limits))
        return sorted(out, key=lambda d: d.doc_id)

    def _blocks(self, n: int) -> int:
        return max(1, min(n, self.workers * 4))

    def __call__(self, docs: list[Document], progress: Callable[[int, int], None] | None = None) -> Iterator[Batch]:
        if not docs:
            return
        ray = self._ray()
        ray.data.DataContext.get_current().enable_progress_bars = False
        files = [d for d in docs if isinstance(d, FileDoc)]
        texts = [d for d in docs if not isinstance(d, FileDoc)]
        done = 0
        for ds, wanted, limits in self._datasets(ray, files, texts):
            ds = ds.map_batches(
                _EmbedWorker,
                fn_constructor_args=(self.settings, self.chunk_params, self.use_cache, wanted, limits),
                batch_size=self.batch_docs,
                compute=ray.data.ActorPoolStrategy(size=self.workers),
                num_cpus=self.cpus,
                num_gpus=self.gpus or None,
                batch_format="numpy",
            )
            for b in ds.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=2):
                chunks = [Chunk(**json.loads(s)) for s in b["chunk"]]
                if not chunks:
                    continue
                done += len(chunks)
                if progress:
                    progress(done, done)
                documents = [Document(**json.loads(s)) for s in b["doc"] if s]
                yield Batch(
                    chunks,
                    [json.loads(t) for t in b["tokens"]],
                    np.stack(list(b["vector"])).astype(np.float32),
                    embedded=int(np.sum(b["embedded"])),
                    documents=documents,
                )

    def _datasets(
        self, ray: Any, files: list[FileDoc], texts: list[Document]
    ) -> Iterator[tuple[Any, frozenset[str], IngestLimits | None]]:
        """One dataset per set of limits the files were scanned with (one for `rag index`), then one of texts."""
        by_limits: dict[IngestLimits, list[FileDoc]] = {}
        for d in files:
            by_limits.setdefault(d.limits, []).append(d)
        for limits, group in by_limits.items():
            # the workers read the files again: only their paths, the wanted ids and the limits leave this process
            paths = sorted({d.path for d in group})
            # Reading asks for no CPU: the actors may hold every CPU, and a read waiting for one would wait forever.
            yield (
                ray.data.read_binary_files(
                    paths,
                    include_paths=True,
                    override_num_blocks=self._blocks(len(paths)),
                    ray_remote_args={"num_cpus": 0},
                ),
                frozenset(d.doc_id for d in group),
                limits,
            )
        if texts:
            yield (
                ray.data.from_items(
                    [{"doc": json.dumps(asdict(d), ensure_ascii=False)} for d in texts],
                    override_num_blocks=self._blocks(len(texts)),
                ),
                frozenset(),
                None,
            )
