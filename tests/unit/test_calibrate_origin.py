"""Leave-one-origin-out figures of the answerability fit (rag.evaluate.calibrate.by_origin), on made-up features."""

from __future__ import annotations

import numpy as np

from rag.evaluate.calibrate import by_origin


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Dev origins a, b, d of 45 items (15 unanswerable), c of 24 (8), and 45 test items. Column 0 says "answerable"
    on a, b and d; on c it says the opposite (a signal of the batch it was written for)."""
    rng = np.random.default_rng(seed)
    origins = ["a"] * 45 + ["b"] * 45 + ["d"] * 45 + ["c"] * 24 + ["t"] * 45
    y = np.array(([0] * 15 + [1] * 30) * 3 + [0] * 8 + [1] * 16 + [0] * 15 + [1] * 30)
    sign = np.array([1.0 if o != "c" else -1.0 for o in origins])
    x = np.c_[rng.normal(sign * (2.0 * y - 1.0) * 2.5, 1.0), rng.normal(0, 1, (len(y), 4))]
    splits = ["dev"] * 159 + ["test"] * 45
    return x, y, splits, origins


def test_each_origin_is_scored_by_a_fit_on_the_others() -> None:
    x, y, splits, origins = _data()
    rows = {r["origin"]: r for r in by_origin(x, y, splits, origins, repeats=2)}
    assert set(rows) == {"a", "b", "c", "d", "pooled"}  # the test part is no origin to leave out
    for o in ("a", "b", "d"):  # the signal holds there: refusals are of unanswerable items
        j = rows[o]["judge"]
        assert j["unanswerable_refused"] > j["false_refusal"] == 0.0, rows[o]
    # on c the fitted signal points the wrong way: it refuses answerable items rather than unanswerable ones
    j = rows["c"]["judge"]
    assert j["false_refusal"] > 0.5 > j["unanswerable_refused"], rows["c"]
    pooled = rows["pooled"]
    assert pooled["n_unanswerable"] == 53 and pooled["n_answerable"] == 106
    assert rows["a"]["n_unanswerable"] == 15 and rows["a"]["n_answerable"] == 30
    flipped = y.copy()
    flipped[159:] = 1 - flipped[159:]  # the test part's labels choose nothing
    assert by_origin(x, flipped, splits, origins, repeats=2) == list(rows.values())


def test_the_generators_own_refusals_add_to_the_judges_and_made_up_items_are_not_scored() -> None:
    x, y, splits, origins = _data(2)
    own = np.zeros(len(y), dtype=bool)
    own[:10] = True  # the generator refuses ten of a's unanswerable items itself
    # made-up unanswerable questions from a's items: fitted on when a is not left out, never scored
    made_x = np.c_[np.full(20, -3.0), np.zeros((20, 4))]
    xs = np.r_[x, made_x]
    ys = np.r_[y, np.zeros(20, dtype=int)]
    groups = [str(i) for i in range(len(y))] + [str(15 + i) for i in range(20)]
    kinds = [""] * len(y) + ["place"] * 20
    rows = {
        r["origin"]: r
        for r in by_origin(
            xs, ys, splits + ["dev"] * 20, origins + ["a"] * 20, groups, kinds, np.r_[own, np.zeros(20, dtype=bool)], 2
        )
    }
    assert rows["a"]["n_unanswerable"] == 15  # the made-up ones are not among those scored
    a = rows["a"]
    assert a["judge_extractive"]["unanswerable_refused"] >= a["judge"]["unanswerable_refused"]
    assert a["judge_extractive"]["unanswerable_refused"] >= 10 / 15
    assert rows["b"]["judge_extractive"] == rows["b"]["judge"]  # no own refusals there
