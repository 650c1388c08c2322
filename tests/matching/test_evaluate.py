"""Metrics by hand, and the evaluation's bookkeeping."""

from __future__ import annotations

import math

import pytest

from matching.evaluate import evaluable_needs, evaluate, labels_of, ndcg, recall, reciprocal_rank
from matching.records import Pair

from .conftest import BEST, NEEDS, RESULTS


def test_ndcg_by_hand() -> None:
    grades = {"a": 3, "b": 1, "c": 0}
    assert ndcg(["a", "b", "c"], grades, 3) == pytest.approx(1.0)
    dcg = (2**1 - 1) / math.log2(2) + (2**3 - 1) / math.log2(3)
    idcg = 7 / math.log2(2) + 1 / math.log2(3)
    assert ndcg(["b", "a"], grades, 3) == pytest.approx(dcg / idcg)
    assert ndcg(["x", "y"], grades, 2) == 0.0  # unlabelled results count as grade 0


def test_mrr_counts_grade_two_and_up_within_k() -> None:
    grades = {"a": 1, "b": 2, "c": 3}
    assert reciprocal_rank(["a", "b", "c"], grades, 3) == 0.5
    assert reciprocal_rank(["a", "x", "c"], grades, 2) == 0.0


def test_recall_of_relevant_only() -> None:
    grades = {"a": 3, "b": 2, "c": 1}
    assert recall(["a", "c"], grades, 10) == 0.5


def test_only_needs_with_a_relevant_pair_are_evaluated() -> None:
    labels = labels_of([Pair("N-vision", "R-vision", 1), Pair("N-water", "R-water", 2)])
    assert evaluable_needs(NEEDS, labels) == ["N-water"]


def test_matcher_finds_every_known_best_and_folds_hold_out() -> None:
    pairs = [Pair(n, r, 3) for n, r in BEST.items()] + [Pair("N-drone", "R-ghost", 2)]
    report = evaluate(RESULTS, NEEDS, pairs, k=5, folds=2)
    assert report["pairs_with_unknown_ids"] == 1
    assert report["metrics"]["matcher_default"]["mrr@5"] == 1.0
    folds = report["cv"]["per_fold"]
    assert sum(f["needs"] for f in folds) == report["needs_evaluated"] == 4


def test_no_relevant_pairs_is_reported() -> None:
    report = evaluate(RESULTS, NEEDS, [Pair("N-water", "R-water", 1)], k=5)
    assert "error" in report
