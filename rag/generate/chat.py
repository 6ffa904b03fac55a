"""Generators that ask a chat model: the prompt from prompts/, streaming, then citation verification.

Backends implement one method, `_chat(messages, max_tokens)`, yielding text pieces.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import closing

from rag.config import default
from rag.errors import GenerationError, GenerationTimeout
from rag.generate.base import Draft, Generator
from rag.generate.cite import verify
from rag.generate.dates import years
from rag.generate.facts import (
    ASKS_WHEN,
    ASKS_YEAR,
    DATE,
    MEASURE,
    WHEN,
    asks_figure,
    has_figure,
    same_measure,
    without,
)
from rag.lexical import BM25Index
from rag.prompts import Prompts
from rag.types import Hit
from rag.zh import Tokenizer, norm, numbers, sentence_spans

_ASKS_OVERVIEW = re.compile(r"概括|总结|介绍|哪些|哪几|主要内容|分别|如何|怎样")
_REFERS_BACK = re.compile(r"\s*(?:该|此|其|这|上述|以上|前述|同时|此外|另外)")


class ChatGenerator(Generator):
    chats = True

    def __init__(
        self,
        prompts: Prompts,
        tokenizer: Tokenizer,
        max_tokens: int = default("llm_max_tokens"),
        passages: int = default("llm_passages"),
        context_chars: int = default("llm_context_chars"),
        timeout_s: float = default("llm_timeout_s"),
    ):
        self.prompts = prompts
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.passages = passages
        self.context_chars = context_chars
        self.timeout_s = timeout_s
        self.last_usage: dict[str, float] = {}

    def _chat(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def messages(self, question: str, hits: list[Hit], tokenizer: Tokenizer | None = None) -> list[dict[str, str]]:
        """System rules first (a fixed prefix the model's KV cache keeps), then the numbered, quoted passages,
        each cut to the sentences about the question so the prompt (and time to first token) stays small."""
        blocks = []
        shown = hits[: self.passages]
        terms = (tokenizer or self.tokenizer).keywords(question)
        for i, h in enumerate(shown, 1):
            # the best passage gets twice the room of the others
            room = self.context_chars * (2 if i == 1 else 1) // (len(shown) + 1)
            text = (h.chunk.context + "\n" if h.chunk.context else "") + excerpt(h.chunk.text, terms, room)
            heading = f"（{h.chunk.heading.split(' > ')[-1]}）" if h.chunk.heading else ""
            title = h.title if len(h.title) <= 30 else h.title[:29] + "…"  # long official titles cost prompt time
            blocks.append(
                self.prompts.render(
                    "passage", n=str(i), title=title, heading=heading, text=text.replace("」", "』").replace("「", "『")
                )
            )
        user = self.prompts.render("answer", passages="\n\n".join(blocks), question=question)
        return [{"role": "system", "content": self.prompts.system()}, {"role": "user", "content": user}]

    def stream(
        self, question: str, hits: list[Hit], tokenizer: Tokenizer | None = None, bm25: BM25Index | None = None
    ) -> Iterator[str | Draft]:
        """As Generator.stream; `bm25`: the collection's term statistics, for the verifier (see check)."""
        msgs = self.messages(question, hits, tokenizer)
        t0 = time.perf_counter()
        ttft = None
        pieces: list[str] = []
        with closing(self._chat(msgs, self.max_tokens)) as chat:  # stopped and unlocked at once on timeout or close
            for piece in chat:
                if ttft is None:
                    ttft = (time.perf_counter() - t0) * 1000
                pieces.append(piece)
                yield piece
                if time.perf_counter() - t0 > self.timeout_s:
                    raise GenerationTimeout(f"{self.name} took longer than its {self.timeout_s:g} s budget")
        if ttft is None:
            raise GenerationError(f"{self.name} returned no text")
        gen_s = time.perf_counter() - t0
        usage = dict(self.last_usage)  # read at once: one instance serves every request, and the next sets it again
        draft = self.check("".join(pieces), question, hits, tokenizer, bm25)
        stats = {"ttft": round(ttft, 1), "llm": round(gen_s * 1000, 1), **usage}
        if usage.get("completion_tokens") and gen_s * 1000 > ttft:
            stats["tokens_per_s"] = round(usage["completion_tokens"] / max(gen_s - ttft / 1000, 1e-3), 1)
        draft.stats = stats
        yield draft

    def check(
        self,
        text: str,
        question: str,
        hits: list[Hit],
        tokenizer: Tokenizer | None = None,
        bm25: BM25Index | None = None,
    ) -> Draft:
        """The model's text, its citations verified against the passages it was shown. `bm25`: the collection's term
        statistics, so that "the documents use the noun asked" is the collection's answer, as on the extractive path
        (without them, the passages shown decide)."""
        limit = 0 if _ASKS_OVERVIEW.search(question) else 120
        draft = verify(
            text, hits[: self.passages], tokenizer or self.tokenizer, max_chars=limit, question=question, bm25=bm25
        )
        if draft.answerable and not states_figure(question, draft.text):
            # "how many / how much" answered without any figure: the passages do not give it
            draft = Draft("", [], answerable=False, flags=draft.flags + ["no_figure"])
        return draft

    def generate(self, question: str, hits: list[Hit], tokenizer: Tokenizer | None = None) -> Draft:
        draft = None
        for piece in self.stream(question, hits, tokenizer):
            if isinstance(piece, Draft):
                draft = piece
        assert draft is not None
        return draft

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 96) -> str | None:
        return "".join(self._chat(messages, max_tokens)).strip()

    def chat_stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str] | None:
        return self._chat(messages, max_tokens)


