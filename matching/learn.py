"""Learning from decisions: the ranker's weights fitted to graded labels, and measured honestly.

Labels come from agents' and owners' decisions (`market.matches.labels`: 签约 3; 引荐 / 洽谈 / both
sides interested 2; one side interested or a commercial decline 1; a technical decline or an owner's
"not interested" 0) or, for the demo, `seed/data/pairs.jsonl`.

The learned ranker re-weights the same named components the explanation shows (text, field,
maturity, mode, price, region and the text exponent: `matching.scoring.Weights`), by coordinate
search maximising nDCG@10 + MRR on the training needs (`matching.evaluate.tune_weights`). Its score
is still a function of one pair alone, so the per-listing store stays exact under incremental
updates with learned weights as with the defaults.

`cross_validate` scores the first stage and the learned ranker on the same held-out needs: folds are
grouped so that needs with the same text never straddle train and test, every metric comes with a
bootstrap 95 % interval over needs, and the difference (learned − first stage) with a paired one.
`decide` puts the learned ranker live only when its cross-validated score is not worse.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np

from matching.evaluate import (
    Candidates,
    evaluable_needs,
    labels_of,
    matcher_candidates,
    ndcg,
    recall,
    reciprocal_rank,
    tune_weights,
)
from matching.matcher import Matcher
from matching.records import NeedRecord, Pair, ResultRecord
from matching.scoring import Weights
from matching.text import TextConfig, keyword_tokens, word_tokens
from vocab.analyzer import normalize

#: cut-offs of the reported metrics
NDCG_K, MRR_K, RECALL_K = 10, 10, 50
BOOTSTRAP = 1000
FORMAT = "techmarket-learned-ranker"


@dataclass
class LearnedRanker:
    """Weights fitted to labels, with what they were fitted on and how they did held out."""

    weights: Weights
    pairs: int
    needs: int
    #: the cross-validation report (`cross_validate`), when one was run
    cv: dict = field(default_factory=dict)

    @property
    def live(self) -> bool:
        """Whether the site should rank with these weights (see `decide`)."""
        return bool(self.cv) and self.cv.get("live") == "learned"

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "weights": self.weights.as_dict(),
            "pairs": self.pairs,
            "needs": self.needs,
            "live": "learned" if self.live else "first_stage",
            "cv": self.cv,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> LearnedRanker:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path} is not a learned ranker")
        return cls(Weights(**data["weights"]), int(data["pairs"]), int(data["needs"]), data.get("cv") or {})


def groups_of(needs: Sequence[NeedRecord], need_ids: Sequence[str]) -> np.ndarray:
    """A group number per need id: needs whose normalised title and body are equal share one."""
    by_id = {n.id: n for n in needs}
    keys: dict[str, int] = {}
    return np.array(
        [keys.setdefault(normalize(by_id[i].title + "\n" + by_id[i].body), len(keys)) for i in need_ids]
    )


def grouped_folds(groups: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Row indices per fold; every group lies in exactly one fold (groups shuffled with the seed)."""
    unique = np.unique(groups)
    order = np.random.default_rng(seed).permutation(unique)
    parts = np.array_split(order, folds)
    return [np.flatnonzero(np.isin(groups, part)) for part in parts if len(part)]


def _metrics(rankings: dict[str, list[str]], labels: dict, need_ids: Sequence[str]) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {f"ndcg@{NDCG_K}": [], f"mrr@{MRR_K}": [], f"recall@{RECALL_K}": []}
    for need_id in need_ids:
        ranked, grades = rankings[need_id], labels.get(need_id, {})
        out[f"ndcg@{NDCG_K}"].append(ndcg(ranked, grades, NDCG_K))
        out[f"mrr@{MRR_K}"].append(reciprocal_rank(ranked, grades, MRR_K))
        out[f"recall@{RECALL_K}"].append(recall(ranked, grades, RECALL_K))
    return {name: np.array(v, dtype=np.float64) for name, v in out.items()}


