"""Held-out discipline: QA items carry `"split": "dev" | "test"` (and some test items `"origin": "independent"`).

Weights, thresholds, rules and prompts are tuned on dev only; test is reported. Every figure of `rag eval` is given for
all items (the report's top-level keys, as before) and again per part in `by_split`: `dev`, `test`, and within test
the `independent` items (questions written by people who had not seen the pipeline's failures).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from typing import Any

SPLITS = ("dev", "test")
PARTS = ("dev", "test", "independent")  # the columns of the reports, in this order
CHOICES = ("all", *SPLITS)


def split_of(item: dict[str, Any]) -> str:
    """The item's split; an item without one belongs to no part (it still counts in "all")."""
    return str(item.get("split") or "")


def is_independent(item: dict[str, Any]) -> bool:
    return split_of(item) == "test" and item.get("origin") == "independent"


def in_part(item: dict[str, Any], part: str) -> bool:
    if part == "all":
        return True
    if part == "independent":
        return is_independent(item)
    return split_of(item) == part


def select(items: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    """The items of one split ("all", "dev" or "test"; test includes its independent items)."""
    if split not in CHOICES:
        from rag.errors import BadInput

        raise BadInput(f"unknown split {split!r}; choose one of {', '.join(CHOICES)}")
    return [it for it in items if in_part(it, split)]


def parts(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The non-empty parts among dev, test and independent, in that order."""
    out = {p: [it for it in items if in_part(it, p)] for p in PARTS}
    return {p: v for p, v in out.items() if v}


def stratified(
    items: list[dict[str, Any]],
    n: int,
    key: Callable[[dict[str, Any]], Hashable] = lambda it: it.get("type", "factoid"),
) -> list[dict[str, Any]]:
    """A fixed subset of n items taken round-robin over the strata (`key`, the type by default), each stratum's items
    at an even stride in file order: the same subset every run, spread over the whole file."""
    strata: dict[Hashable, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        strata[key(it)].append(it)
    if n >= len(items):
        return sorted(items, key=lambda it: it["id"])
    # share the n picks over the strata in proportion to their sizes (largest remainders), at least one each
    # while picks last
    order = sorted(strata, key=str)
    quota = {s: n * len(strata[s]) // len(items) for s in order}
    for s in sorted(order, key=lambda s: (-(n * len(strata[s]) % len(items)), str(s))):
        if sum(quota.values()) >= n:
            break
        quota[s] += 1
    for s in order:  # every stratum represented when n allows: take from the largest quotas
        if quota[s] == 0 and n >= len(order):
            donor = max(order, key=lambda d: (quota[d], str(d)))
            quota[donor] -= 1
            quota[s] = 1
    out: list[dict[str, Any]] = []
    for s in order:
        q, k = strata[s], min(quota[s], len(strata[s]))
        out += [q[int(i * len(q) / k)] for i in range(k)] if k else []
    return sorted(out, key=lambda it: it["id"])


def origin_of(item: dict[str, Any]) -> str:
    """Who wrote the item (its "origin": independent, fresh-dev, holdout …); "original" for the set's first items."""
    return str(item.get("origin") or "original")


def doc_key(item: dict[str, Any]) -> str:
    doc = item.get("doc")
    if isinstance(doc, str):
        return doc
    return "(several documents)" if doc else "(none: unanswerable)"
