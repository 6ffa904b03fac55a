"""Stores: the interface (`base`), FAISS on local disk (`faiss_store`, the default) and Milvus (`milvus_store`).

The FAISS backend's functions stay importable from here (`store.load(index_dir, collection)` and friends).
"""

from __future__ import annotations

from rag.store.base import Batch, IndexData, Store, Written
from rag.store.faiss_store import (
    FORMAT,
    FaissStore,
    clean_partial,
    collection_path,
    current_version,
    drop_collection,
    list_collections,
    load,
    prune,
    read_manifest,
    write_version,
)

__all__ = [
    "Batch",
    "IndexData",
    "Store",
    "Written",
    "FORMAT",
    "FaissStore",
    "clean_partial",
    "collection_path",
    "current_version",
    "drop_collection",
    "list_collections",
    "load",
    "prune",
    "read_manifest",
    "write_version",
]