class Interval(TypedDict):
    mean: float
    ci95: list[float]


def bootstrap(values: np.ndarray, *, seed: int = 0, rounds: int = BOOTSTRAP) -> Interval:
    """Mean and bootstrap 95 % interval (percentile) of per-need values."""
    if not len(values):
        return {"mean": 0.0, "ci95": [0.0, 0.0]}
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(rounds, len(values)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"mean": round(float(values.mean()), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}


def decide(first: dict[str, np.ndarray], learned: dict[str, np.ndarray]) -> tuple[str, str]:
    """("learned" | "first_stage", why): the learned ranker goes live only when its held-out nDCG@10 +
    MRR is not worse than the first stage's on the same needs."""
    key_n, key_m = f"ndcg@{NDCG_K}", f"mrr@{MRR_K}"
    a = float(first[key_n].mean() + first[key_m].mean())
    b = float(learned[key_n].mean() + learned[key_m].mean())
    if b >= a:
        return "learned", f"交叉验证 nDCG@{NDCG_K}+MRR：学习排序 {b:.4f} ≥ 首轮 {a:.4f}"
    return "first_stage", f"交叉验证 nDCG@{NDCG_K}+MRR：学习排序 {b:.4f} < 首轮 {a:.4f}，继续使用首轮排序"


def cross_validate(
    results: Sequence[ResultRecord],
    needs: Sequence[NeedRecord],
    pairs: Sequence[Pair],
    *,
    folds: int = 5,
    seed: int = 0,
    weights: Weights | None = None,
    text: TextConfig | None = None,
    candidates: Candidates | None = None,
) -> dict:
    """First stage vs learned ranker on held-out needs (grouped folds); a JSON-ready report."""
    weights = weights or Weights()
    labels = labels_of(pairs)
    need_ids = evaluable_needs(needs, labels)
    report: dict = {
        "folds": folds,
        "seed": seed,
        "needs_evaluated": len(need_ids),
        "split": "needs grouped by identical normalised text, groups shuffled with the seed into folds",
        "learning": "coordinate search over the named weights maximising nDCG@10 + MRR on the other folds",
        "intervals": f"bootstrap over held-out needs, {BOOTSTRAP} rounds, 95 % percentile; "
        "difference: paired bootstrap",
    }
    if len(need_ids) < max(2, folds):
        report["error"] = (
            f"有 2 级以上标注的需求只有 {len(need_ids)} 个，不足以做 {folds} 折交叉验证，继续使用首轮排序"
        )
        return report
    if candidates is None:
        matcher = Matcher(weights, text).fit(results, needs)
        candidates = matcher_candidates(matcher, need_ids, RECALL_K)
    index = {n: i for i, n in enumerate(candidates.need_ids)}
    rows = np.array([index[n] for n in need_ids])
    parts = grouped_folds(groups_of(needs, need_ids), folds, seed)
    first = _metrics(candidates.rankings(weights, RECALL_K, rows), labels, need_ids)
    learned_rankings: dict[str, list[str]] = {}
    per_fold = []
    for i, test in enumerate(parts):
        train = np.setdiff1d(np.arange(len(need_ids)), test)
        tuned = tune_weights(candidates, labels, rows[train], NDCG_K, weights)
        learned_rankings.update(candidates.rankings(tuned, RECALL_K, rows[test]))
        per_fold.append({"fold": i, "needs": len(test), "weights": tuned.as_dict()})
    learned = _metrics(learned_rankings, labels, need_ids)
    live, why = decide(first, learned)
    if all(f["weights"] == weights.as_dict() for f in per_fold):
        live, why = (
            "first_stage",
            "各折学习得到的权重都与首轮相同（没有一步提升达到最小增益），继续使用首轮排序",
        )
    report["first_stage"] = {name: bootstrap(v, seed=seed) for name, v in first.items()}
    report["learned"] = {name: bootstrap(v, seed=seed) for name, v in learned.items()}
    report["learned_minus_first_stage"] = {
        name: bootstrap(learned[name] - first[name], seed=seed) for name in first
    }
    report["per_fold"] = per_fold
    report["live"] = live
    report["reason"] = why
    return report


def learn(
    results: Sequence[ResultRecord],
    needs: Sequence[NeedRecord],
    pairs: Sequence[Pair],
    *,
    folds: int = 5,
    seed: int = 0,
    weights: Weights | None = None,
    text: TextConfig | None = None,
) -> LearnedRanker:
    """Weights fitted on every labelled need, with the cross-validation that decides if they go live."""
    weights = weights or Weights()
    labels = labels_of(pairs)
    need_ids = evaluable_needs(needs, labels)
    if not need_ids:
        return LearnedRanker(weights, len(pairs), 0, {"live": "first_stage", "reason": "没有可用的标注"})
    matcher = Matcher(weights, text).fit(results, needs)
    candidates = matcher_candidates(matcher, need_ids, RECALL_K)
    cv = cross_validate(
        results, needs, pairs, folds=folds, seed=seed, weights=weights, text=text, candidates=candidates
    )
    if "error" in cv:
        cv["live"] = "first_stage"
        cv["reason"] = cv["error"]
        return LearnedRanker(weights, len(pairs), len(need_ids), cv)
    tuned = tune_weights(candidates, labels, np.arange(len(need_ids)), NDCG_K, weights)
    if tuned == weights and cv["live"] == "learned":
        cv["live"], cv["reason"] = "first_stage", "学习得到的权重与首轮相同，继续使用首轮排序"
    return LearnedRanker(tuned, len(pairs), len(need_ids), cv)


def finite(report: dict) -> bool:
    """Every number in a report is finite (JSON has no NaN)."""
    stack: list = [report]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float) and not math.isfinite(item):
            return False
    return True


