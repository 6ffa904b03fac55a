"""The Generator interface: one required method, `generate`; streaming defaults to one piece."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from rag.types import Citation, Hit


@dataclass
class Draft:
    """A generated answer: text with [n] markers, and the citations those markers point to."""

    text: str
    citations: list[Citation]
    answerable: bool = True
    flags: list[str] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)


class Generator:
    name: str = "base"

    def generate(self, question: str, hits: list[Hit]) -> Draft:  # pragma: no cover - interface
        raise NotImplementedError

    def stream(self, question: str, hits: list[Hit]) -> Iterator[str | Draft]:
        """Yield text pieces as they are produced, then the final Draft."""
        d = self.generate(question, hits)
        yield d.text
        yield d
