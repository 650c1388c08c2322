"""The candidate index: pruned rows nominate, full rows score; parallel segmentation changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from matching import Matcher, TextConfig
from matching import text as text_module
from matching.matcher import exact_cosines
from matching.text import TextModel, _strongest, count_docs, doc_of, l2_normalize

from .conftest import NEEDS, RESULTS


def test_index_rows_keep_the_strongest_features_without_unigrams() -> None:
    model = TextModel(TextConfig(index_features=10))
    rows = model.fit_transform([doc_of(r) for r in (*RESULTS, *NEEDS)])
    index = model.index_rows(rows)
    assert index.shape == rows.shape
    assert np.diff(index.indptr).max() <= 10
    norms = np.sqrt(np.asarray(index.multiply(index).sum(axis=1)).ravel())
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)
    names = np.concatenate([model.words.vocabulary, model.chars.vocabulary])
    used = names[np.unique(index.indices)]
    unigram_columns = np.flatnonzero([len(g) == 1 for g in model.chars.vocabulary]) + model.word_width
    assert not np.isin(index.indices, unigram_columns).any()
    assert len(used) > 0
    # every kept entry is one of the row's own strongest
    for i in range(rows.shape[0]):
        full = dict(zip(rows[i].indices, rows[i].data, strict=True))
        kept = set(index[i].indices)
        allowed = [v for c, v in full.items() if c not in set(unigram_columns)]
        if kept:
            assert min(full[c] for c in kept) >= sorted(allowed, reverse=True)[len(kept) - 1] - 1e-6


def test_very_common_terms_stay_out_of_the_index_in_big_corpora() -> None:
    config = TextConfig(index_max_df=0.5, index_df_floor=1)
    model = TextModel(config)
    docs = [("储能 电站", (), "甲方"), ("储能 系统", (), "乙方"), ("番茄 病害", (), "温室")] * 3
    rows = model.fit_transform(docs)
    index = model.index_rows(rows)
    column = list(model.words.vocabulary).index("储能")
    assert column in rows.indices and column not in index.indices


def test_exact_cosines_match_row_products() -> None:
    rng = np.random.default_rng(0)
    a = sp.random(5, 30, density=0.3, format="csr", random_state=1, dtype=np.float32)
    b = sp.random(9, 30, density=0.3, format="csr", random_state=2, dtype=np.float32)
    idx = rng.integers(-1, 9, size=(5, 4))
    got = exact_cosines(a, b, idx)
    full = (a @ b.T).toarray()
    want = np.where(idx >= 0, np.take_along_axis(full, np.maximum(idx, 0), axis=1), 0.0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_candidates_are_scored_with_the_full_vectors(fitted: Matcher) -> None:
    match = fitted.matches_for_need("N-battery", k=1)[0]
    n, r = fitted._needs.index["N-battery"], fitted._results.index[match.result_id]
    full = float(fitted._needs.rows[n].multiply(fitted._results.rows[r]).sum())
    assert match.reasons["text"]["cosine"] == pytest.approx(full, abs=1e-4)


def test_parallel_counting_gives_the_same_rows(monkeypatch) -> None:
    docs = [doc_of(r) for r in (*RESULTS, *NEEDS)] * 2 + [("", (), "")]
    serial = TextModel().fit_transform(docs)
    monkeypatch.setattr(text_module, "PARALLEL_MIN_DOCS", 1)
    monkeypatch.setattr(text_module.os, "cpu_count", lambda: 2)
    (words, vocab), _ = count_docs(TextModel().config, docs, n_jobs=2)
    assert words.shape == (3 * len(docs), len(vocab)) and list(vocab) == sorted(vocab)
    parallel = TextModel().fit_transform(docs, n_jobs=2)
    assert parallel.shape == serial.shape
    assert abs(serial - parallel).max() < 1e-6


def test_normalising_and_pruning_handle_empty_rows_anywhere() -> None:

    dense = np.array([[0, 0, 0], [3, 4, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=np.float32)
    rows = l2_normalize(sp.csr_matrix(dense))
    np.testing.assert_allclose(rows.toarray(), [[0, 0, 0], [0.6, 0.8, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]])
    pruned = _strongest(sp.csr_matrix(dense), 1).toarray()
    np.testing.assert_allclose(pruned, [[0, 0, 0], [0, 4, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]])
    assert l2_normalize(sp.csr_matrix((0, 0))).shape == (0, 0)


def test_fit_on_empty_inputs() -> None:
    assert Matcher().fit([], []).rank() == {}
    assert Matcher().fit(RESULTS, []).rank() == {}
    assert all(v == [] for v in Matcher().fit([], NEEDS).rank().values())
