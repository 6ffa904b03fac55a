"""The Milvus client as the store uses it: errors translated, collections loaded on use, and the writer lease.

Milvus serves a collection only once it is loaded, and loading is per deployment (a Milvus server) or per process
(Milvus Lite opened from a file): a process that did not create a collection loads it before reading it, and waits
until it is loaded. Every pymilvus error becomes one of the project's (rag.errors), so no caller sees a traceback.

Writers coordinate through `<prefix>locks` (one row per claim, with an expiry): a writer announces its claim, reads
back every live claim of the collection, and holds the lease only when its own is the only one; otherwise it
withdraws. Under Milvus' Strong consistency two claimers cannot both see only themselves (whoever reads second sees
the other's claim), so at most one writer holds a collection, on any number of machines. A held lease is renewed
while the write runs and expires `lease_s` seconds after a writer dies.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.errors import IndexBusy, IndexNotFound, StoreUnavailable

LOAD_TIMEOUT_S = 300.0
CLAIM_S = 15.0  # a claim not yet confirmed as held expires this soon (a writer killed mid-claim)
ATTEMPTS = 6  # claim rounds when two writers announce at the same moment (both withdraw, then retry apart)
_READS = {"search", "query", "get", "hybrid_search", "query_iterator"}
_NOT_LOADED = re.compile(r"released|not loaded|load\(\) before|collection not loaded", re.I)
_MISSING = re.compile(r"collection not found|can't find collection|collection .* (does )?not exist", re.I)


def message_of(e: BaseException) -> str:
    return str(getattr(e, "message", "") or e)


def translate(e: BaseException, uri: str) -> Exception:
    """A pymilvus error as the project's: a missing collection is IndexNotFound, anything else StoreUnavailable."""
    msg = message_of(e)
    if _MISSING.search(msg):
        return IndexNotFound(f"Milvus at {uri}: {msg}; run `rag index`")
    return StoreUnavailable(f"Milvus at {uri}: {msg}")


def check_lite_free(path: str) -> None:
    """Milvus Lite serves a file to one process at a time: say so plainly instead of pymilvus' traceback."""
    root = Path(path).resolve()
    try:
        from milvus_lite.server_manager import server_manager_instance

        if str(root) in getattr(server_manager_instance, "_servers", {}):
            return  # this process has it open already
    except ImportError:
        return
    lock = root / "LOCK"
    if not lock.exists():
        return
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        raise StoreUnavailable(
            f"the Milvus Lite file {path} is open in another process (Milvus Lite serves a file to one process); "
            f"to share it, run `milvus-lite server --data-dir {path} --port 19530` and set "
            "RAG_MILVUS_URI=http://127.0.0.1:19530 in every process (docs/scale.md, 'Run two replicas')"
        ) from None
    finally:
        os.close(fd)


class Guarded:
    """A pymilvus MilvusClient whose errors are the project's; a read of a released collection loads it and retries."""

    def __init__(self, client: Any, uri: str):
        self._client = client
        self.uri = uri

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from pymilvus.exceptions import MilvusException

        try:
            return fn(*args, **kwargs)
        except MilvusException as e:
            raise translate(e, self.uri) from e

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._client, name)
        if not callable(fn):
            return fn

        def guarded(*args: Any, **kwargs: Any) -> Any:
            from pymilvus.exceptions import MilvusException

            try:
                return fn(*args, **kwargs)
            except MilvusException as e:
                if name in _READS and args and _NOT_LOADED.search(message_of(e)):
                    self.ensure_loaded(args[0])  # released meanwhile (a restarted Milvus Lite server): load it again
                    return self.call(fn, *args, **kwargs)
                raise translate(e, self.uri) from e

        return guarded

    def ensure_loaded(self, name: str, timeout: float = LOAD_TIMEOUT_S) -> None:
        """Load the collection unless it is loaded, and wait until it is; StoreUnavailable when it will not load."""
        from pymilvus.client.types import LoadState

        state = self.call(self._client.get_load_state, name).get("state")
        if state == LoadState.Loaded:
            return
        if state == LoadState.NotExist:
            raise IndexNotFound(f"Milvus at {self.uri} has no collection '{name}'; run `rag index`")
        self.call(self._client.load_collection, name, timeout=timeout)  # returns once loaded
        state = self.call(self._client.get_load_state, name).get("state")
        if state != LoadState.Loaded:
            raise StoreUnavailable(f"Milvus at {self.uri} did not load collection '{name}' (state {state})")


