"""Follow-up questions made standalone before retrieval ("那赣州呢？" after a question about 南昌).

Rules first, no model call: a follow-up that names a new place, organisation or year swaps it for the same kind of
thing in the previous question; a pronoun (它、其、该项目 …) is replaced by the previous question's subject. A
follow-up the rules leave unchanged is rewritten by the chat model with prompts/rewrite.md (pipeline.py).
"""

from __future__ import annotations

import re

from rag.zh import Tokenizer, numbers

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
