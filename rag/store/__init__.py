"""Stores: the interface (`base`), FAISS on local disk (`faiss_store`, the default) and Milvus (`milvus_store`).

Callers go through a `Store` (`Components.store`), so every backend answers the same questions. The FAISS
backend's own functions (versions on disk, manifests, the writer lock) are imported from `rag.store.faiss_store`
where something is truly FAISS-specific.
"""

from __future__ import annotations

from rag.store.base import Batch, IndexData, Store, Written
from rag.store.faiss_store import FaissStore

__all__ = ["Batch", "FaissStore", "IndexData", "Store", "Written"]
