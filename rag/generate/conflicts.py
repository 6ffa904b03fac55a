"""Sources that disagree: the retrieved passages state different values for the attribute the question asks of
its subject ("总投资120亿元的华勤千亿产业基地项目" in a news report, 10000000万元 in a bulletin's table).

`find` returns the disagreements; `answer` writes the answer that says so and cites each source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rag.generate import facts
from rag.generate.base import Draft
from rag.generate.cite import chinese_numeral
from rag.types import Citation, Hit
from rag.zh import join_cjk_spaces, norm

# Aspects whose values are amounts that can be compared, and the unit family they are read in.
_MONEY = {"投资", "收入"}
_AREA = {"占地"}
_AREA_VALUE = re.compile(r"(\d+(?:\.\d+)?)\s*(亩|平方公里)")
_AREA_SCALE = {"亩": 1.0, "平方公里": 1500.0}
_LEAD = re.compile(r"^(?:(?:19|20)\d\d年|[，,、的\s])+")
_TOLERANCE = 0.01


@dataclass
class Value:
    value: str  # as the answer writes it: "120亿元", "10000000万元（即1000亿元）"
    amount: float  # comparable across sources (元, or 亩)
    hit_i: int
    start: int  # the span to quote, in document offsets
    end: int


@dataclass
class Conflict:
    subject: str
    attribute: str
    values: list[Value] = field(default_factory=list)

    def to_dict(self, numbering: dict[int, int]) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "attribute": self.attribute,
            "values": [{"value": v.value, "n": numbering[v.hit_i]} for v in self.values],
        }


def subject_and_attribute(question: str) -> tuple[str, str, str]:
    """("华勤千亿产业基地项目", "总投资", "投资") for "华勤千亿产业基地项目总投资多少？"; empty when the question does not
    ask a comparable amount of a named subject."""
    aspect = facts.asked_aspect(question)
    if aspect not in _MONEY | _AREA:
        return "", "", ""
    q = re.sub(r"\s+", "", question)  # as asked (not lowercased: the subject is shown)
    cues, _ = facts.aspect_words(aspect)
    i, cue = min((q.find(c), c) for c in cues if c in q)
    attribute = cue
    if i > 0 and q[i - 1] == "总" and not cue.startswith("总"):
        i, attribute = i - 1, "总" + cue
    subject = _LEAD.sub("", q[:i]).rstrip("的")
    return (subject, attribute, aspect) if len(subject) >= 4 else ("", "", "")


def _amount(aspect: str, text: str) -> tuple[str, float] | None:
    if aspect in _MONEY:
        m = facts._AMOUNT.search(text)
        return (m.group(1) + m.group(2), float(m.group(1)) * facts._SCALE[m.group(2)]) if m else None
    m = _AREA_VALUE.search(text)
    return (m.group(1) + m.group(2), float(m.group(1)) * _AREA_SCALE[m.group(2)]) if m else None


_SUFFIX = re.compile(r"(?:建设项目|项目|工程|[（(][^()（）]*[)）])+$")


def same_project(name: str, subject: str) -> bool:
    """A row's name and the question's subject name one project: equal once 项目 / 工程 / "(一期)" are set aside, or
    the subject holds the whole name ("南昌VR科创城" and "VR 科创城"; not "南昌 VR 科创城智慧城市建设项目")."""
    a, b = _SUFFIX.sub("", norm(name)), _SUFFIX.sub("", norm(subject))
    return bool(a) and len(a) >= 2 and (a == b or a in b)


def _row_value(h: Hit, i: int, subject: str, aspect: str) -> Value | None:
    c = h.chunk
    header = c.context.split("\n", 1)[0].split("\t") if c.context else []
    cells = c.text.split("\t")
    if len(header) != len(cells):
        return None
    name_i = next((k for k, hd in enumerate(header) if "名称" in hd), 1 if len(cells) > 1 else 0)
    if not same_project(cells[name_i], subject):
        return None
    col = facts.column_for(aspect, header)
    if col is not None and re.fullmatch(r"[0-9.]+", cells[col].strip()):
        m = re.search(r"[（(]([^()（）]+)[)）]", header[col])
        unit = m.group(1).strip() if m else ""
        if aspect in _MONEY and unit in facts._SCALE:
            v = cells[col].strip()
            return Value(facts.with_spoken(v, unit), float(v) * facts._SCALE[unit], i, c.start, c.end)
    return None


def _text_values(h: Hit, i: int, subject: str, aspect: str) -> list[Value]:
    """Values stated in a clause that names the subject and the attribute ("总投资120亿元的华勤千亿产业基地项目")."""
    cues, _ = facts.aspect_words(aspect)
    out: list[Value] = []
    text = h.chunk.text
    core = _SUFFIX.sub("", norm(subject))
    if core not in facts._norm(text):  # the passage never names the subject: no clause of it can
        return out
    pos = 0
    for piece in re.split(r"(?<=[，,、；;。！？\n])", text):
        a, pos = pos, pos + len(piece)
        p = norm(join_cjk_spaces(piece))
        if core not in p or facts.is_question(piece):
            continue
        for cue in cues:
            j = p.find(norm(cue))
            if j < 0:
                continue
            got = _amount(aspect, p[j : j + len(cue) + 14])
            if got:
                # quote the clause as it stands in the document
                s, e = a, a + len(piece.rstrip("，,、；;。 \n"))
                out.append(Value(got[0], got[1], i, h.chunk.start + s, h.chunk.start + e))
                break
    return out


def find(question: str, hits: list[Hit]) -> list[Conflict]:
    """The asked attribute of the asked subject, where the passages give different values (one value per passage)."""
    subject, attribute, aspect = subject_and_attribute(question)
    if not subject:
        return []
    values: list[Value] = []
    for i, h in enumerate(hits):
        if h.chunk.kind == "table_row" and "\t" in h.chunk.text:
            v = _row_value(h, i, subject, aspect)
            found = [v] if v else []
        else:
            found = _text_values(h, i, subject, aspect)
        if found and all(x.hit_i != i for x in values):
            values.append(found[0])
    distinct: list[Value] = []
    for v in values:
        if all(abs(v.amount - d.amount) > _TOLERANCE * max(v.amount, d.amount) for d in distinct):
            distinct.append(v)
    return [Conflict(subject, attribute, distinct)] if len(distinct) >= 2 else []


def answer(conflict: Conflict, hits: list[Hit]) -> tuple[Draft, dict[str, Any]]:
    """ "两份文档说法不同：《A》称…120亿元[1]；《B》为10000000万元（即1000亿元）[2]。" with a citation per source, and the
    `conflicts` item of the response."""
    numbering = {v.hit_i: n for n, v in enumerate(conflict.values, 1)}
    docs = {hits[v.hit_i].chunk.doc_id for v in conflict.values}
    head = f"{_count(len(docs))}份文档说法不同" if len(docs) > 1 else "文档中说法不同"
    parts, citations = [], []
    for v in conflict.values:
        h, n = hits[v.hit_i], numbering[v.hit_i]
        title = h.title if len(h.title) <= 30 else h.title[:29] + "…"
        parts.append(f"《{title}》中{conflict.subject}{conflict.attribute}为{v.value}[{n}]")
        c = h.chunk
        citations.append(Citation(n, h, c.text[v.start - c.start : v.end - c.start], v.start, v.end))
    text = f"{head}：" + "；".join(parts) + "。"
    return Draft(text, citations, flags=["conflict"]), conflict.to_dict(numbering)


def _count(n: int) -> str:
    return "两" if n == 2 else chinese_numeral(n)
