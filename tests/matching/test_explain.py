"""Explanations in words: no filler among the shared terms, acronyms as written, sentences, levels."""

from __future__ import annotations

import numpy as np
import pytest

from matching import Matcher, NeedRecord, ResultRecord
from matching.explain import display_stopwords, display_term, score_level, written_forms
from vocab.analyzer import is_stopword


def test_the_reviewed_list_holds_the_filler_seen_in_real_matches() -> None:
    words = display_stopwords()
    assert {"可用", "连续", "减少"} <= words
    assert not {"电池", "检测", "传感器"} & words


def test_no_explanation_on_the_demo_data_contains_a_stopword(demo_matcher: Matcher) -> None:
    stop = display_stopwords()
    shown = 0
    for matches in demo_matcher.rank(10).values():
        for match in matches:
            terms = match.reasons["key_terms"]
            shown += len(terms)
            bad = [t for t in terms if t in stop or is_stopword(t) or t.lower() in stop]
            assert not bad, f"{match.need_id}–{match.result_id} shows {bad}"
    assert shown > 1000  # the demo matches do show terms


def test_acronyms_are_shown_as_the_listings_write_them() -> None:
    forms = written_forms(["采用 PCR 检测", "储能 2 MWh 电站", "电池 BMS 与 Li-ion"])
    assert display_term("pcr", forms) == "PCR"
    assert display_term("mwh", forms) == "MWh"
    assert display_term("bms", forms) == "BMS"
    assert display_term("qpcr", {}) == "QPCR"  # unseen short letter run: an acronym
    assert display_term("电池", forms) == "电池"


def test_matcher_key_terms_keep_the_written_case() -> None:
    result = ResultRecord(
        id="R1",
        title="非洲猪瘟 PCR 快速检测试剂盒",
        summary="荧光定量 PCR 检测非洲猪瘟病毒，现场 30 分钟出结果",
        field="检验检测",
    )
    other = ResultRecord(id="R2", title="光伏组件清洗机器人", summary="无水清洗光伏板，提高发电效率")
    need = NeedRecord(
        id="N1",
        title="猪场非洲猪瘟现场快速检测",
        description="需要现场用 PCR 快速检测非洲猪瘟",
        field="检验检测",
    )
    match = Matcher().fit([result, other], [need]).matches_for_need("N1", k=1)[0]
    assert "PCR" in match.reasons["key_terms"]
    assert "pcr" not in match.reasons["key_terms"]


def test_field_and_constraints_are_sentences(demo_matcher: Matcher) -> None:
    need = NeedRecord(
        id="N-s",
        title="储能电站电池热失控预警",
        description="储能电站电池热失控预警与消防联动",
        field="储能",
        cooperation_modes=("技术许可",),
        budget_min=30,
        budget_max=80,
        region="天津",
    )
    result = ResultRecord(
        id="R-s",
        title="储能电池热失控早期预警系统",
        summary="多传感器融合的储能电池热失控早期预警",
        field="储能",
        maturity="中试",
        transfer_modes=("技术许可", "技术服务"),
        price=50,
        region="北京",
    )
    match = Matcher().fit([result], [need]).matches_for_need("N-s", k=1)[0]
    assert match.reasons["sentences"] == [
        "同属储能",
        "成果处于中试阶段",
        "合作方式一致：技术许可",
        "成果报价 50 万元在需求预算 30–80 万元之内",
        "双方都在京津冀",
    ]


@pytest.mark.parametrize(
    ("score", "label"), [(0.9, "高"), (0.6, "高"), (0.5, "中"), (0.3, "低"), (None, "低")]
)
def test_score_levels(score: float | None, label: str) -> None:
    assert score_level(score) == label


def test_levels_split_the_demo_top_matches(demo_matcher: Matcher) -> None:
    levels = {score_level(m.score) for ms in demo_matcher.rank(10).values() for m in ms}
    assert levels == {"高", "中", "低"}
    assert np.isfinite([m.score for ms in demo_matcher.rank(1).values() for m in ms]).all()
