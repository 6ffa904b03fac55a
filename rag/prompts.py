"""Prompt templates as files under prompts/: loaded once, checked for their variables at start-up."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError

# Each template and the variables it must use (and may only use).
REQUIRED: dict[str, set[str]] = {
    "refusal": set(),
    "system": {"refusal"},
    "answer": {"passages", "question"},
    "passage": {"n", "title", "heading", "text"},
    "rewrite": {"history", "question"},
    "expand": {"question"},
}


@dataclass
class Prompts:
    templates: dict[str, str]

    def render(self, name: str, **values: str) -> str:
        return string.Template(self.templates[name]).substitute(values).strip()

    @property
    def refusal(self) -> str:
        return self.render("refusal")

    def system(self) -> str:
        return self.render("system", refusal=self.refusal)


def variables(template: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in re.finditer(r"\$(?:\{(\w+)\}|(\w+))", template.replace("$$", ""))}


def load_prompts(folder: Path, required: dict[str, set[str]] | None = None) -> Prompts:
    required = REQUIRED if required is None else required
    out: dict[str, str] = {}
    for name, need in required.items():
        p = folder / f"{name}.md"
        if not p.exists():
            raise ConfigError(f"prompt template {p} is missing")
        text = p.read_text(encoding="utf-8")
        got = variables(text)
        if got != need:
            raise ConfigError(f"prompt {p} uses variables {sorted(got)}, expected {sorted(need)}")
        out[name] = text
    return Prompts(out)
