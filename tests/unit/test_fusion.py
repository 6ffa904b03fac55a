"""Hybrid fusion: the adaptive mix trusts, per query, the retriever whose top passage stands out."""

from __future__ import annotations

from rag.retrieve import _convex, adaptive, gap


def test_gap_is_how_far_the_top_stands_above_its_runners_up() -> None:
    assert gap({1: 1.0, 2: 0.2, 3: 0.0}, 2) == 0.9
    assert gap({1: 1.0, 2: 1.0, 3: 1.0}, 2) == 0.0
    assert gap({1: 1.0}, 5) == 1.0


def test_adaptive_follows_the_decisive_retriever() -> None:
    # dense: passage 1 far ahead of the rest; BM25: passage 2 ahead of a crowd of near-equals
    dense = {1: 0.90, 2: 0.70, 3: 0.50, 4: 0.50, 5: 0.50, 6: 0.50}
    bm25 = {2: 10.0, 1: 6.0, 3: 5.9, 4: 5.9, 5: 5.8, 6: 5.8}
    assert _convex(dense, bm25, 0.7, 1.0)[0][0] == 2  # the fixed mix follows BM25's weak lead
    assert adaptive(dense, bm25, 0.7, 1.0)[0][0] == 1
    # and the other way round
    crowd = {2: 0.90, 1: 0.89, 3: 0.885, 4: 0.88, 5: 0.88, 6: 0.5}
    assert adaptive(crowd, {1: 12.0, 2: 3.0, 3: 2.0, 4: 1.0}, 0.7, 1.0)[0][0] == 1


def test_adaptive_with_equal_gaps_is_the_convex_mix() -> None:
    dense = {1: 0.9, 2: 0.5, 3: 0.1}
    bm25 = {3: 9.0, 2: 5.0, 1: 1.0}
    assert [i for i, _ in adaptive(dense, bm25, 0.7, 1.0)] == [i for i, _ in _convex(dense, bm25, 0.7, 1.0)]
    assert adaptive({}, {1: 2.0, 2: 1.0}, 0.7, 1.0)[0][0] == 1 and adaptive({1: 0.5, 2: 0.9}, {}, 0.7, 1.0)[0][0] == 2


def test_default_mix_leans_on_bm25_when_both_retrievers_are_as_decisive() -> None:
    """The defaults (dense 0.5 : BM25 1, gaps over the next 10 candidates, chosen on the QA set's dev part): when the
    two retrievers single out different passages equally clearly, BM25's wins; a clearly more decisive dense list still
    carries its passage to the top."""
    from rag.config import Settings

    s = Settings()
    wd, wb, depth, power = s.dense_weight, s.bm25_weight, s.fusion_gap_depth, s.fusion_gap_power
    crowd = range(3, 15)
    dense = {1: 0.9, 2: 0.45, **{i: 0.0 for i in crowd}}  # min-max: 1, 0.45, 0 …
    bm25 = {2: 10.0, 1: 5.0, **{i: 0.01 for i in crowd}}  # / top: 1, 0.5, 0.001 …
    assert adaptive(dense, bm25, 1.0, 1.0, depth, power)[0][0] == 1  # equal base weights follow dense
    assert adaptive(dense, bm25, wd, wb, depth, power)[0][0] == 2
    # dense far ahead of all its runners-up, BM25 hardly above a crowd: dense's passage stays first
    flat = {2: 6.0, 1: 5.8, **{i: 5.7 for i in crowd}}
    decisive = {1: 0.95, 2: 0.2, **{i: 0.1 for i in crowd}}
    assert adaptive(decisive, flat, wd, wb, depth, power)[0][0] == 1
    # the runner-up alone is no measure of a crowd: with depth 10 a lone close second does not hide a clear lead
    lone_second = {2: 9.0, 1: 8.8, **{i: 1.0 for i in crowd}}
    assert gap(_normalised_bm25(lone_second), depth) > 0.5 > gap(_normalised_bm25(lone_second), 1)


def _normalised_bm25(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values())
    return {i: v / top for i, v in scores.items()}


def test_fusion_margins_compare_hybrid_with_the_better_single_retriever_per_origin() -> None:
    from rag.evaluate.tables import fusion_margins

    def mode(**h1: float) -> dict:
        return {"hit@1": 0.0, "by_origin": {o: {"hit@1": v, "n": 20} for o, v in h1.items()}}

    retrieval = {
        "dense": mode(a=0.70, b=0.90),
        "bm25": mode(a=0.85, b=0.60),
        "hybrid": mode(a=0.80, b=0.95),
    }
    m = fusion_margins(retrieval)
    assert m["a"]["best"] == "bm25" and m["a"]["margin"] == -1  # one item below BM25 alone
    assert m["b"]["best"] == "dense" and m["b"]["margin"] == 1
    assert fusion_margins({"hybrid": retrieval["hybrid"]}) == {}  # only with all three modes
