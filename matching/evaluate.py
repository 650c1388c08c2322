"""Offline evaluation of the matcher against labelled (need, result, grade) pairs.

Definitions (all at cut-off k, averaged over needs):

* the ranking of a need is over **all** results in the input; results without a label count as grade 0;
* only needs with at least one relevant pair (grade >= 2) are evaluated;
* nDCG@k: gain ``2^grade - 1``, discount ``log2(rank + 1)``, ideal = the need's labelled grades sorted;
* MRR@k: ``1 / rank`` of the first result with grade >= 2 within the top k, 0 if none is;
* Recall@k: share of the need's grade >= 2 results that appear in the top k.

The baseline is plain scikit-learn: ``TfidfVectorizer(analyzer="char", ngram_range=(1, 2))`` over title +
body, fitted on results and needs together, ranked by cosine. With ``folds`` > 1, `Weights` are tuned by
coordinate search on the other folds' needs and scored on the held-out fold only, so the reported tuned
numbers never come from weights fitted to the same pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from matching.matcher import Matcher
from matching.records import NeedRecord, Pair, ResultRecord
from matching.scoring import COMPONENTS, Weights, combine
from matching.text import TextConfig
from matching.topk import topk_rows

RELEVANT = 2
#: grid for each component weight during tuning (text stays at its default; only ratios matter)
WEIGHT_GRID: tuple[float, ...] = (0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45)
EXPONENT_GRID: tuple[float, ...] = (0.35, 0.5, 0.75, 1.0)

Labels = dict[str, dict[str, int]]


def labels_of(pairs: Sequence[Pair]) -> Labels:
    """``{need_id: {result_id: grade}}``; a repeated pair keeps its last grade."""
    labels: Labels = {}
    for pair in pairs:
        labels.setdefault(pair.need_id, {})[pair.result_id] = pair.grade
    return labels


def ndcg(ranked: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """nDCG@k of one ranking of result ids."""
    gains = [2 ** grades.get(r, 0) - 1 for r in ranked[:k]]
    dcg = sum(g / np.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((2**g - 1 for g in grades.values()), reverse=True)[:k]
    idcg = sum(g / np.log2(i + 2) for i, g in enumerate(ideal))
    return float(dcg / idcg) if idcg > 0 else 0.0


def reciprocal_rank(ranked: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """1 / rank of the first grade >= 2 result in the top k, else 0."""
    for i, r in enumerate(ranked[:k]):
        if grades.get(r, 0) >= RELEVANT:
            return 1.0 / (i + 1)
    return 0.0


def recall(ranked: Sequence[str], grades: Mapping[str, int], k: int) -> float:
    """Share of grade >= 2 results found in the top k."""
    relevant = {r for r, g in grades.items() if g >= RELEVANT}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def per_need(rankings: Mapping[str, Sequence[str]], labels: Labels, k: int) -> dict[str, np.ndarray]:
    """Metric values for each need of `rankings` (in the mapping's order)."""
    out: dict[str, list[float]] = {"ndcg": [], "mrr": [], "recall": []}
    for need_id, ranked in rankings.items():
        grades = labels.get(need_id, {})
        out["ndcg"].append(ndcg(ranked, grades, k))
        out["mrr"].append(reciprocal_rank(ranked, grades, k))
        out["recall"].append(recall(ranked, grades, k))
    return {name: np.array(values, dtype=np.float64) for name, values in out.items()}


def summarise(values: Mapping[str, np.ndarray], k: int) -> dict[str, float]:
    """Means of per-need metric values, named with the cut-off."""
    return {f"{name}@{k}": round(float(v.mean()) if v.size else 0.0, 4) for name, v in values.items()}


def evaluable_needs(needs: Sequence[NeedRecord], labels: Labels) -> list[str]:
    """Ids of needs with at least one relevant (grade >= 2) labelled pair, in input order."""
    return [n.id for n in needs if any(g >= RELEVANT for g in labels.get(n.id, {}).values())]


def baseline_rankings(
    results: Sequence[ResultRecord], needs: Sequence[NeedRecord], need_ids: Sequence[str], k: int
) -> dict[str, list[str]]:
    """Top-k result ids per need from the plain character TF-IDF baseline."""
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
    texts = [f"{r.title}\n{r.body}" for r in results] + [f"{n.title}\n{n.body}" for n in needs]
    matrix = vectorizer.fit_transform(texts).tocsr()
    rows = {n.id: len(results) + i for i, n in enumerate(needs)}
    queries = matrix[[rows[i] for i in need_ids]]
    idx, val = topk_rows(queries, matrix[: len(results)], k)
    ids = [r.id for r in results]
    out: dict[str, list[str]] = {}
    for q, need_id in enumerate(need_ids):
        # Ties broken by id, as the matcher does.
        picked = [(float(-v), ids[i]) for i, v in zip(idx[q], val[q], strict=True) if i >= 0]
        out[need_id] = [rid for _, rid in sorted(picked)]
    return out


@dataclass
class Candidates:
    """Each evaluated need's text candidates with raw component values, re-scorable for any `Weights`."""

    need_ids: list[str]
    result_ids: np.ndarray  # (n, c) object array, "" where empty
    tie: np.ndarray  # (n, c) id order of the result, for deterministic ties
    values: np.ndarray  # (n, c, 6)

    def rankings(self, weights: Weights, k: int, rows: np.ndarray | None = None) -> dict[str, list[str]]:
        """Top-k result ids per need under `weights` (optionally for some rows only)."""
        rows = np.arange(len(self.need_ids)) if rows is None else rows
        values = self.values[rows]
        empty = self.result_ids[rows] == ""
        scores = np.where(empty, -1.0, combine(values, weights))
        order = np.lexsort((self.tie[rows], -scores), axis=-1)[:, :k]
        out = {}
        for b, row in enumerate(rows):
            out[self.need_ids[row]] = [r for r in self.result_ids[row][order[b]] if r]
        return out


def matcher_candidates(matcher: Matcher, need_ids: Sequence[str], k: int) -> Candidates:
    """Candidates of the given needs from a fitted matcher (weights applied later)."""
    side_n, side_r = matcher._needs, matcher._results
    rows = np.array([side_n.index[i] for i in need_ids], dtype=np.int64)
    idx, values = matcher._candidates(side_n, side_r, rows, k, query_is_need=True)
    ids = np.array([r.id for r in side_r.records] + [""], dtype=object)
    result_ids = ids[np.where(idx >= 0, idx, len(ids) - 1)]
    tie = np.where(idx >= 0, side_r.id_rank[np.maximum(idx, 0)], np.iinfo(np.int64).max)
    return Candidates(list(need_ids), result_ids, tie, values)


#: a tuning step must raise the training objective by this much: smaller gains on a few dozen needs are
#: noise, and chasing them overfits the folds
MIN_GAIN = 0.005


def tune_weights(
    cands: Candidates, labels: Labels, rows: np.ndarray, k: int, start: Weights, passes: int = 2
) -> Weights:
    """Coordinate search for the weights that maximise mean nDCG@k + MRR@k over `rows`.

    A step is taken only when it gains at least `MIN_GAIN`, so weights move only for a clear improvement
    on the training needs.
    """

    def objective(w: Weights) -> float:
        values = per_need(cands.rankings(w, k, rows), labels, k)
        return float(values["ndcg"].mean() + values["mrr"].mean())

    best, best_value = start, objective(start)
    for _ in range(passes):
        improved = False
        for name in (*COMPONENTS[1:], "text_exponent"):
            grid = EXPONENT_GRID if name == "text_exponent" else WEIGHT_GRID
            for value in grid:
                trial = best.replace(**{name: value})
                score = objective(trial)
                if score > best_value + MIN_GAIN:
                    best, best_value, improved = trial, score, True
        if not improved:
            break
    return best


def evaluate(
    results: Sequence[ResultRecord],
    needs: Sequence[NeedRecord],
    pairs: Sequence[Pair],
    *,
    k: int = 10,
    folds: int = 5,
    seed: int = 0,
    weights: Weights | None = None,
    text: TextConfig | None = None,
) -> dict:
    """Matcher (default and cross-validated weights) against the baseline; a JSON-ready report."""
    weights = weights or Weights()
    labels = labels_of(pairs)
    known_r = {r.id for r in results}
    known_n = {n.id for n in needs}
    unknown = sum(1 for p in pairs if p.need_id not in known_n or p.result_id not in known_r)
    need_ids = evaluable_needs(needs, labels)
    report: dict = {
        "k": k,
        "results": len(results),
        "needs": len(needs),
        "pairs": len(pairs),
        "pairs_with_unknown_ids": unknown,
        "needs_evaluated": len(need_ids),
        "definitions": {
            "relevant": f"grade >= {RELEVANT}",
            "ranking": "over all results in the input; unlabelled results count as grade 0",
            "ndcg": "gain 2^grade - 1, log2 discount, ideal from the need's labelled grades",
            "mrr": "1/rank of the first grade >= 2 result within the top k (0 if none)",
            "recall": "share of the need's grade >= 2 results within the top k",
            "baseline": "TfidfVectorizer(analyzer='char', ngram_range=(1, 2)) on title + body, cosine",
        },
    }
    if not need_ids:
        report["error"] = "no need has a relevant (grade >= 2) labelled pair"
        return report

    base = per_need(baseline_rankings(results, needs, need_ids, k), labels, k)
    matcher = Matcher(weights, text).fit(results, needs)
    cands = matcher_candidates(matcher, need_ids, k)
    default = per_need(cands.rankings(weights, k), labels, k)
    metrics = {"baseline": summarise(base, k), "matcher_default": summarise(default, k)}
    report["weights_default"] = weights.as_dict()

    if folds and folds > 1 and len(need_ids) >= folds:
        order = np.random.default_rng(seed).permutation(len(need_ids))
        parts = np.array_split(order, folds)
        held: dict[str, np.ndarray] = {name: np.zeros(len(need_ids)) for name in default}
        per_fold = []
        for i, test in enumerate(parts):
            train = np.concatenate([p for j, p in enumerate(parts) if j != i])
            tuned = tune_weights(cands, labels, np.sort(train), k, weights)
            scored = per_need(cands.rankings(tuned, k, np.sort(test)), labels, k)
            for name, values in scored.items():
                held[name][np.sort(test)] = values
            fold_base = {name: v[np.sort(test)] for name, v in base.items()}
            per_fold.append(
                {
                    "fold": i,
                    "needs": len(test),
                    "weights": tuned.as_dict(),
                    "matcher": summarise(scored, k),
                    "baseline": summarise(fold_base, k),
                }
            )
        metrics["matcher_cv"] = summarise(held, k)
        report["cv"] = {
            "folds": folds,
            "seed": seed,
            "split": "needs shuffled with the seed, then split into folds",
            "tuning": "coordinate search over Weights maximising mean nDCG + MRR on the other folds, "
            f"a step only when it gains at least {MIN_GAIN}; metrics from the held-out fold only",
            "per_fold": per_fold,
        }
    report["metrics"] = metrics
    report["ratios"] = {
        f"{name}/baseline": {
            m: (round(metrics[name][m] / metrics["baseline"][m], 3) if metrics["baseline"][m] else None)
            for m in metrics[name]
        }
        for name in metrics
        if name != "baseline"
    }
    return report
