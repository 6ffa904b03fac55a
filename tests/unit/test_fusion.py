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
