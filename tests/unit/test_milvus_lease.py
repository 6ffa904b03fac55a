"""The Milvus writer lease: at most one holder however writers race, expiry after a dead writer, errors translated."""

from __future__ import annotations

import threading
import time

import pytest

from rag.errors import IndexBusy, IndexNotFound, StoreUnavailable

pytest.importorskip("pymilvus")


@pytest.fixture
def store(tmp_path):
    from rag.store.milvus_store import MilvusStore

    return MilvusStore(str(tmp_path / "milvus.db"), prefix="t_", index_type="FLAT")


def test_racing_writers_never_hold_the_lease_together(store) -> None:
    """Eight writers start at once, each from its own client; whoever holds it is alone, and someone gets it."""
    from rag.store.milvus_client import Guarded, Leases

    store.leases._ensure()
    inside, most, got, busy = [0], [0], [0], [0]
    guard = threading.Lock()
    start = threading.Barrier(8)

    def writer() -> None:
        from pymilvus import MilvusClient

        leases = Leases(Guarded(MilvusClient(uri=store.uri), store.uri), store.leases.name, store._create)
        start.wait()
        try:
            with leases.hold("c"):
                with guard:
                    inside[0] += 1
                    got[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.3)
                with guard:
                    inside[0] -= 1
        except IndexBusy:
            with guard:
                busy[0] += 1

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert most[0] == 1 and got[0] >= 1 and got[0] + busy[0] == 8


def test_a_dead_writers_lease_expires(store) -> None:
    store.leases.lease_s = 1.0
    store.leases._ensure()
    store.leases._put("c/dead", "c", "pid 1 on elsewhere", True, 1.0)  # a writer that died holding it
    with pytest.raises(IndexBusy, match="pid 1 on elsewhere"):
        with store.lock("c"):
            pass
    time.sleep(1.2)
    with store.lock("c"):  # expired: taken over, and renewed while held
        time.sleep(1.0)
        with pytest.raises(IndexBusy):
            with store.lock("c"):
                pass


def test_milvus_errors_become_the_projects(store, tmp_path) -> None:
    from rag.store.milvus_store import MilvusStore

    with pytest.raises(IndexNotFound):
        store.client.ensure_loaded("t_nothing_here")
    with pytest.raises(StoreUnavailable, match="cannot connect|Milvus at"):
        MilvusStore("http://127.0.0.1:9", prefix="t_")  # nothing listens on the discard port