# -- first-stage settings, chosen by grouped cross-validation ------------------------------------------

#: the first-stage settings compared: (name, TextConfig changes, CSLS neighbourhood k or 0, share of
#: the keyword query blended into the text similarity)
FIRST_STAGE_GRID: tuple[tuple[str, dict, int, float], ...] = (
    ("default", {}, 0, 0.0),
    ("idf_all", {"idf_from": "all"}, 0, 0.0),
    ("title_0.3", {"title_share": 0.3}, 0, 0.0),
    ("csls_10", {}, 10, 0.0),
    ("csls_20", {}, 20, 0.0),
    ("keywords_0.2", {}, 0, 0.2),
    ("title_0.3+csls_10+keywords_0.2", {"title_share": 0.3}, 10, 0.2),
)


def hub_penalty(matcher: Matcher, k: int) -> np.ndarray:
    """CSLS's neighbourhood term per result: the mean cosine of its `k` nearest needs, minus the
    mean of that over all results (so the average result is not moved). A result close to many
    needs (a generic listing, a hub) loses that much text similarity.

    It depends on every need, so one new need moves it for many results: the per-listing store
    cannot keep it exact change by change, which is why it exists only here, in evaluation."""
    needs, results = matcher._needs.rows, matcher._results.rows
    if needs.shape[0] == 0 or results.shape[0] == 0:
        return np.zeros(results.shape[0])
    dense = (results @ needs.T).toarray()
    k = min(k, dense.shape[1])
    top = -np.sort(-dense, axis=1)[:, :k]
    r = top.mean(axis=1)
    return r - r.mean()


def _with_csls(cands: Candidates, matcher: Matcher, k: int) -> Candidates:
    if not k:
        return cands
    penalty = hub_penalty(matcher, k)
    index = matcher._results.index
    rows = np.vectorize(lambda rid: index.get(rid, -1), otypes=[np.int64])(cands.result_ids)
    values = cands.values.copy()
    shift = np.where(rows >= 0, penalty[np.maximum(rows, 0)], 0.0)
    values[..., 0] = np.clip(values[..., 0] - shift, 0.0, 1.0)
    return Candidates(cands.need_ids, cands.result_ids, cands.tie, values)


