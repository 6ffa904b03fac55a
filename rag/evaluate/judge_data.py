"""What the answerability judge is fitted on (rag.evaluate.calibrate): the judge's features of every QA item, computed
on the passages /ask's judge reads, the labels, and with `synthetic` the unanswerable questions made from dev items."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answerable import FEATURES, RANKING, evidence
from rag.generate.extractive import ExtractiveGenerator


@dataclass
class Dataset:
    x: np.ndarray
    y: np.ndarray
    ids: list[str]
    splits: list[str]
    groups: list[str]  # the item a synthetic question was made from; its own id otherwise
    synthetic: list[str]  # the kind of swap ("year", "place" …), "" for a real item
    own_refusal: np.ndarray  # the extractive generator refuses on its own (whatever the judge says)
    origins: list[str] = field(default_factory=list)  # the batch an item was written in (a made one: its source's)


def load(qa: Path) -> list[dict]:
    return [json.loads(line) for line in qa.read_text(encoding="utf-8").splitlines() if line.strip()]


def dataset(components: Any, qa: Path, collection: str, synthetic: bool = True) -> Dataset:
    """The features of every QA item and, with `synthetic`, of the unanswerable questions made from the answerable
    dev items (split "dev")."""
    items = load(qa)
    made: list[dict] = []
    if synthetic:
        from rag.evaluate import unanswerable

        data = components.library.retriever(collection).data
        tokenizer = components.library.retriever(collection).tokenizer
        places, names = unanswerable.candidates([d.text for d in data.documents.values()], tokenizer)
        dev = [it for it in items if it.get("split") == "dev"]
        made = unanswerable.synthesize(dev, unanswerable.corpus_of(data), tokenizer, data.bm25.idf, places, names)
    x, y, ids, splits, own = _features(components, items + made, collection, FEATURES, extractive=True)
    groups = [str(it.get("source") or it["id"]) for it in items + made]
    kinds = [str(it.get("synthetic") or "") for it in items + made]
    origin = {str(it["id"]): str(it.get("origin") or "original") for it in items}
    origins = [origin.get(str(it.get("source") or it["id"]), "original") for it in items + made]
    return Dataset(x, y, ids, splits, groups, kinds, own, origins)


def _features(
    components: Any,
    items: list[dict],
    collection: str,
    names: tuple[str, ...] = FEATURES,
    extractive: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[str], list[str], np.ndarray]:
    retriever = components.library.retriever(collection)
    k = components.settings.answer_top_k
    dense = components.embedder if components.settings.extractive_dense else None  # as /ask's (rag.factory)
    gen = ExtractiveGenerator(retriever.tokenizer, lambda: retriever.data.bm25, dense) if extractive else None
    rows, labels, ids, splits, own = [], [], [], [], []
    for item in items:
        hits = retriever.search(item["question"], k, "hybrid").hits[:k]
        seen = retriever.search(item["question"], k, RANKING).hits[:k]  # what /ask's judge reads
        j = evidence(item["question"], seen, retriever.tokenizer, retriever.data.bm25, retriever.data.documents)
        rows.append([j.features[f] for f in names])
        labels.append(0 if item["type"] == "unanswerable" else 1)
        ids.append(item["id"])
        splits.append(str(item.get("split") or ""))
        own.append(bool(gen) and not gen.generate(item["question"], hits).answerable)
    return np.array(rows, dtype=float), np.array(labels), ids, splits, np.array(own, dtype=bool)
