"""The Generator interface: one required method, `generate`; streaming defaults to one piece."""

from __future__ import annotations

import copy
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

    def with_tokenizer(self, tokenizer: object) -> Generator:
        """This generator reading a collection's passages with that collection's tokenizer (its mined dictionary knows
        the collection's names, which the subject and citation checks compare); itself when it holds no tokenizer."""
        if getattr(self, "tokenizer", None) is None or self.tokenizer is tokenizer:  # type: ignore[attr-defined]
            return self
        g = copy.copy(self)  # shallow: the model and caches are shared
        g.tokenizer = tokenizer  # type: ignore[attr-defined]
        return g

    def stream(self, question: str, hits: list[Hit]) -> Iterator[str | Draft]:
        """Yield text pieces as they are produced, then the final Draft."""
        d = self.generate(question, hits)
        yield d.text
        yield d