def states_figure(question: str, answer: str) -> bool:
    """The answer states what kind of thing is asked: a time for "什么时候", a year for "哪一年", and a figure for
    "how much / how many", other than the question's own numbers and other than a date unless a time is asked
    ("到2025年…逐年上升" does not say how much), in the measure word asked."""
    answer = re.sub(r"\[\d+\]", "", answer)
    if ASKS_WHEN.search(question) and not WHEN.search(answer):
        return False  # "什么时候" is answered by a time
    if ASKS_YEAR.search(question) and not (years(answer) - years(question)):
        return False  # "哪一年" by a year
    if not asks_figure(question):
        return True
    own = without(answer, sorted(numbers(question), key=len, reverse=True))
    if not has_figure(own if ASKS_YEAR.search(question) or ASKS_WHEN.search(question) else DATE.sub(" ", own)):
        return False
    m = MEASURE.search(question)
    if not m:
        return True
    # "多少名员工" is answered by so many 名 (or 人, 位), not by "40条" of something else
    said = "|".join(same_measure(m.group(1)))
    return bool(re.search(rf"(?:\d|[一二两三四五六七八九十百千万亿])\s*(?:余|多)?\s*(?:{said})", own))


def excerpt(text: str, terms: list[str], budget: int) -> str:
    """The run of whole sentences of `text` about the question's terms, within `budget` characters: the shortest run
    holding the most of the terms (longer terms and figures count more; a run, so that "该项目投资50亿元" keeps the
    sentence before it naming the project), widened to its neighbours while it fits."""
    spans = sentence_spans(text)
    if len(text) <= budget or not spans:
        return text[:budget]
    hay = [norm(text[a:b]) for a, b in spans]
    weight = {t: (3.0 if any(ch.isdigit() for ch in t) else float(min(len(t), 4))) for t in terms}
    found = [{t for t in weight if norm(t) in h} for h in hay]
    best_key, lo, hi = None, 0, 0
    for a in range(len(spans)):
        covered: set[str] = set()
        for b in range(a, len(spans)):
            if b > a and spans[b][1] - spans[a][0] > budget:
                break
            covered |= found[b]
            key = (sum(weight[t] for t in covered), -(spans[b][1] - spans[a][0]), -a)
            if best_key is None or key > best_key:
                best_key, lo, hi = key, a, b
    step = 0
    while True:
        # neighbours after and before in turn, the one after first (figures often follow the sentence naming the
        # topic), unless the run opens with a reference back ("该项目投资50亿元"): then the sentence naming what it is
        after_first = step % 2 == 0 and not _REFERS_BACK.match(text, spans[lo][0])
        for j in (hi + 1, lo - 1) if after_first else (lo - 1, hi + 1):
            if 0 <= j < len(spans) and spans[max(hi, j)][1] - spans[min(lo, j)][0] <= budget:
                lo, hi = min(lo, j), max(hi, j)
                break
        else:
            return text[spans[lo][0] : spans[hi][1]][:budget]
        step += 1
