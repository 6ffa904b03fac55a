"""The Generator interface: one required method, `generate`; streaming defaults to one piece, and a generator without
a model to ask completes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.types import Citation, Hit

if TYPE_CHECKING:
    from rag.lexical import BM25Index
    from rag.zh import Tokenizer


@dataclass
class Draft:
    """A generated answer: text with [n] markers, and the citations those markers point to."""

    text: str
    citations: list[Citation]
    answerable: bool = True
    flags: list[str] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)


class Generator:
    """`tokenizer`, where a method takes one: the collection's (its mined dictionary knows the collection's names,
    which the subject and citation checks compare); None: the generator's own."""

    name: str = "base"
    chats: bool = False  # a chat model answers (complete() and chat_stream() reach it)

    def generate(
        self, question: str, hits: list[Hit], tokenizer: Tokenizer | None = None
    ) -> Draft:  # pragma: no cover - interface
        raise NotImplementedError

    def stream(
        self, question: str, hits: list[Hit], tokenizer: Tokenizer | None = None, bm25: BM25Index | None = None
    ) -> Iterator[str | Draft]:
        """Yield text pieces as they are produced, then the final Draft. `bm25`: the collection's term statistics, for
        a generator that verifies a model's text against the collection (the extractive one has its own)."""
        d = self.generate(question, hits, tokenizer)
        yield d.text
        yield d

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 96) -> str | None:
        """The model's reply to chat `messages` (a follow-up question made standalone); None: no model to ask."""
        return None

    def chat_stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str] | None:
        """The model's reply to chat `messages` piece by piece, so a caller can stop it at a time bound (query
        expansion, rag.rewrite); None: no model to ask."""
        return None
