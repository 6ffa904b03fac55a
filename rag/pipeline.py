"""search(query) -> hits; ask(question, history) -> Answer with verified citations, or an honest refusal."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from rag.answerable import RANKING, judge
from rag.config import ASK_MAX_TOP_K, ASK_TOP_K, DEFAULT_COLLECTION, SEARCH_MODE, SEARCH_TOP_K
from rag.errors import BadInput, ConfigError, GenerationError, TooLarge
from rag.generate import dates
from rag.generate.base import Draft, Generator
from rag.generate.ground import ground
from rag.library import Library
from rag.prompts import Prompts
from rag.retrieve import Retriever, SearchResult
from rag.rewrite import (
    WEAK_COVERAGE,
    Expander,
    clean_rewrite,
    expansion_messages,
    history_text,
    is_follow_up,
    standalone,
)
from rag.types import Answer


@dataclass
class Limits:
    """The pipeline's bounds and thresholds, from Settings (rag.factory)."""

    max_question_chars: int
    answer_top_k: int
    refuse_below: float
    llm_refuse_below: float
    max_query_chars: int  # what retrieval, the judge and the generators read of a question (see bounded())
    expand: str  # query expansion by the chat model (rag.rewrite): auto (weak retrievals), off, always
    compute_slots: int = 2  # questions and searches computed at once (Pipeline.compute)


