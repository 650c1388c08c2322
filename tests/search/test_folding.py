"""Folding shared by the analyzer and the search index: full width, traditional characters, stopwords."""

from __future__ import annotations

from search.text import fold, highlight, query_terms
from vocab.analyzer import normalize, to_simplified, tokenize


def test_traditional_folds_to_simplified_one_for_one() -> None:
    assert to_simplified("鋰電池檢測與資訊") == "锂电池检测与资讯"
    assert len(to_simplified("乾燥設備著作權")) == len("乾燥設備著作權")
    assert to_simplified("电池 already simplified") == "电池 already simplified"


def test_analyzer_and_index_fold_alike() -> None:
    assert normalize("ＰＣＲ 電池") == "pcr 电池"
    assert fold("ＰＣＲ 電池") == "pcr 电池"
    assert tokenize("鋰電池管理系統") == tokenize("锂电池管理系统")


def test_highlight_offsets_survive_the_fold() -> None:
    assert highlight("新型鋰電池", query_terms("电池")) == "新型鋰<mark>電池</mark>"


def test_stopword_stays_inside_a_short_query() -> None:
    # 高 is stop-listed: dropping it would search 压 alone
    assert [t.surfaces for t in query_terms("高压")] == [("高压",)]
    assert [t.surfaces for t in query_terms("大数据")] == [("大数据",)]


def test_a_long_query_still_drops_filler() -> None:
    surfaces = [s for t in query_terms("如何去除花椒中的苦味") for s in t.surfaces]
    assert "如何" not in surfaces
    assert {"花椒", "苦味"} <= set(surfaces)
