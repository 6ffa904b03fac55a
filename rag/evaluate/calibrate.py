"""Fit the answerability model (rag/answerable.py) on the dev part of the QA set, choose both refusal thresholds by
cross-validation on dev, and write rag/data/answerable.json.

Usage: python -m rag.evaluate.calibrate [eval/qa.jsonl] [--collection default] [--dry-run]

The one command to run after anything that changes retrieval or the judge's features (it reads the index in
RAG_INDEX_DIR, so index first; the committed weights are checked against a refit by tests/e2e/test_quality.py).

For every dev item the question is searched exactly as /ask searches it, the judge's features are computed on the
passages /ask would see, and a logistic regression (features standardised, classes balanced, L2) learns
"answerable" from them; the weights are written back in the features' own units. The L2 strength and the two
thresholds are chosen on out-of-fold predictions (stratified k-fold, repeated with fixed seeds) on dev only:
- C: the lowest cross-validated log loss among CS;
- each threshold: the one refusing the most unanswerable dev items among those whose cross-validated false-refusal
  rate stays within its budget (BUDGETS), the lowest such threshold on ties.
The test part is then scored with the dev-fitted model and printed (and stored) for the record: it never chooses
anything.
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

CS = (0.3, 1.0, 3.0)  # inverse L2 strengths tried
THRESHOLDS = (0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.275, 0.3, 0.325, 0.35, 0.4, 0.45, 0.5)
FOLDS, REPEATS = 5, 10
# Share of answerable dev items the judge alone may refuse (cross-validated), per generator. Issue 14's ceilings on
# false refusals are 0.10 (extractive) and 0.08 (LLM); the extractive generator almost never refuses on its own,
# the local LLM refuses about 0.03 of answerable questions itself; and 0.02 is kept for the step from dev to
# questions nobody tuned for.
BUDGETS = {"refuse_below": 0.08, "llm_refuse_below": 0.03}


def features(
    components: Any,
    qa: Path,
    collection: str,
    names: tuple[str, ...] = FEATURES,
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """The judge's features for every QA item on the passages /ask would see, 1 for answerable items, the ids and
    the splits."""
    retriever = components.library.retriever(collection)
    k = components.settings.answer_top_k
    rows, labels, ids, splits = [], [], [], []
    for line in qa.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        hits = retriever.search(item["question"], k, "hybrid").hits[:k]
        j = evidence(item["question"], hits, retriever.tokenizer, retriever.data.bm25, retriever.data.documents)
        rows.append([j.features[f] for f in names])
        labels.append(0 if item["type"] == "unanswerable" else 1)
        ids.append(item["id"])
        splits.append(str(item.get("split") or ""))
    return np.array(rows, dtype=float), np.array(labels), ids, splits


def fit(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights and bias in the features' own units."""
    from sklearn.linear_model import LogisticRegression

    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1.0
    m = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit((x - mu) / sd, y)
    w = m.coef_[0] / sd
    return w, float(m.intercept_[0] - (m.coef_[0] * mu / sd).sum())


def prob(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w + b)))


def cross_validated(x: np.ndarray, y: np.ndarray, c: float, folds: int = FOLDS, repeats: int = REPEATS) -> np.ndarray:
    """Out-of-fold probabilities, one row per repeat (stratified k-fold, seeds 0..repeats-1)."""
    from sklearn.model_selection import StratifiedKFold

    k = max(2, min(folds, int(min(np.bincount(y, minlength=2)))))
    out = np.zeros((repeats, len(y)))
    for r in range(repeats):
        for train, held in StratifiedKFold(k, shuffle=True, random_state=r).split(x, y):
            w, b = fit(x[train], y[train], c)
            out[r, held] = prob(x[held], w, b)
    return out


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Class-balanced log loss (the fit balances the classes too)."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(np.mean([-np.log(p[..., y == 1]).mean(), -np.log(1 - p[..., y == 0]).mean()]))


