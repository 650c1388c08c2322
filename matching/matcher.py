"""The matcher (供需对接): fitted text features + hybrid scoring over in-memory results and needs.

Candidates come from text similarity alone (the best ``k × candidate_factor`` by cosine, chunked top-k);
they are then re-scored with the hybrid score (`matching.scoring`), so the final top k is by hybrid
score and every match carries its reasons. New or edited listings are transformed with the fitted
vocabulary (no refit); a periodic full `fit` refreshes the vocabulary and IDF.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import joblib
import numpy as np
import scipy.sparse as sp

from matching.explain import attributes_row
from matching.records import NeedRecord, ResultRecord
from matching.scoring import Attributes, FieldCodes, Weights, combine, components, encode
from matching.scoring import explain as explain_reasons
from matching.text import TextConfig, TextModel, doc_of
from matching.topk import topk_rows

#: bumped whenever the saved layout changes; `Matcher.load` refuses other versions
FORMAT_VERSION = 1
_FORMAT_NAME = "techmarket-matcher"

Kind = Literal["result", "need"]


class ModelFormatError(ValueError):
    """A saved model that is not a matcher of this format version."""


@dataclass(frozen=True)
class Match:
    """One recommended (need, result) pair with its score in [0, 1] and the reasons behind it.

    ``reasons``::

        {"text":  {"value": 0.61, "weight": 0.6, "cosine": 0.37},   # value = cosine ** text_exponent
         "field": {"value": 1.0, "weight": 0.15},                   # value None = missing (neutral)
         "maturity": {...}, "mode": {...}, "price": {...}, "region": {...},
         "key_terms": ["猪瘟", "PCR", "疫病"],                       # shared words, strongest first
         "sentences": ["同属中兽药", "双方都在京津冀"]}               # the other parts in words

    Empty when ranked with ``explain=False``.
    """

    need_id: str
    result_id: str
    score: float
    reasons: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        """Plain JSON-ready form."""
        return {
            "need_id": self.need_id,
            "result_id": self.result_id,
            "score": round(self.score, 6),
            "reasons": self.reasons,
        }


@dataclass
class _Side:
    """The listings of one kind with their text rows and encoded attributes, row-aligned."""

    records: list = field(default_factory=list)
    rows: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 0), dtype=np.float32))
    #: the rows pruned for candidate generation (`TextModel.index_rows`)
    index_rows: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 0), dtype=np.float32))
    attrs: Attributes | None = None
    index: dict[str, int] = field(default_factory=dict)
    _transposed: sp.csr_matrix | None = None
    _id_rank: np.ndarray | None = None

    @property
    def attributes(self) -> Attributes:
        """`attrs` of a fitted side."""
        if self.attrs is None:
            raise RuntimeError("the matcher is not fitted")
        return self.attrs

    def reset_caches(self) -> None:
        self.index = {rec.id: i for i, rec in enumerate(self.records)}
        self._transposed = None
        self._id_rank = None

    @property
    def transposed(self) -> sp.csr_matrix:
        """``index_rows.T`` in CSR, cached: the right operand of every top-k product."""
        if self._transposed is None:
            self._transposed = self.index_rows.T.tocsr()
        return self._transposed

    @property
    def id_rank(self) -> np.ndarray:
        """Each row's position in id order: the tie-breaker that makes rankings independent of input order."""
        if self._id_rank is None:
            order = sorted(range(len(self.records)), key=lambda i: self.records[i].id)
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            self._id_rank = rank
        return self._id_rank

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.rows.indptr[i], self.rows.indptr[i + 1]
        return self.rows.indices[start:end], self.rows.data[start:end]