def keyword_overlap(need: NeedRecord, result: ResultRecord) -> float:
    """The small keyword query: the share of the need's keywords and title words that the result's
    text holds (a pair's own function, no corpus statistics)."""
    query = set(keyword_tokens(need.keywords)) | set(word_tokens(need.title))
    if not query:
        return 0.0
    text = set(word_tokens(" ".join([result.title, result.body]))) | set(keyword_tokens(result.keywords))
    return len(query & text) / len(query)


def _with_keywords(cands: Candidates, matcher: Matcher, share: float) -> Candidates:
    if not share:
        return cands
    needs = {n.id: n for n in matcher.needs}
    results = {r.id: r for r in matcher.results}
    values = cands.values.copy()
    for i, need_id in enumerate(cands.need_ids):
        for j, result_id in enumerate(cands.result_ids[i]):
            if result_id:
                kw = keyword_overlap(needs[need_id], results[result_id])
                values[i, j, 0] = (1 - share) * values[i, j, 0] + share * kw
    return Candidates(cands.need_ids, cands.result_ids, cands.tie, values)


def select_first_stage(
    results: Sequence[ResultRecord],
    needs: Sequence[NeedRecord],
    pairs: Sequence[Pair],
    *,
    folds: int = 5,
    seed: int = 0,
    grid: Sequence[tuple[str, dict, int, float]] = FIRST_STAGE_GRID,
) -> dict:
    """Each first-stage setting on the labelled needs, and the setting chosen on the training folds
    scored on the held-out fold (grouped folds as in `cross_validate`): a JSON-ready report."""
    labels = labels_of(pairs)
    need_ids = evaluable_needs(needs, labels)
    if len(need_ids) < max(2, folds):
        return {"error": "可评测的需求太少，无法交叉验证"}
    scored: dict[str, dict[str, np.ndarray]] = {}
    fitted: dict[str, tuple[Matcher, Candidates]] = {}
    for name, changes, csls_k, kw_share in grid:
        key = repr(sorted(changes.items()))
        if key not in fitted:  # settings of the same text model share one fit
            matcher = Matcher(text=TextConfig(**changes)).fit(results, needs)
            fitted[key] = (matcher, matcher_candidates(matcher, need_ids, RECALL_K))
        matcher, cands = fitted[key]
        cands = _with_keywords(_with_csls(cands, matcher, csls_k), matcher, kw_share)
        scored[name] = _metrics(cands.rankings(Weights(), RECALL_K), labels, need_ids)
    objective = {name: m[f"ndcg@{NDCG_K}"] + m[f"mrr@{MRR_K}"] for name, m in scored.items()}
    parts = grouped_folds(groups_of(needs, need_ids), folds, seed)
    chosen = {name: np.zeros(0) for name in scored[grid[0][0]]}
    held = {name: np.zeros(len(need_ids)) for name in chosen}
    per_fold = []
    for i, test in enumerate(parts):
        train = np.setdiff1d(np.arange(len(need_ids)), test)
        best = max(objective, key=lambda n: (float(objective[n][train].mean()), n == grid[0][0]))
        for metric in held:
            held[metric][test] = scored[best][metric][test]
        per_fold.append({"fold": i, "needs": len(test), "chosen": best})
    del chosen
    default = scored[grid[0][0]]
    return {
        "folds": folds,
        "seed": seed,
        "needs_evaluated": len(need_ids),
        "settings": {name: {m: bootstrap(v, seed=seed) for m, v in s.items()} for name, s in scored.items()},
        "chosen_per_fold": per_fold,
        "selected_cv": {m: bootstrap(v, seed=seed) for m, v in held.items()},
        "selected_minus_default": {m: bootstrap(held[m] - default[m], seed=seed) for m in held},
        "grid": [{"name": n, "text": c, "csls_k": k, "keyword_share": w} for n, c, k, w in grid],
    }