class Pipeline:
    def __init__(
        self,
        library: Library,
        generators: Callable[[str], Generator],
        default_generator: str,
        prompts: Prompts,
        limits: Limits,
    ):
        self.library = library
        self._generator = generators
        self.default_generator = default_generator
        self.prompts = prompts
        self.limits = limits
        self._expanders: dict[str, Expander] = {}
        # Retrieval, the judge and extractive answers are mostly Python: threads beyond the cores only trade the GIL,
        # and the server's event loop, which needs it for every read and write, lags among 30 of them (measured: the
        # median /healthz under 32 clients 124 ms with 64 slots, 34 ms with 2). Waiters here block without the GIL.
        # Never held across a yield, nor while a chat model generates (it has its own lock and releases the GIL).
        # ask_events takes it through a Slot.
        self.compute = Slots(limits.compute_slots)

    def check_text(self, text: Any, what: str = "question") -> str:
        if not isinstance(text, str) or not text.strip():
            raise BadInput(f"{what} must be a non-empty string")
        if len(text) > self.limits.max_question_chars:
            raise TooLarge(f"{what} is {len(text)} characters; the limit is {self.limits.max_question_chars}")
        return text.strip()

    def search(
        self, query: str, top_k: int = SEARCH_TOP_K, collection: str = DEFAULT_COLLECTION, mode: str = SEARCH_MODE
    ) -> SearchResult:
        query = bounded(self.check_text(query, "query"), self.limits.max_query_chars)
        with self.compute:
            return self.library.retriever(collection).search(query, top_k, mode)

    def ask(
        self,
        question: str,
        top_k: int = ASK_TOP_K,
        collection: str = DEFAULT_COLLECTION,
        history: list[dict[str, str]] | None = None,
        generator: str | None = None,
    ) -> Answer:
        answer: Answer | None = None
        for ev in self.ask_events(question, top_k, collection, history, generator):
            if ev[0] == "done":
                answer = ev[1]
        assert answer is not None
        return answer

    def ask_events(
        self,
        question: str,
        top_k: int = ASK_TOP_K,
        collection: str = DEFAULT_COLLECTION,
        history: list[dict[str, str]] | None = None,
        generator: str | None = None,
        quick: bool = False,
    ) -> Iterator[tuple[str, Any]]:
        """Events: ("token", str)…, ("citations", list), ("done", Answer). With `quick` and a generator other than
        the extractive one, first ("draft", Answer), the extractive answer at once when it would answer at all, and
        ("stage", {"stage": "generate"}) as the model starts."""
        slot = Slot(self.compute)
        try:
            yield from self._events(slot, question, top_k, collection, history, generator, quick)
        finally:  # however it ends: an error, or a caller that stopped reading
            slot.release()

    def _events(
        self,
        slot: Slot,
        question: str,
        top_k: int,
        collection: str,
        history: list[dict[str, str]] | None,
        generator: str | None,
        quick: bool,
    ) -> Iterator[tuple[str, Any]]:
        t0 = time.perf_counter()
        asked = self.check_text(question)
        question = bounded(asked, self.limits.max_query_chars)
        if not 1 <= top_k <= ASK_MAX_TOP_K:
            raise BadInput(f"top_k must be between 1 and {ASK_MAX_TOP_K}")
        name = generator or self.default_generator
        fallback_reason = ""
        try:
            gen = self._generator(name)  # an unknown name fails here, listing the valid ones
        except ConfigError as e:
            if name == "extractive":
                raise
            gen, fallback_reason = self._generator("extractive"), e.message
        retriever = self.library.retriever(collection)
        tok = retriever.tokenizer  # the collection's: its mined dictionary knows the collection's names
        slot.keep = not gen.chats  # no model to wait for: one slot from retrieval to the answer
        t = time.perf_counter()
        with slot:
            query = standalone(question, history or [], tok)
        rewrite_ms: dict[str, float] = {}
        if query == question and is_follow_up(question, history):
            rewritten = self._model_rewrite(gen, question, history or [])
            if rewritten is not None:  # a generator with a model to ask
                query = rewritten
                rewrite_ms["rewrite"] = _ms(t)
        whole, query = query, bounded(query, self.limits.max_query_chars)  # a rewrite may copy an earlier turn in
        cut = ["query_truncated"] if query != whole or question != asked else []
        res, expansion, expand_ms = self._search(retriever, gen, query, max(top_k, self.limits.answer_top_k), slot=slot)
        flags = ["query_expanded"] if expansion else []
        if expand_ms is not None:
            rewrite_ms["expand"] = expand_ms
        hits = res.hits[:top_k]
        # "今年 / 最新 …" are resolved against the documents' dates when the answer is grounded, not looked up as words
        judged = dates.strip_relative(query, dates.relative_time(query)) or query
        with slot:  # the judge reads a ranking that is the same on every host (rag.answerable.RANKING)
            seen = retriever.search(query, top_k, RANKING, expansion=expansion).hits[:top_k]
            verdict = judge(judged, seen, retriever.tokenizer, retriever.data.bm25, retriever.data.documents)
        timings = {**rewrite_ms, "retrieve": res.timings_ms["total"]}
        threshold = self.limits.refuse_below if gen.name == "extractive" else self.limits.llm_refuse_below
        if verdict.confidence < threshold:
            slot.release()
            text = self.prompts.refusal
            yield ("token", text)
            yield ("citations", [])
            timings["total"] = _ms(t0)
            yield (
                "done",
                Answer(
                    text,
                    False,
                    [],
                    query,
                    name,
                    timings,
                    verdict.confidence,
                    ["low_confidence", *flags, *cut] + [f"missing:{t}" for t in verdict.missing_terms[:5]],
                ),
            )
            return
        if quick and gen.name != "extractive" and verdict.confidence >= self.limits.refuse_below:
            quick_gen = self._generator("extractive")
            with slot:
                fast, fast_conflicts = ground(
                    query, quick_gen.generate(query, hits, tok), hits, retriever.data.documents, extractive=True
                )
            if fast.answerable:
                yield (
                    "draft",
                    Answer(
                        fast.text,
                        True,
                        fast.citations,
                        query,
                        "extractive",
                        {**timings, "total": _ms(t0)},
                        verdict.confidence,
                        [*fast.flags, "draft"],
                        fast_conflicts,
                    ),
                )
        if quick and gen.name != "extractive":
            yield ("stage", {"stage": "generate"})  # retrieval is done; the model may take a while to its first token
        t = time.perf_counter()
        draft: Draft | None = None
        draft_is_quote = gen.name == "extractive"
        used = gen.name if not fallback_reason else f"{gen.name} (fallback from {name}: {fallback_reason})"
        try:
            # a chat model's answer is verified with the collection's term statistics, as the extractive one is
            stream = gen.stream(query, hits, tok, retriever.data.bm25)
            if draft_is_quote:  # computed here at once; nothing is sent until it is grounded
                with slot, closing(stream) as pieces:
                    draft = next((p for p in pieces if isinstance(p, Draft)), None)
            else:
                with closing(stream) as pieces:  # closed when our caller stops early: the model stops too
                    for piece in pieces:
                        if isinstance(piece, Draft):
                            draft = piece
                        else:
                            yield ("token", piece)
        except GenerationError as e:  # failed, or ran past its time budget: the extractive answer, with a note why
            if gen.name == "extractive":
                raise
            fallback = self._generator("extractive")
            with slot:
                draft = fallback.generate(query, hits, tok)
            used = f"{fallback.name} (fallback from {name}: {e.message})"
            draft_is_quote = True
            draft.flags = [*draft.flags, f"fallback:{e.code}"]
        assert draft is not None
        timings["generate"] = _ms(t)
        timings.update(draft.stats)
        conflicts: list[dict[str, Any]] = []
        if draft.answerable:  # sources that disagree said so; the year of a "今年 / 最新" figure stated
            with slot:
                draft, conflicts = ground(query, draft, hits, retriever.data.documents, extractive=draft_is_quote)
        else:
            draft = Draft(self.prompts.refusal, [], answerable=False, flags=draft.flags + ["generator_refused"])
        slot.release()
        if draft_is_quote:
            yield ("token", draft.text)
        yield ("citations", [c.to_dict() for c in draft.citations])
        timings["total"] = _ms(t0)
        yield (
            "done",
            Answer(
                draft.text,
                draft.answerable,
                draft.citations,
                query,
                used,
                timings,
                verdict.confidence,
                [*draft.flags, *flags, *cut],
                conflicts,
            ),
        )

    def expanded_search(
        self, query: str, top_k: int, collection: str, generator: str, mode: str = "auto"
    ) -> tuple[SearchResult, list[str], float | None]:
        """Hybrid retrieval as `ask` does it for `generator` with RAG_EXPAND=`mode` (`rag eval --expand`): the result,
        the terms added (none when not expanded) and the expansion call's milliseconds (None when not called)."""
        query = bounded(self.check_text(query, "query"), self.limits.max_query_chars)
        return self._search(self.library.retriever(collection), self._generator(generator), query, top_k, mode)

    def _search(
        self,
        retriever: Retriever,
        gen: Generator,
        query: str,
        top_k: int,
        mode: str | None = None,
        slot: Slot | None = None,
    ) -> tuple[SearchResult, list[str], float | None]:
        """Hybrid retrieval, expanded by the chat model's terms when `_expands` says so: the result, the terms added
        (none when not expanded) and the expansion call's milliseconds (None when not called)."""
        slot = slot or Slot(self.compute)
        with slot:
            res = retriever.search(query, top_k, "hybrid")
        if not self._expands(gen, res, mode):
            return res, [], None
        t = time.perf_counter()
        terms = list(self._expander(gen).terms(query))  # a chat model's call: not a compute slot's
        ms = _ms(t)
        if terms:
            with slot:
                res = retriever.search(query, top_k, "hybrid", expansion=terms)
        return res, terms, ms

    def _expands(self, gen: Generator, res: SearchResult, mode: str | None = None) -> bool:
        """Whether to ask the chat model for the documents' terms: only when it answers (the extractive path stays
        free of model calls), and with RAG_EXPAND=auto only when BM25's best passage matched little of the question."""
        mode = mode or self.limits.expand
        if mode == "off" or not gen.chats:
            return False
        return mode == "always" or res.coverage < WEAK_COVERAGE

    def _expander(self, gen: Generator) -> Expander:
        if gen.name not in self._expanders:
            template = self.prompts.templates["expand"]
            self._expanders[gen.name] = Expander(
                gen.chat_stream,  # piece by piece, so that the call stops at its time bound
                lambda q: expansion_messages(template, q),
            )
        return self._expanders[gen.name]

    def _model_rewrite(self, gen: Generator, question: str, history: list[dict[str, str]]) -> str | None:
        """A follow-up the rules could not resolve, made standalone by the chat model; the question itself on failure;
        None when the generator has no model to ask."""
        prompt = self.prompts.render("rewrite", history=history_text(history), question=question)
        try:
            out = gen.complete([{"role": "user", "content": prompt}], max_tokens=64)
        except GenerationError:
            return question
        return None if out is None else clean_rewrite(out, question, self.limits.max_question_chars)