def figures(p: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
    """Per threshold: share of unanswerable refused, share of answerable refused (a refusal is p < threshold);
    `p` may hold several rows (repeats), averaged."""
    p = np.atleast_2d(p)
    return [
        {
            "threshold": t,
            "unanswerable_refused": round(float((p[:, y == 0] < t).mean()), 3),
            "false_refusal": round(float((p[:, y == 1] < t).mean()), 3),
        }
        for t in THRESHOLDS
    ]


def choose(cv: list[dict[str, float]], budget: float) -> float:
    """The threshold refusing the most unanswerable items among those within the false-refusal budget (the lowest on
    ties); the lowest threshold when none is within it."""
    ok = [f for f in cv if f["false_refusal"] <= budget]
    if not ok:
        return min(f["threshold"] for f in cv)
    best = max(f["unanswerable_refused"] for f in ok)
    return min(f["threshold"] for f in ok if f["unanswerable_refused"] == best)


def calibrate(x: np.ndarray, y: np.ndarray, splits: list[str]) -> dict[str, Any]:
    """Everything answerable.json holds except provenance: C, weights and thresholds from dev, test figures beside."""
    dev = np.array([s == "dev" for s in splits])
    test = np.array([s == "test" for s in splits])
    if not dev.any():
        from rag.errors import BadInput

        raise BadInput('no item has "split": "dev": the model is fitted on dev items only')
    xd, yd = x[dev], y[dev]
    losses = {c: log_loss(cross_validated(xd, yd, c), yd) for c in CS}
    c = min(CS, key=lambda k: (round(losses[k], 4), -k))
    cv = figures(cross_validated(xd, yd, c), yd)
    thresholds = {name: choose(cv, budget) for name, budget in BUDGETS.items()}
    w, b = fit(xd, yd, c)
    out: dict[str, Any] = {
        "weights": {f: round(float(v), 4) for f, v in zip(FEATURES, w, strict=True)},
        "bias": round(b, 4),
        "thresholds": thresholds,
        "C": c,
        "cv_log_loss": {str(k): round(v, 4) for k, v in losses.items()},
        "n": int(dev.sum()),
        "n_unanswerable": int((yd == 0).sum()),
        "folds": FOLDS,
        "repeats": REPEATS,
        "budgets": BUDGETS,
        "cross_validated": cv,
        "in_sample": figures(prob(xd, w, b), yd),
    }
    if test.any():
        out["test"] = {
            "n": int(test.sum()),
            "n_unanswerable": int((y[test] == 0).sum()),
            "figures": figures(prob(x[test], w, b), y[test]),
        }
    return out


def print_figures(cal: dict[str, Any]) -> None:
    chosen = {v: k for k, v in cal["thresholds"].items()}
    print(
        f"dev: {cal['n']} items, {cal['n_unanswerable']} unanswerable; C = {cal['C']} "
        f"(cross-validated log loss {cal['cv_log_loss']})"
    )
    test = cal.get("test")
    head = "threshold  dev CV refused / false refusals   dev in-sample"
    print(
        head + (f"          test (held out: {test['n']} items, {test['n_unanswerable']} unanswerable)" if test else "")
    )
    for i, f in enumerate(cal["cross_validated"]):
        s = cal["in_sample"][i]
        line = (
            f"  {f['threshold']:<6.3f}   {f['unanswerable_refused']:.3f} / {f['false_refusal']:.3f}"
            f"                  {s['unanswerable_refused']:.3f} / {s['false_refusal']:.3f}"
        )
        if test:
            t = test["figures"][i]
            line += f"          {t['unanswerable_refused']:.3f} / {t['false_refusal']:.3f}"
        if f["threshold"] in chosen:
            line += "   <- " + ", ".join(k for k, v in cal["thresholds"].items() if v == f["threshold"])
        print(line)
    print(
        "chosen on dev (CV): "
        + ", ".join(f"{k} = {v} (false-refusal budget {cal['budgets'][k]})" for k, v in cal["thresholds"].items())
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("qa", nargs="?", default="eval/qa.jsonl", type=Path)
    ap.add_argument("--collection", default="default")
    ap.add_argument("--dry-run", action="store_true", help="print, do not write rag/data/answerable.json")
    a = ap.parse_args()
    from rag.config import Settings
    from rag.factory import Components

    x, y, _, splits = features(Components(Settings()), a.qa, a.collection)
    cal = calibrate(x, y, splits)
    print_figures(cal)
    out = {
        "weights": cal.pop("weights"),
        "bias": cal.pop("bias"),
        "thresholds": cal.pop("thresholds"),
        "fitted_on": f"{a.qa} (split dev)",
        "fitted_at": time.strftime("%Y-%m-%d"),
        **cal,
    }
    print(json.dumps(out["weights"], ensure_ascii=False), "bias", out["bias"])
    if not a.dry_run:
        path = data_file("answerable.json")
        path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
