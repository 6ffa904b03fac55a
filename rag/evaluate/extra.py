"""The `eval` extra: `rag eval` and `rag bench` need libraries a core install (`pip install rag-zh`) leaves out.

Each library is imported inside the function that uses it; the entry points check up front, so a missing extra
fails at once with the command to install it instead of an ImportError after minutes of work.
"""

from __future__ import annotations

import importlib.util

from rag.errors import MissingExtra

# top-level module -> distribution, for the message
REPORTS = {"ranx": "ranx", "matplotlib": "matplotlib"}
COMPARE = {
    "langchain_community": "langchain-community",
    "langchain_classic": "langchain-classic",
    "langchain_text_splitters": "langchain-text-splitters",
    "rank_bm25": "rank-bm25",
}


def missing(modules: dict[str, str]) -> list[str]:
    """The distributions of `modules` that cannot be imported."""
    out = []
    for module, dist in modules.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent that fails to import, or a module blocked in sys.modules
            found = False
        if not found:
            out.append(dist)
    return out


def require_eval(compare: bool = False) -> None:
    """Raise MissingExtra unless the report libraries (and, with `compare`, the reference pipelines') import."""
    gone = missing({**REPORTS, **(COMPARE if compare else {})})
    if gone:
        raise MissingExtra(
            f"`rag eval` and `rag bench` need the eval extra ({', '.join(gone)} not installed): "
            "pip install 'rag-zh[eval]'"
        )
