"""Learning from decisions: grouped folds, bootstrap intervals, the live decision, the CI run on demo data."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from matching import Matcher
from matching.cli import main
from matching.evaluate import matcher_candidates
from matching.learn import LearnedRanker, bootstrap, decide, grouped_folds, groups_of, learn
from matching.records import NeedRecord, Pair
from matching.scoring import Weights

from .conftest import SEED

METRICS = ("ndcg@10", "mrr@10", "recall@50")


def test_evaluate_with_learning_on_the_demo_data() -> None:
    """What CI runs: `python -m matching evaluate --folds 5 --learn` on seed/data, printing JSON."""
    out, err = io.StringIO(), io.StringIO()
    args = ["evaluate", "--folds", "5", "--learn", "--k", "10"]
    for name in ("results", "needs", "pairs"):
        args += [f"--{name}", str(SEED / f"{name}.jsonl")]
    assert main([*args, "--orgs", str(SEED / "organizations.jsonl")], out=out, err=err) == 0, err.getvalue()
    report = json.loads(out.getvalue())
    learning = report["learning"]
    assert learning["needs_evaluated"] == report["needs_evaluated"] > 100
    for side in ("first_stage", "learned"):
        for metric in METRICS:
            value = learning[side][metric]
            lo, hi = value["ci95"]
            assert 0.0 <= lo <= value["mean"] <= hi <= 1.0, (side, metric, value)
    for metric in METRICS:
        assert set(learning["learned_minus_first_stage"][metric]) == {"mean", "ci95"}
    assert learning["live"] in ("learned", "first_stage") and learning["reason"]
    assert len(learning["per_fold"]) == 5
    # the first stage on the demo data beats the plain character baseline
    assert report["metrics"]["matcher_default"]["ndcg@10"] > report["metrics"]["baseline"]["ndcg@10"]


def test_duplicate_texts_never_straddle_folds() -> None:
    needs = [
        NeedRecord(id=f"N{i}", title=["电池低温", "污水除磷", "电池低温 "][i % 3], description="同一段描述")
        for i in range(12)
    ]
    ids = [n.id for n in needs]
    groups = groups_of(needs, ids)
    assert len(set(groups.tolist())) == 2  # trailing space folds away
    folds = grouped_folds(groups, 2, seed=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(12))
    for fold in folds:
        inside = set(groups[fold].tolist())
        outside = set(np.delete(groups, fold).tolist())
        assert not inside & outside


def test_the_learned_ranker_goes_live_only_when_not_worse() -> None:
    first = {"ndcg@10": np.array([0.5, 0.7]), "mrr@10": np.array([1.0, 0.5])}
    assert decide(first, {k: v + 0.01 for k, v in first.items()})[0] == "learned"
    assert decide(first, first)[0] == "learned"
    assert decide(first, {k: v - 0.01 for k, v in first.items()})[0] == "first_stage"


def test_bootstrap_interval_holds_the_mean() -> None:
    values = np.random.default_rng(0).random(200)
    found = bootstrap(values, seed=1)
    assert found["ci95"][0] < found["mean"] < found["ci95"][1]
    assert found["ci95"][1] - found["ci95"][0] < 0.2
    assert bootstrap(np.zeros(0))["mean"] == 0.0


def test_learn_saves_and_loads(demo, tmp_path) -> None:
    results, needs, pairs = demo
    ranker = learn(results, needs, pairs, folds=3)
    assert isinstance(ranker.weights, Weights) and ranker.needs > 100
    path = tmp_path / "learned.json"
    ranker.save(path)
    again = LearnedRanker.load(path)
    assert again.weights == ranker.weights and again.live == ranker.live
    with pytest.raises(ValueError):
        (tmp_path / "other.json").write_text("{}", encoding="utf-8")
        LearnedRanker.load(tmp_path / "other.json")


def test_learning_recovers_what_the_decisions_reward(demo) -> None:
    """Decisions made by a 'teacher' who cares for price and field far more than the defaults do:
    the learned ranker must beat the first stage held out, and go live."""

    results, needs, _ = demo
    teacher = Weights(text=0.6, field=0.45, maturity=0.0, mode=0.0, price=0.45, region=0.0, text_exponent=0.5)
    matcher = Matcher().fit(results, needs)
    cands = matcher_candidates(matcher, [n.id for n in needs], 50)
    pairs = []
    for need_id, ranked in cands.rankings(teacher, 3).items():
        pairs += [Pair(need_id, r, g) for r, g in zip(ranked, (3, 2, 2), strict=False)]
    ranker = learn(results, needs, pairs, folds=3)
    gain = ranker.cv["learned_minus_first_stage"]["ndcg@10"]
    assert gain["mean"] > 0 and gain["ci95"][0] > 0, gain
    assert ranker.live and ranker.weights != Weights()
