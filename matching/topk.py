"""Top-k cosine similarity between two sets of L2-normalised sparse rows.

`topk_rows` never builds the whole similarity matrix: it multiplies one chunk of query rows at a time
(bounded memory), keeps each row's best k with `np.argpartition` (linear, not a sort), and can spread
chunks over worker processes (scipy's sparse product holds the GIL, so threads would not help).
`naive_topk` is the obvious version — the full product, then a sort per row — kept for tests and the
benchmark.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed

#: about this many similarity entries are held per chunk (≈ 8 bytes each while sparse)
DEFAULT_CHUNK_ENTRIES = 1 << 24


def _row_topk(scores: sp.csr_matrix, k: int, min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a (chunk × items) similarity matrix, the best k item indices and scores.

    Rows with fewer than k positive entries are padded with index -1 and score 0. Within a row the order
    is score descending, then item index ascending, so equal scores come out in a stable order.
    """
    n = scores.shape[0]
    idx = np.full((n, k), -1, dtype=np.int64)
    val = np.zeros((n, k), dtype=np.float32)
    indptr, indices, data = scores.indptr, scores.indices, scores.data
    for row in range(n):
        start, end = indptr[row], indptr[row + 1]
        if start == end:
            continue
        d = data[start:end]
        i = indices[start:end]
        if min_score > 0:
            keep = d > min_score
            d, i = d[keep], i[keep]
        else:
            keep = d > 0
            if not keep.all():
                d, i = d[keep], i[keep]
        if d.size > k:
            # Everything scoring at least the k-th value, so that ties at the boundary are settled by
            # item index below rather than by whatever argpartition happened to pick.
            kth = d[np.argpartition(-d, k - 1)[k - 1]]
            part = np.flatnonzero(d >= kth)
            d, i = d[part], i[part]
        order = np.lexsort((i, -d))[:k]
        m = order.size
        idx[row, :m] = i[order]
        val[row, :m] = d[order]
    return idx, val


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def _chunk_job(
    queries: sp.csr_matrix, items_t: sp.csr_matrix, bounds: list[tuple[int, int]], k: int, min_score: float
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    out = []
    for start, end in bounds:
        product = (queries[start:end] @ items_t).tocsr()
        idx, val = _row_topk(product, k, min_score)
        out.append((start, idx, val))
        del product
    return out


def chunk_rows(n_items: int, chunk_entries: int = DEFAULT_CHUNK_ENTRIES) -> int:
    """Query rows per chunk so that one chunk's similarity block stays near `chunk_entries` entries."""
    return max(1, chunk_entries // max(1, n_items))


def topk_rows(
    queries: sp.csr_matrix,
    items: sp.csr_matrix,
    k: int,
    *,
    chunk_size: int | None = None,
    n_jobs: int = 1,
    min_score: float = 0.0,
    items_t: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Best `k` items for every query row by dot product (cosine for normalised rows).

    Returns ``(indices, scores)``, both ``(n_queries, k)``; missing places hold index -1 and score 0.
    `items_t` may pass a cached ``items.T.tocsr()``. `n_jobs` > 1 (or -1 for every core) runs chunks in
    worker processes through joblib.
    """
    n_q = queries.shape[0]
    k = max(0, min(int(k), items.shape[0]))
    if n_q == 0 or k == 0:
        return np.full((n_q, k), -1, dtype=np.int64), np.zeros((n_q, k), dtype=np.float32)
    queries = queries.tocsr()
    if items_t is None:
        items_t = items.T.tocsr()
    size = chunk_size or chunk_rows(items.shape[0])
    bounds = list(_chunks(n_q, size))
    idx = np.empty((n_q, k), dtype=np.int64)
    val = np.empty((n_q, k), dtype=np.float32)
    jobs = _effective_jobs(n_jobs, len(bounds))
    if jobs == 1:
        parts = _chunk_job(queries, items_t, bounds, k, min_score)
    else:
        # A handful of tasks per worker: enough to balance, few enough to keep transfer overhead low.
        groups = [bounds[i :: jobs * 2] for i in range(jobs * 2)]
        results = Parallel(n_jobs=jobs, backend="loky")(
            delayed(_chunk_job)(queries, items_t, group, k, min_score) for group in groups if group
        )
        parts = [part for result in results for part in result]
    for start, part_idx, part_val in parts:
        idx[start : start + part_idx.shape[0]] = part_idx
        val[start : start + part_val.shape[0]] = part_val
    return idx, val


def _effective_jobs(n_jobs: int, n_chunks: int) -> int:
    if n_jobs is None or n_jobs == 1 or n_chunks < 2:
        return 1
    cores = os.cpu_count() or 1
    jobs = cores if n_jobs < 0 else n_jobs
    return max(1, min(jobs, cores, n_chunks))


def naive_topk(queries: sp.csr_matrix, items: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The baseline: the whole sparse product at once, then a full sort of every row."""
    n_q = queries.shape[0]
    k = max(0, min(int(k), items.shape[0]))
    product = (queries @ items.T).tocsr()
    idx = np.full((n_q, k), -1, dtype=np.int64)
    val = np.zeros((n_q, k), dtype=np.float32)
    for row in range(n_q):
        start, end = product.indptr[row], product.indptr[row + 1]
        d = product.data[start:end]
        i = product.indices[start:end]
        order = np.argsort(-d, kind="stable")[:k]
        order = order[d[order] > 0]
        idx[row, : order.size] = i[order]
        val[row, : order.size] = d[order]
    return idx, val


def topk_sets_agree(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], *, tol: float = 1e-5
) -> tuple[bool, int]:
    """Whether two top-k results pick the same set per row, ties at the k-th score allowed.

    Returns ``(all_agree, rows_disagreeing)``. A row agrees when its sets are equal, or when every item in
    only one of them scores within `tol` of that row's k-th (boundary) score in both results.
    """
    a_idx, a_val = a
    b_idx, b_val = b
    bad = 0
    for row in range(a_idx.shape[0]):
        sa = {int(i) for i in a_idx[row] if i >= 0}
        sb = {int(i) for i in b_idx[row] if i >= 0}
        if sa == sb:
            continue
        if len(sa) != len(sb):
            bad += 1
            continue
        boundary_a = float(a_val[row][a_idx[row] >= 0].min())
        boundary_b = float(b_val[row][b_idx[row] >= 0].min())
        score = {int(i): float(v) for i, v in zip(a_idx[row], a_val[row], strict=True) if i >= 0}
        score.update({int(i): float(v) for i, v in zip(b_idx[row], b_val[row], strict=True) if i >= 0})
        if abs(boundary_a - boundary_b) > tol or any(abs(score[i] - boundary_a) > tol for i in sa ^ sb):
            bad += 1
    return bad == 0, bad
