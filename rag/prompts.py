"""Prompt templates as files under prompts/: loaded once, checked for their variables at start-up.

`pip install` copies prompts/*.md to <prefix>/share/rag-zh/prompts (pyproject's data-files), where the default
relative `prompts` folder is looked for when the working directory has none (an install run outside the repository).
"""

from __future__ import annotations

import re
import string
import sysconfig
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


def installed_prompts() -> Path:
    """Where `pip install` puts the repository's prompts/*.md."""
    return Path(sysconfig.get_path("data")) / "share" / "rag-zh" / "prompts"


def prompts_folder(folder: Path) -> Path:
    """`folder`, unless it is a relative path that does not exist here and the installed copy does."""
    if folder.is_dir() or folder.is_absolute() or not installed_prompts().is_dir():
        return folder
    return installed_prompts()


def load_prompts(folder: Path, required: dict[str, set[str]] | None = None) -> Prompts:
    required = REQUIRED if required is None else required
    folder = prompts_folder(folder)
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
