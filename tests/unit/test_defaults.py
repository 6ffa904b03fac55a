"""Each request default is stated once (rag.config) and is the one the API contract (docs/api.md) documents: in
/openapi.json, in the pipeline's own signature and in the CLI."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from rag.config import Settings
from tests.helpers import ROOT


def _split_top(body: str) -> list[str]:
    """`a, b: [x, y], c` split on the commas outside brackets and quotes."""
    parts, depth, quoted, cur = [], 0, False, ""
    for ch in body:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "[{":
            depth += 1
        elif not quoted and ch in "]}":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def documented_defaults(route: str) -> dict[str, object]:
    """The `"field": type = default` pairs of a route's request line in docs/api.md."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split(f"### `POST {route}`", 1)[1]
    request = re.search(r"Request: `\{(.*)\}`", section).group(1)
    out = {}
    for part in _split_top(request):
        m = re.fullmatch(r'\s*"(\w+)":\s*(.*?)\s*(?:=\s*(.+?))?\s*', part)
        assert m, part
        if m.group(3) is not None:
            out[m.group(1)] = json.loads(m.group(3))
    return out


@pytest.fixture(scope="module")
def openapi() -> dict:
    from rag.api.app import create_app

    return create_app(Settings(_env_file=None)).openapi()


@pytest.mark.parametrize(("route", "schema"), [("/search", "SearchRequest"), ("/ask", "AskRequest")])
def test_openapi_defaults_are_the_documented_ones(openapi, route, schema) -> None:
    documented = documented_defaults(route)
    assert {"top_k", "collection"} <= documented.keys()
    props = openapi["components"]["schemas"][schema]["properties"]
    assert {k: props[k].get("default") for k in documented} == documented


def test_the_pipeline_cli_and_settings_use_the_same_defaults(openapi) -> None:
    from rag.cli import build_parser
    from rag.pipeline import Pipeline

    search, ask = documented_defaults("/search"), documented_defaults("/ask")
    sig = inspect.signature(Pipeline.search).parameters
    assert (sig["top_k"].default, sig["collection"].default, sig["mode"].default) == (
        search["top_k"],
        search["collection"],
        search["mode"],
    )
    for method in (Pipeline.ask, Pipeline.ask_events):
        sig = inspect.signature(method).parameters
        assert (sig["top_k"].default, sig["collection"].default) == (ask["top_k"], ask["collection"])
    p = build_parser()
    assert p.parse_args(["search", "q"]).top_k == search["top_k"] and p.parse_args(["search", "q"]).mode == "hybrid"
    assert p.parse_args(["ask", "q"]).top_k == ask["top_k"]
    s = Settings(_env_file=None)
    assert s.collection == ask["collection"] == search["collection"] and s.answer_top_k == ask["top_k"]
    chat = openapi["components"]["schemas"]["ChatRequest"]["properties"]
    assert (chat["top_k"]["default"], chat["collection"]["default"]) == (ask["top_k"], ask["collection"])
    params = {
        (path, p["name"]): p.get("schema", {}).get("default")
        for path, ops in openapi["paths"].items()
        for op in ops.values()
        for p in op.get("parameters", [])
    }
    assert params[("/documents", "collection")] == ask["collection"]
