"""Fit the answerability model (rag/answerable.py) on the project's QA set and write rag/data/answerable.json.

Usage: python -m rag.evaluate.calibrate [eval/qa.jsonl] [--collection default] [--dry-run]

For every QA item the question is searched exactly as /ask searches it, the judge's features are computed on the
passages /ask would see, and a logistic regression (features standardised, classes balanced, L2) learns
"answerable" from them. The weights are written back in the features' own units. Leave-one-out predictions give
the figures printed (and stored) for each refusal threshold, so the threshold in the settings can be picked on
held-out numbers rather than on the fitted ones.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.answerable import FEATURES, evidence
from rag.zh import data_file

C = 1.0  # inverse L2 strength, chosen by leave-one-out on the seeds QA set (0.3, 1 and 3 tried)
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.325, 0.35, 0.4, 0.45, 0.5)


def features(components: Any, qa: Path, collection: str, names: tuple[str, ...] = FEATURES,  # noqa: ANN401
             ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The judge's features for every QA item, on the passages /ask would see, and 1 for answerable items."""
    retriever = components.library.retriever(collection)
    k = components.settings.answer_top_k
    rows, labels, ids = [], [], []
    for line in qa.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        hits = retriever.search(item["question"], k, "hybrid").hits[:k]
        j = evidence(item["question"], hits, retriever.tokenizer, retriever.data.bm25, retriever.data.documents)
        rows.append([j.features[f] for f in names])
        labels.append(0 if item["type"] == "unanswerable" else 1)
        ids.append(item["id"])
    return np.array(rows, dtype=float), np.array(labels), ids


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and bias in the features' own units."""
    from sklearn.linear_model import LogisticRegression

    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1.0
    m = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit((x - mu) / sd, y)
    w = m.coef_[0] / sd
    return w, float(m.intercept_[0] - (m.coef_[0] * mu / sd).sum())


def leave_one_out(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.zeros(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        w, b = fit(x[keep], y[keep])
        p[i] = 1 / (1 + np.exp(-(x[i] @ w + b)))
    return p


def figures(p: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
    """Per threshold: share of unanswerable refused, share of answerable refused (a refusal is p < threshold)."""
    return [{"refuse_below": t, "unanswerable_refused": round(float((p[y == 0] < t).mean()), 3),
             "false_refusal": round(float((p[y == 1] < t).mean()), 3)} for t in THRESHOLDS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("qa", nargs="?", default="eval/qa.jsonl", type=Path)
    ap.add_argument("--collection", default="default")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write rag/data/answerable.json")
    a = ap.parse_args()
    from rag.config import Settings
    from rag.factory import Components

    x, y, _ = features(Components(Settings()), a.qa, a.collection)
    w, b = fit(x, y)
    loo = figures(leave_one_out(x, y), y)
    fitted = figures(1 / (1 + np.exp(-(x @ w + b))), y)
    print(f"{len(y)} items, {int((y == 0).sum())} unanswerable")
    print("threshold  held-out refused / false refusals   fitted refused / false refusals")
    for h, f in zip(loo, fitted, strict=True):
        print(f"  {h['refuse_below']:.2f}     {h['unanswerable_refused']:.3f} / {h['false_refusal']:.3f}"
              f"                  {f['unanswerable_refused']:.3f} / {f['false_refusal']:.3f}")
    out = {"weights": {f: round(float(v), 4) for f, v in zip(FEATURES, w, strict=True)}, "bias": round(b, 4),
           "fitted_on": str(a.qa), "n": len(y), "n_unanswerable": int((y == 0).sum()), "C": C,
           "fitted_at": time.strftime("%Y-%m-%d"), "leave_one_out": loo, "in_sample": fitted}
    print(json.dumps(out["weights"], ensure_ascii=False), "bias", out["bias"])
    if not a.dry_run:
        path = data_file("answerable.json")
        path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
