"""Chunked top-k equals the naive full product and sort."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from matching.topk import naive_topk, topk_rows, topk_sets_agree


def random_rows(n: int, width: int, per_row: int, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), per_row)
    cols = rng.integers(0, width, n * per_row)
    data = rng.random(n * per_row).astype(np.float32)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(n, width), dtype=np.float32)
    return normalize(matrix).astype(np.float32).tocsr()


@pytest.mark.parametrize("chunk_size", [1, 7, 64, None])
def test_chunked_equals_naive(chunk_size) -> None:
    queries = random_rows(50, 300, 12, seed=1)
    items = random_rows(400, 300, 12, seed=2)
    chunked = topk_rows(queries, items, 10, chunk_size=chunk_size)
    naive = naive_topk(queries, items, 10)
    assert topk_sets_agree(chunked, naive) == (True, 0)
    np.testing.assert_allclose(chunked[1], naive[1], atol=1e-6)


def test_ties_at_the_boundary_are_allowed() -> None:
    items = sp.csr_matrix(np.eye(4, dtype=np.float32)[[0, 0, 0, 1]])  # three identical items
    queries = sp.csr_matrix(np.array([[1, 0, 0, 0]], dtype=np.float32))
    idx, val = topk_rows(queries, items, 2)
    assert list(idx[0]) == [0, 1]  # equal scores: lower index first
    other = (np.array([[0, 2]]), val)
    assert topk_sets_agree((idx, val), other) == (True, 0)
    wrong = (np.array([[0, 3]]), np.array([[1.0, 0.0]], dtype=np.float32))
    assert topk_sets_agree((idx, val), wrong)[0] is False


def test_rows_without_overlap_are_padded() -> None:
    items = sp.csr_matrix(np.array([[1, 0], [1, 0]], dtype=np.float32))
    queries = sp.csr_matrix(np.array([[0, 1], [1, 0]], dtype=np.float32))
    idx, val = topk_rows(queries, items, 3)
    assert idx.shape == (2, 2)  # k capped at the number of items
    assert list(idx[0]) == [-1, -1] and list(val[0]) == [0, 0]
    assert list(idx[1]) == [0, 1]


def test_empty_inputs() -> None:
    items = sp.csr_matrix((0, 5), dtype=np.float32)
    queries = random_rows(3, 5, 2, seed=3)
    idx, _ = topk_rows(queries, items, 5)
    assert idx.shape == (3, 0)


def test_worker_processes_give_the_same_answer() -> None:
    queries = random_rows(40, 200, 10, seed=4)
    items = random_rows(300, 200, 10, seed=5)
    serial = topk_rows(queries, items, 5, chunk_size=8)
    parallel = topk_rows(queries, items, 5, chunk_size=8, n_jobs=2)
    np.testing.assert_array_equal(serial[0], parallel[0])
    np.testing.assert_array_equal(serial[1], parallel[1])
