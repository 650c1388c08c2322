"""First-stage settings: IDF from the needs, the title share, CSLS's hub penalty, their selection."""

from __future__ import annotations

import numpy as np
import pytest

from matching import Matcher, NeedRecord, Pair, ResultRecord, TextConfig
from matching.learn import hub_penalty, keyword_overlap, select_first_stage
from matching.text import TextModel

from .conftest import BEST, NEEDS, RESULTS

DOCS = [
    ("膜分离污水处理", (), "反渗透膜处理印染废水"),  # results
    ("光伏组件清洗", (), "无水清洗光伏板"),
    ("降低成本 污水", (), "希望降低成本，污水处理效率低"),  # needs: 希望 in every need
    ("降低成本 光伏", (), "光伏板积灰，希望降低成本"),
]
IS_NEED = np.array([False, False, True, True])


def _weight(model: TextModel, rows, doc: int, term: str) -> float:
    column = list(model.words.vocabulary).index(term)
    return float(rows[doc, column])


def test_idf_from_the_needs_weighs_down_what_every_need_says() -> None:
    by_all = TextModel(TextConfig(idf_from="all"))
    rows_all = by_all.fit_transform(DOCS, needs=IS_NEED)
    by_needs = TextModel(TextConfig(idf_from="needs"))
    rows_needs = by_needs.fit_transform(DOCS, needs=IS_NEED)
    assert _weight(by_needs, rows_needs, 2, "希望") < _weight(by_all, rows_all, 2, "希望")
    # without knowing which docs are needs, "needs" falls back to all of them
    same = TextModel(TextConfig(idf_from="needs")).fit_transform(DOCS)
    assert np.allclose(same.toarray(), rows_all.toarray())


def test_title_share_one_compares_titles_alone() -> None:
    docs = [("锂电池电解液", (), "零下四十度"), ("锂电池电解液", (), "高温环境与快充")]
    rows = TextModel(TextConfig(title_share=1.0, idf_from="all")).fit_transform(docs)
    assert float(rows[0].multiply(rows[1]).sum()) == pytest.approx(1.0, abs=1e-5)
    blended = TextModel(TextConfig(title_share=0.3, idf_from="all")).fit_transform(docs)
    assert float(blended[0].multiply(blended[1]).sum()) < 0.999


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        TextConfig(idf_from="results")
    with pytest.raises(ValueError):
        TextConfig(title_share=1.5)


def test_a_hub_result_gets_the_largest_penalty() -> None:
    hub = ResultRecord(id="R-hub", title="智能 检测 系统 平台", summary=" ".join(n.title for n in NEEDS))
    matcher = Matcher().fit([*RESULTS, hub], NEEDS)
    penalty = hub_penalty(matcher, k=3)
    assert matcher.results[int(np.argmax(penalty))].id == "R-hub"
    assert abs(float(penalty.mean())) < 1e-6


def test_selection_reports_every_setting_and_a_held_out_choice() -> None:
    pairs = [Pair(n, r, 3) for n, r in BEST.items()]
    extra = [NeedRecord(id=f"{n.id}-2", title=n.title + "需求", description=n.description) for n in NEEDS]
    pairs += [Pair(f"{n}-2", r, 2) for n, r in BEST.items()]
    report = select_first_stage(RESULTS, [*NEEDS, *extra], pairs, folds=2)
    assert set(report["settings"]) >= {"default", "idf_all", "title_0.3", "csls_10", "keywords_0.2"}
    assert len(report["chosen_per_fold"]) == 2
    assert all(f["chosen"] in report["settings"] for f in report["chosen_per_fold"])
    for metric in ("ndcg@10", "mrr@10", "recall@50"):
        lo, hi = report["selected_cv"][metric]["ci95"]
        assert lo <= report["selected_cv"][metric]["mean"] <= hi


def test_keyword_query_is_the_share_of_the_needs_keywords_the_result_holds() -> None:

    need = NeedRecord(id="N", title="污水除磷", description="……", keywords=("除磷", "污水处理"))
    holds = ResultRecord(
        id="R1", title="高效除磷技术", summary="采用化学除磷工艺的污水处理方案，适用于城镇污水"
    )
    misses = ResultRecord(id="R2", title="光伏板清洗机器人", summary="无水清洗")
    assert keyword_overlap(need, holds) > 0.5
    assert keyword_overlap(need, misses) == 0.0