def _locked(method: Callable) -> Callable:
    """Run a method under the matcher's lock (the web server calls from several threads)."""

    @functools.wraps(method)
    def wrapper(self: Matcher, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class Matcher:
    """Recommends results for needs and needs for results.

    Thread-safe: every public method holds one re-entrant lock, so a relay may add or remove listings
    while request threads read (reads are short; a full `fit` blocks readers until it is done — build a
    new matcher and swap the reference instead).

    >>> m = Matcher().fit(results, needs)
    >>> m.matches_for_need("N1", k=10)      # -> list[Match], best first
    """

    def __init__(
        self,
        weights: Weights | None = None,
        text: TextConfig | None = None,
        *,
        candidate_factor: int = 5,
        n_jobs: int = 1,
        chunk_size: int | None = None,
        key_terms: int = 5,
    ) -> None:
        self.weights = weights or Weights()
        self.text = TextModel(text)
        self.candidate_factor = max(1, int(candidate_factor))
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size
        self.key_terms = key_terms
        self._codes = FieldCodes()
        self._results = _Side()
        self._needs = _Side()
        self._fitted = False
        self._lock = threading.RLock()

    # -- building ------------------------------------------------------------------------------------

    @_locked
    def fit(self, results: Iterable[ResultRecord], needs: Iterable[NeedRecord]) -> Matcher:
        """Fit one vocabulary on results and needs together and index both; returns self."""
        results, needs = _unique(results), _unique(needs)
        is_need = np.r_[np.zeros(len(results), dtype=bool), np.ones(len(needs), dtype=bool)]
        rows = self.text.fit_transform(
            [doc_of(r) for r in [*results, *needs]], n_jobs=self.n_jobs, needs=is_need
        )
        self._results = self._side(results, rows[: len(results)])
        self._needs = self._side(needs, rows[len(results) :])
        self._fitted = True
        return self

    def _side(self, records: list, rows: sp.csr_matrix) -> _Side:
        rows = rows.tocsr()
        side = _Side(
            records=list(records),
            rows=rows,
            index_rows=self.text.index_rows(rows),
            attrs=encode(records, self._codes),
        )
        side.reset_caches()
        return side

    def _require_fit(self) -> None:
        if not self._fitted:
            raise RuntimeError("the matcher is not fitted: call fit() or load() first")

    @property
    def results(self) -> Sequence[ResultRecord]:
        """The indexed results, in row order."""
        return tuple(self._results.records)

    @property
    def needs(self) -> Sequence[NeedRecord]:
        """The indexed needs, in row order."""
        return tuple(self._needs.records)

    @_locked
    def add_result(self, record: ResultRecord) -> None:
        """Index a new or edited result with the fitted vocabulary (replaces one with the same id)."""
        self._add(self._results, record)

    @_locked
    def add_need(self, record: NeedRecord) -> None:
        """Index a new or edited need with the fitted vocabulary (replaces one with the same id)."""
        self._add(self._needs, record)

    def _add(self, side: _Side, record: ResultRecord | NeedRecord) -> None:
        self._require_fit()
        row = self.text.transform([doc_of(record)])
        index_row = self.text.index_rows(row)
        attrs = encode([record], self._codes)
        if record.id in side.index:
            i = side.index[record.id]
            side.records[i] = record
            side.rows = sp.vstack([side.rows[:i], row, side.rows[i + 1 :]], format="csr")
            side.index_rows = sp.vstack(
                [side.index_rows[:i], index_row, side.index_rows[i + 1 :]], format="csr"
            )
            side.attrs = _set_row(side.attributes, i, attrs)
        else:
            side.records.append(record)
            side.rows = sp.vstack([side.rows, row], format="csr")
            side.index_rows = sp.vstack([side.index_rows, index_row], format="csr")
            side.attrs = Attributes.concat([side.attrs, attrs]) if side.attrs is not None else attrs
        side.rows.sort_indices()
        side.index_rows.sort_indices()
        side.reset_caches()

    @_locked
    def remove_result(self, result_id: str) -> bool:
        """Stop matching a result (withdrawn, closed); False if it was not indexed."""
        return self._remove(self._results, result_id)

    @_locked
    def remove_need(self, need_id: str) -> bool:
        """Stop matching a need; False if it was not indexed."""
        return self._remove(self._needs, need_id)

    @_locked
    def remove(self, kind: Kind, listing_id: str) -> bool:
        """`remove_result` or `remove_need` by kind."""
        return self._remove(self._results if kind == "result" else self._needs, listing_id)

    def _remove(self, side: _Side, listing_id: str) -> bool:
        i = side.index.get(listing_id)
        if i is None:
            return False
        keep = np.ones(len(side.records), dtype=bool)
        keep[i] = False
        side.records.pop(i)
        side.rows = side.rows[keep]
        side.index_rows = side.index_rows[keep]
        side.attrs = side.attrs.take(np.flatnonzero(keep)) if side.attrs is not None else None
        side.reset_caches()
        return True

    # -- ranking -------------------------------------------------------------------------------------

    @_locked
    def rank(self, k: int = 50, *, need_ids: Iterable[str] | None = None, explain: bool = True) -> dict:
        """Best `k` results for every need (or the given needs): ``{need_id: [Match, …]}``."""
        self._require_fit()
        rows = self._rows(self._needs, need_ids)
        return self._rank(self._needs, self._results, rows, k, explain=explain, query_is_need=True)

    @_locked
    def rank_results(
        self, k: int = 50, *, result_ids: Iterable[str] | None = None, explain: bool = True
    ) -> dict:
        """Best `k` needs for every result (or the given results): ``{result_id: [Match, …]}``."""
        self._require_fit()
        rows = self._rows(self._results, result_ids)
        return self._rank(self._results, self._needs, rows, k, explain=explain, query_is_need=False)

    def matches_for_need(self, need_id: str, k: int = 50) -> list[Match]:
        """Best `k` results for an indexed need."""
        return self.rank(k, need_ids=[need_id])[need_id]

    def matches_for_result(self, result_id: str, k: int = 50) -> list[Match]:
        """Best `k` needs for an indexed result."""
        return self.rank_results(k, result_ids=[result_id])[result_id]

    @_locked
    def score_new_result(self, record: ResultRecord, k: int = 50) -> list[Match]:
        """Best `k` indexed needs for a result that is not indexed (nothing is refitted or added)."""
        self._require_fit()
        query = self._side([record], self.text.transform([doc_of(record)]))
        return self._rank(query, self._needs, np.array([0]), k, explain=True, query_is_need=False)[record.id]

    @_locked
    def score_new_need(self, record: NeedRecord, k: int = 50) -> list[Match]:
        """Best `k` indexed results for a need that is not indexed (nothing is refitted or added)."""
        self._require_fit()
        query = self._side([record], self.text.transform([doc_of(record)]))
        return self._rank(query, self._results, np.array([0]), k, explain=True, query_is_need=True)[record.id]

    @_locked
    def score_pair(self, need_id: str, result_id: str) -> Match:
        """The hybrid score and reasons of one indexed pair, whether or not it is in anyone's top k."""
        self._require_fit()
        n, r = self._needs.index[need_id], self._results.index[result_id]
        cosine = float(self._needs.rows[n].multiply(self._results.rows[r]).sum())
        values = components(
            np.array([cosine]),
            self._needs.attributes.take(np.array([n])),
            self._results.attributes.take(np.array([r])),
        )
        score = float(combine(values, self.weights)[0])
        return self._match(self._needs, n, self._results, r, values[0], score, explain=True)

    def _rows(self, side: _Side, ids: Iterable[str] | None) -> np.ndarray:
        if ids is None:
            return np.arange(len(side.records))
        rows = []
        for listing_id in ids:
            if listing_id not in side.index:
                raise KeyError(listing_id)
            rows.append(side.index[listing_id])
        return np.array(rows, dtype=np.int64)

    def _candidates(
        self, query: _Side, target: _Side, rows: np.ndarray, k: int, *, query_is_need: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Text candidates of some query rows: target rows ``(n, c)`` and component values ``(n, c, 6)``.

        Empty places hold row -1 and nan values.
        """
        c = min(len(target.records), max(k, k * self.candidate_factor))
        if len(rows) == 0 or c == 0:
            return np.full((len(rows), c), -1, dtype=np.int64), np.full((len(rows), c, 6), np.nan)
        idx, _ = topk_rows(
            query.index_rows[rows],
            target.index_rows,
            c,
            chunk_size=self.chunk_size,
            n_jobs=self.n_jobs,
            items_t=target.transposed,
        )
        # The index only nominates; the text component is the cosine of the full vectors.
        cos = exact_cosines(query.rows[rows], target.rows, idx)
        flat_q = np.repeat(rows, c)
        flat_t = idx.ravel()
        valid = flat_t >= 0
        values = np.full((flat_t.size, 6), np.nan)
        if valid.any():
            q_attrs = query.attributes.take(flat_q[valid])
            t_attrs = target.attributes.take(flat_t[valid])
            if query_is_need:
                values[valid] = components(cos.ravel()[valid], q_attrs, t_attrs)
            else:
                values[valid] = components(cos.ravel()[valid], t_attrs, q_attrs)
        return idx, values.reshape(len(rows), c, 6)

    def _rank(
        self, query: _Side, target: _Side, rows: np.ndarray, k: int, *, explain: bool, query_is_need: bool
    ) -> dict:
        out: dict[str, list[Match]] = {}
        # Bounded batches keep the (rows × candidates × 6) value arrays small on big rebuilds.
        step = 2048
        for start in range(0, len(rows), step):
            batch = rows[start : start + step]
            idx, values = self._candidates(query, target, batch, k, query_is_need=query_is_need)
            scores = np.where(idx >= 0, combine(values, self.weights), -1.0)
            tie = np.where(idx >= 0, target.id_rank[np.maximum(idx, 0)], np.iinfo(np.int64).max)
            order = np.lexsort((tie, -scores), axis=-1)[:, :k]
            for b, q in enumerate(batch):
                matches = []
                for j in order[b]:
                    t = int(idx[b, j])
                    if t < 0:
                        break
                    pair = (query, int(q), target, t) if query_is_need else (target, t, query, int(q))
                    matches.append(self._match(*pair, values[b, j], float(scores[b, j]), explain=explain))
                out[query.records[q].id] = matches
        return out

    def _match(
        self, needs: _Side, n: int, results: _Side, r: int, values: np.ndarray, score: float, *, explain: bool
    ) -> Match:
        reasons = {}
        if explain:
            terms = self.text.shared_words(*needs.row(n), *results.row(r), limit=self.key_terms)
            need, result = attributes_row(needs.attrs, n), attributes_row(results.attrs, r)
            reasons = explain_reasons(values, self.weights, terms, need, result)
        return Match(needs.records[n].id, results.records[r].id, score, reasons)

    # -- persistence ---------------------------------------------------------------------------------

    @_locked
    def save(self, path: str | Path) -> None:
        """Write the fitted matcher to `path` (joblib pickle with a format version)."""
        self._require_fit()
        joblib.dump({"format": _FORMAT_NAME, "version": FORMAT_VERSION, "matcher": self}, path, compress=3)

    @classmethod
    def load(cls, path: str | Path) -> Matcher:
        """Read a matcher written by `save`. Pickle runs code: load only files this platform wrote."""
        payload = joblib.load(path)
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT_NAME:
            raise ModelFormatError(f"{path} is not a saved matcher")
        if payload.get("version") != FORMAT_VERSION:
            raise ModelFormatError(
                f"{path} has matcher format {payload.get('version')}, this code reads {FORMAT_VERSION}"
            )
        matcher = payload["matcher"]
        if not isinstance(matcher, cls):
            raise ModelFormatError(f"{path} does not hold a {cls.__name__}")
        return matcher

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]
        for name in ("_results", "_needs"):
            side: _Side = state[name]
            state[name] = _Side(
                records=side.records, rows=side.rows, index_rows=side.index_rows, attrs=side.attrs
            )
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._results.reset_caches()
        self._needs.reset_caches()


def score_pairs(
    text: TextModel,
    weights: Weights,
    needs: Sequence[NeedRecord],
    results: Sequence[ResultRecord],
    *,
    key_terms: int = 5,
) -> list[Match]:
    """The hybrid score and reasons of each pair ``(needs[i], results[i])`` under a fitted text model,
    nothing indexed: the same numbers a matcher or store with that model and weights gives the pair."""
    if len(needs) != len(results):
        raise ValueError("needs and results pair up one to one")
    if not needs:
        return []
    n_rows = text.transform([doc_of(n) for n in needs]).tocsr()
    r_rows = text.transform([doc_of(r) for r in results]).tocsr()
    n_rows.sort_indices()
    r_rows.sort_indices()
    codes = FieldCodes()
    n_attrs, r_attrs = encode(needs, codes), encode(results, codes)
    cosines = np.asarray(n_rows.multiply(r_rows).sum(axis=1), dtype=np.float64).ravel()
    values = components(cosines, n_attrs, r_attrs)
    scores = combine(values, weights)
    out = []
    for i, (need, result) in enumerate(zip(needs, results, strict=True)):
        a, b = n_rows[i], r_rows[i]
        terms = text.shared_words(a.indices, a.data, b.indices, b.data, limit=key_terms)
        reasons = explain_reasons(
            values[i], weights, terms, attributes_row(n_attrs, i), attributes_row(r_attrs, i)
        )
        out.append(Match(need.id, result.id, float(scores[i]), reasons))
    return out


def exact_cosines(queries: sp.csr_matrix, items: sp.csr_matrix, idx: np.ndarray) -> np.ndarray:
    """``queries[i] · items[idx[i, j]]`` for every candidate (0 where idx is -1), in bounded batches."""
    out = np.zeros(idx.shape, dtype=np.float64)
    step = 256
    for start in range(0, idx.shape[0], step):
        block = idx[start : start + step]
        wanted = np.unique(block[block >= 0])
        if wanted.size == 0:
            continue
        # Only the nominated items: a (batch × distinct candidates) dense block stays small.
        dots = (queries[start : start + step] @ items[wanted].T).toarray()
        position = np.searchsorted(wanted, np.maximum(block, 0))
        picked = np.take_along_axis(dots, position, axis=1)
        out[start : start + step] = np.where(block >= 0, picked, 0.0)
    return out


def _unique(records: Iterable) -> list:
    """Records in order with later duplicates of an id replacing earlier ones."""
    by_id: dict[str, object] = {}
    for rec in records:
        by_id[rec.id] = rec
    return list(by_id.values())


def _set_row(attrs: Attributes, i: int, new: Attributes) -> Attributes:
    for name in Attributes.__dataclass_fields__:
        column = getattr(attrs, name).copy()
        column[i] = getattr(new, name)[0]
        setattr(attrs, name, column)
    return attrs