class Leases:
    """One writer per collection across processes and machines, held in Milvus (see the module's docstring)."""

    def __init__(self, client: Guarded, name: str, create: Callable[..., None], lease_s: float = 60.0):
        self.client, self.name, self._create, self.lease_s = client, name, create, lease_s
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        from pymilvus import DataType

        if not self.client.has_collection(self.name):
            s = self.client.create_schema(auto_id=False)
            s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=600)
            s.add_field("collection", DataType.VARCHAR, max_length=512)
            s.add_field("holder", DataType.VARCHAR, max_length=512)
            s.add_field("expires", DataType.DOUBLE)
            s.add_field("held", DataType.BOOL)
            s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
            self._create(self.name, s, "_v", "IP", "FLAT")
        self.client.ensure_loaded(self.name)
        self._ready = True

    def _live(self, collection: str) -> list[dict[str, Any]]:
        rows = self.client.query(
            self.name,
            filter=f"collection == {json.dumps(collection, ensure_ascii=False)}",
            output_fields=["pk", "holder", "expires", "held"],
        )
        now = time.time()
        dead = [r["pk"] for r in rows if r["expires"] <= now]
        if dead:
            self.client.delete(self.name, ids=dead)
        return [r for r in rows if r["expires"] > now]

    def _put(self, pk: str, collection: str, holder: str, held: bool, ttl: float) -> None:
        self.client.upsert(
            self.name,
            [
                {
                    "pk": pk,
                    "collection": collection,
                    "holder": holder,
                    "expires": time.time() + ttl,
                    "held": held,
                    "_v": [0.0, 0.0],
                }
            ],
        )

    @contextmanager
    def hold(self, collection: str) -> Iterator[None]:
        """Hold the collection's lease for the block; IndexBusy at once when another writer holds it."""
        self._ensure()
        pk = f"{collection}/{uuid.uuid4().hex}"
        holder = f"pid {os.getpid()} on {socket.gethostname()}"
        contender = "another writer"
        for attempt in range(ATTEMPTS):
            live = self._live(collection)
            held = [r for r in live if r["held"]]
            if held:
                raise IndexBusy(
                    f"collection '{collection}' is being indexed by {held[0]['holder']}; try again when it has finished"
                )
            others = live
            if not live:
                self._put(pk, collection, holder, False, CLAIM_S)
                others = [r for r in self._live(collection) if r["pk"] != pk]
                if not others:
                    self._put(pk, collection, holder, True, self.lease_s)
                    break
                self.client.delete(self.name, ids=[pk])  # both announced at once: both withdraw, retry apart
            contender = others[0]["holder"]
            time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))
        else:
            raise IndexBusy(
                f"collection '{collection}' is being indexed by {contender}; try again when it has finished"
            )
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.lease_s / 3):
                try:
                    self._put(pk, collection, holder, True, self.lease_s)
                except Exception:  # noqa: BLE001 - a missed renewal is retried; the lease outlives two of them
                    continue

        t = threading.Thread(target=renew, name=f"lease-{collection}", daemon=True)
        t.start()
        try:
            yield
        finally:
            stop.set()
            t.join(timeout=5)
            try:
                self.client.delete(self.name, ids=[pk])
            except Exception:  # noqa: BLE001 - it expires by itself
                pass
