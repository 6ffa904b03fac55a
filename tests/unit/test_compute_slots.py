"""Questions and searches are computed at most RAG_COMPUTE_SLOTS at a time (rag.pipeline.Pipeline.compute), and a
chat model generating holds no slot: a search is answered while it writes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.factory import Components
from rag.generate.base import Draft, Generator
from rag.ingest import read_bytes
from rag.retrieve import Retriever
from tests.helpers import unit_settings

DOC = "2023年，赣州规模以上工业增加值增长8.1%。南昌全年地区生产总值7324亿元，增长4.1%。"
ASK = "2023年赣州规模以上工业增加值增长多少？"


def _components(tmp_path, fake_embedder, **kw) -> Components:
    comp = Components(unit_settings(tmp_path, **kw), embedder=fake_embedder)
    comp.indexer.update("default", add=read_bytes(DOC.encode(), "news.txt"))
    return comp


class Overlap:
    """Wraps Retriever.search: how many calls ran at once, at most."""

    def __init__(self, monkeypatch) -> None:
        self.now = self.most = 0
        self._lock = threading.Lock()
        real = Retriever.search

        def search(retriever, *a, **kw):
            with self._lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(0.02)  # long enough for the other threads to arrive
                return real(retriever, *a, **kw)
            finally:
                with self._lock:
                    self.now -= 1

        monkeypatch.setattr(Retriever, "search", search)


@pytest.mark.parametrize("slots", [1, 3])
def test_at_most_the_slots_compute_at_once(slots, tmp_path, fake_embedder, monkeypatch) -> None:
    comp = _components(tmp_path, fake_embedder, compute_slots=slots)
    overlap = Overlap(monkeypatch)
    calls = [lambda: comp.pipeline.search(ASK, 5), lambda: comp.pipeline.ask(ASK, generator="extractive")] * 6
    with ThreadPoolExecutor(12) as pool:
        done = list(pool.map(lambda f: f(), calls))
    assert all(d is not None for d in done)
    assert overlap.most == slots


class Writing(Generator):
    """A chat model that writes until it is let go."""

    name = "llm"
    chats = True

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def stream(self, question, hits, tokenizer=None, bm25=None):
        self.started.set()
        assert self.release.wait(10)
        text = "赣州规模以上工业增加值增长8.1%[1]。"
        yield text
        yield Draft(text, [], answerable=False)

    def generate(self, question, hits, tokenizer=None):
        return list(self.stream(question, hits, tokenizer))[-1]


def test_a_chat_model_writing_holds_no_slot(tmp_path, fake_embedder) -> None:
    built = _components(tmp_path, fake_embedder, compute_slots=1, expand="off")
    model = Writing()
    comp = Components(built.settings, embedder=fake_embedder, generators={"llm": model})
    with ThreadPoolExecutor(1) as pool:
        asking = pool.submit(comp.pipeline.ask, ASK, generator="llm")
        assert model.started.wait(10)
        assert comp.pipeline.search(ASK, 3).hits  # the one slot is free while the model writes
        model.release.set()
        assert asking.result(10).generator == "llm"


def test_a_question_that_fails_or_is_left_unread_gives_its_slot_back(tmp_path, fake_embedder, monkeypatch) -> None:
    import rag.pipeline

    comp = _components(tmp_path, fake_embedder, compute_slots=1)

    def broken(*a, **kw):
        raise RuntimeError("failed between two stretches of work, the slot held")

    with monkeypatch.context() as m:
        m.setattr(rag.pipeline.dates, "strip_relative", broken)
        with pytest.raises(RuntimeError):
            comp.pipeline.ask(ASK, generator="extractive")
    got: list = []

    def after() -> None:  # in a thread of its own: a slot that leaked would block it, not the test
        events = comp.pipeline.ask_events(ASK, generator="extractive")
        got.append(next(events)[0])  # the caller reads one event and goes away
        events.close()
        got.append(comp.pipeline.search(ASK, 3))

    following = threading.Thread(target=after, daemon=True)
    following.start()
    following.join(10)
    assert len(got) == 2 and got[0] == "token" and got[1].hits


def test_waiters_are_served_in_the_order_they_came() -> None:
    from rag.pipeline import Slots

    slots, order = Slots(1), []
    slots.acquire()

    def wait(i: int) -> None:
        with slots:
            order.append(i)

    threads = []
    for i in range(5):
        threads.append(threading.Thread(target=wait, args=(i,)))
        threads[-1].start()
        while len(slots._waiters) < i + 1:  # queued before the next one comes
            time.sleep(0.001)
    slots.release()
    with slots:  # a newcomer after the release waits behind all five
        order.append("late")
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4, "late"]
