"""Domain types shared by every stage. Request/response schemas live in rag.api.schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class Document:
    doc_id: str
    source: str
    title: str
    text: str  # the cleaned text that every offset points into
    meta: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    # a stub is known by its file and content hash only (rag.distributed.FileDoc): the engine indexing it reads its text
    stub: ClassVar[bool] = False


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    text: str  # == document.text[start:end]
    start: int
    end: int
    heading: str = ""
    context: str = ""  # e.g. a table's header line, indexed with the chunk but not part of its span
    kind: str = "text"  # text | table_row
    page: int | None = None
    # the place names of heading, document title and text (rag.generate.subject.passage_places), found once at index
    # time; None for a passage of an index built before they were stored: found when first needed
    places: tuple[str, ...] | None = None

    def index_text(self, title: str = "") -> str:
        """What the embedder and BM25 see: title, heading path, table header, then the passage."""
        parts = [p for p in (title, self.heading, self.context, self.text) if p]
        return "\n".join(parts)


@dataclass
class Hit:
    chunk: Chunk
    score: float
    source: str = ""
    title: str = ""
    rank: int = 0
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        out = {
            "rank": self.rank,
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "source": self.source,
            "title": self.title,
            "heading": c.heading,
            "text": c.text,
            "start": c.start,
            "end": c.end,
            "score": round(float(self.score), 6),
        }
        if c.context:
            out["context"] = c.context
        if c.page is not None:
            out["page"] = c.page
        return out


@dataclass
class Citation:
    n: int
    hit: Hit
    quote: str
    quote_start: int
    quote_end: int

    def to_dict(self) -> dict[str, Any]:
        d = self.hit.to_dict()
        d.pop("rank", None)
        return {
            "n": self.n,
            **{k: d[k] for k in ("chunk_id", "doc_id", "source", "title", "heading", "text")},
            "quote": self.quote,
            "quote_start": self.quote_start,
            "quote_end": self.quote_end,
            **{k: v for k, v in d.items() if k in ("start", "end", "score", "page", "context")},
        }


@dataclass
class Answer:
    answer: str
    answerable: bool
    citations: list[Citation]
    query: str
    generator: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0
    flags: list[str] = field(default_factory=list)
    # sources that disagree: {"subject", "attribute", "values": [{"value", "n"}]}, n the citation number
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "answerable": self.answerable,
            "citations": [c.to_dict() for c in self.citations],
            "query": self.query,
            "generator": self.generator,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "confidence": round(self.confidence, 4),
            "flags": self.flags,
            "conflicts": self.conflicts,
        }