_PIECE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")


class Slots:
    """A semaphore that serves its waiters first come, first served: release() hands the slot to the oldest waiter
    directly (threading.Semaphore lets a newcomer take it, and a waiter passed over waits again at the back, which
    stretches the slowest answers under load)."""

    def __init__(self, n: int):
        self._free = max(1, n)
        self._lock = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by release(), which passed its slot on to us

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._free += 1

    def __enter__(self) -> Slots:
        self.acquire()
        return self

    def __exit__(self, *_: Any) -> None:
        self.release()


class Slot:
    """One request's claim on Pipeline.compute: `with slot:` around each stretch of its work. With `keep`, the slot the
    first stretch takes stays held until release() (one wait per question, not one per stretch); release it before
    anything is yielded to the caller, who may be slow or gone. An exception releases it."""

    def __init__(self, slots: Slots, keep: bool = False):
        self.slots = slots
        self.keep = keep
        self.held = False

    def __enter__(self) -> Slot:
        if not self.held:
            self.slots.acquire()
            self.held = True
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if not self.keep or kind is not None:
            self.release()

    def release(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()


def bounded(text: str, limit: int) -> str:
    """The question as analysed: all of it within `limit` characters, else its last sentences that fit (a long
    question ends with what it asks), else its last `limit` characters. Tagging, embedding and the judge cost grows
    with the text (a 2,000-character query took ~10 s to embed alone), so the worst request costs a bounded multiple
    of a normal one; the answer's `query` shows what was read and its flags say `query_truncated`."""
    if len(text) <= limit:
        return text
    kept = ""
    for piece in reversed(_PIECE.findall(text)):
        if len(kept) + len(piece) > limit:
            break
        kept = piece + kept
    return kept.strip() or text[-limit:].strip()


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)
