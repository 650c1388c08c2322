"""Property tests: scores lie in [0, 1] and rankings do not depend on input order."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Matcher, NeedRecord, ResultRecord
from matching.scoring import Weights, combine
from vocab.taxonomy import MATURITY_ORDER, TransferMode

WORDS = [
    "锂电池",
    "储能",
    "注塑",
    "缺陷检测",
    "无人机",
    "燃料电池",
    "高盐废水",
    "零排放",
    "番茄",
    "病害",
    "AI",
    "5G",
    "10kW",
]
FIELDS = [None, "储能", "氢能", "人工智能", "水污染防治", "智慧农业", "未知领域"]
MODES = [m.value for m in TransferMode] + ["揭榜挂帅"]

text = st.lists(st.sampled_from(WORDS), min_size=0, max_size=5).map("".join)
money = st.one_of(st.none(), st.floats(min_value=0, max_value=1000, allow_nan=False))


@st.composite
def results(draw, i: int) -> ResultRecord:
    return ResultRecord(
        id=f"R{i}",
        title=draw(text) or "成果",
        summary=draw(text),
        keywords=tuple(draw(st.lists(st.sampled_from(WORDS), max_size=3))),
        field=draw(st.sampled_from(FIELDS)),
        maturity=draw(st.sampled_from([None, *MATURITY_ORDER])),
        transfer_modes=tuple(draw(st.lists(st.sampled_from(MODES[:-1]), max_size=2))),
        price=draw(money),
        region=draw(st.sampled_from([None, "天津", "北京", "其他"])),
    )


@st.composite
def needs(draw, i: int) -> NeedRecord:
    low, high = draw(money), draw(money)
    return NeedRecord(
        id=f"N{i}",
        title=draw(text) or "需求",
        description=draw(text),
        field=draw(st.sampled_from(FIELDS)),
        cooperation_modes=tuple(draw(st.lists(st.sampled_from(MODES), max_size=2))),
        budget_min=low,
        budget_max=high if high is None or low is None or high >= low else low,
        region=draw(st.sampled_from([None, "河北", "其他"])),
        is_challenge=draw(st.booleans()),
    )


@st.composite
def corpora(draw):
    n_r = draw(st.integers(1, 6))
    n_n = draw(st.integers(1, 4))
    return [draw(results(i)) for i in range(n_r)], [draw(needs(i)) for i in range(n_n)]


weights = st.builds(
    Weights,
    text=st.floats(0, 1),
    field=st.floats(0, 1),
    maturity=st.floats(0, 1),
    mode=st.floats(0, 1),
    price=st.floats(0, 1),
    region=st.floats(0, 1),
    text_exponent=st.floats(0.1, 1),
)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(corpus=corpora(), w=weights)
def test_scores_lie_in_unit_interval(corpus, w) -> None:
    res, nds = corpus
    ranked = Matcher(w).fit(res, nds).rank(k=10)
    for matches in ranked.values():
        for m in matches:
            assert 0.0 <= m.score <= 1.0
            for name in ("text", "field", "maturity", "mode", "price", "region"):
                value = m.reasons[name]["value"]
                assert value is None or 0.0 <= value <= 1.0


@SETTINGS
@given(corpus=corpora(), seed=st.integers(0, 2**16))
def test_ranking_is_stable_under_reordering(corpus, seed) -> None:
    res, nds = corpus
    rng = np.random.default_rng(seed)
    shuffled_r = [res[i] for i in rng.permutation(len(res))]
    shuffled_n = [nds[i] for i in rng.permutation(len(nds))]
    a = Matcher().fit(res, nds).rank(k=10)
    b = Matcher().fit(shuffled_r, shuffled_n).rank(k=10)
    assert a.keys() == b.keys()
    for need_id in a:
        assert [(m.result_id, m.score) for m in a[need_id]] == [(m.result_id, m.score) for m in b[need_id]]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.just(float("nan")), st.floats(0, 1)), min_size=6, max_size=6),
    w=weights,
)
def test_combine_stays_in_unit_interval(values, w) -> None:
    score = combine(np.array([values]), w)[0]
    assert 0.0 <= score <= 1.0
