"""Hybrid components: each fit rule, missing data neutral, weights in one place."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matching.records import NeedRecord, ResultRecord
from matching.scoring import COMPONENTS, FieldCodes, Weights, combine, components, encode, in_jjj, mode_mask


def values(need: NeedRecord, result: ResultRecord, cosine: float = 0.5) -> dict[str, float | None]:
    codes = FieldCodes()
    out = components(np.array([cosine]), encode([need], codes), encode([result], codes))[0]
    return {name: (None if math.isnan(v) else float(v)) for name, v in zip(COMPONENTS, out, strict=True)}


def need(**kw) -> NeedRecord:
    return NeedRecord(id="N", title="t", **kw)


def result(**kw) -> ResultRecord:
    return ResultRecord(id="R", title="t", **kw)


@pytest.mark.parametrize(
    ("need_field", "result_field", "expected"),
    [
        ("储能", "储能", 1.0),
        ("储能", "氢能", 0.5),  # same first level 新能源
        ("新能源", "氢能", 0.75),  # the need only names the first level
        ("储能", "人工智能", 0.0),
        (None, "储能", None),
        ("储能", None, None),
        ("某个新领域", "某个新领域", 1.0),
        ("某个新领域", "储能", None),  # unknown field: can only say equal
    ],
)
def test_field_fit(need_field, result_field, expected) -> None:
    assert values(need(field=need_field), result(field=result_field))["field"] == expected


def test_maturity_against_a_wish_and_without_one() -> None:
    assert values(need(maturity="中试"), result(maturity="产业化"))["maturity"] == 1.0
    assert values(need(maturity="中试"), result(maturity="小试"))["maturity"] == pytest.approx(0.6)
    assert values(need(maturity="产业化"), result(maturity="实验室阶段"))["maturity"] == 0.0
    # no wish: more mature is better for an enterprise
    without = [
        values(need(), result(maturity=m))["maturity"] for m in ("实验室阶段", "小试", "中试", "产业化")
    ]
    assert without == sorted(without) and without[-1] == 1.0
    assert values(need(maturity="中试"), result())["maturity"] is None


def test_mode_compatibility() -> None:
    assert (
        values(need(cooperation_modes=("技术许可",)), result(transfer_modes=("技术许可", "技术服务")))["mode"]
        == 1.0
    )
    # same kind (rights): partial
    assert values(need(cooperation_modes=("技术转让",)), result(transfer_modes=("技术许可",)))["mode"] == 0.5
    assert values(need(cooperation_modes=("技术咨询",)), result(transfer_modes=("作价投资",)))["mode"] == 0.0
    assert values(need(), result(transfer_modes=("技术许可",)))["mode"] is None


@pytest.mark.parametrize("mode", ["合作开发", "委托开发", "技术转让"])
def test_challenge_is_compatible_with_development_and_transfer(mode) -> None:
    assert values(need(cooperation_modes=("揭榜挂帅",)), result(transfer_modes=(mode,)))["mode"] == 1.0
    assert values(need(is_challenge=True), result(transfer_modes=(mode,)))["mode"] == 1.0


def test_challenge_is_not_compatible_with_consulting() -> None:
    assert values(need(cooperation_modes=("揭榜挂帅",)), result(transfer_modes=("技术咨询",)))["mode"] == 0.0
    assert mode_mask(["揭榜挂帅"]) == mode_mask(["合作开发", "委托开发", "技术转让"])


def test_price_within_above_and_negotiable() -> None:
    budget = need(budget_min=50, budget_max=100)
    assert values(budget, result(price=80))["price"] == 1.0
    assert values(budget, result(price=20))["price"] == 1.0  # cheaper than the minimum is fine
    over = [values(budget, result(price=p))["price"] for p in (120, 150, 200, 400)]
    assert over == sorted(over, reverse=True) and 0 < over[0] < 1 and over[-1] < 0.1
    assert values(budget, result(price=None))["price"] is None  # 面议
    assert values(need(), result(price=80))["price"] is None
    assert values(need(budget_min=50), result(price=500))["price"] == 1.0  # no upper bound


def test_region_is_a_bonus_only() -> None:
    assert values(need(region="天津"), result(region="北京市"))["region"] == 1.0
    assert values(need(region="天津"), result(region="其他"))["region"] is None
    assert values(need(), result(region="天津"))["region"] is None
    assert in_jjj("河北省") and not in_jjj("山东") and not in_jjj(None)


def test_missing_component_is_dropped_and_weights_renormalised() -> None:
    w = Weights(text=1, field=1, maturity=0, mode=0, price=0, region=0, text_exponent=1)
    full = combine(np.array([[0.4, 1.0, np.nan, np.nan, np.nan, np.nan]]), w)[0]
    missing = combine(np.array([[0.4, np.nan, np.nan, np.nan, np.nan, np.nan]]), w)[0]
    mismatch = combine(np.array([[0.4, 0.0, np.nan, np.nan, np.nan, np.nan]]), w)[0]
    assert full == pytest.approx(0.7) and missing == pytest.approx(0.4) and mismatch == pytest.approx(0.2)
    # neutral: between a fit and a misfit, never below the misfit
    assert mismatch < missing < full


def test_region_bonus_never_lowers_a_score() -> None:
    w = Weights()
    base = np.array([[0.3, 1.0, 1.0, 1.0, 1.0, np.nan]])
    bonus = base.copy()
    bonus[0, 5] = 1.0
    assert combine(bonus, w)[0] >= combine(base, w)[0]


def test_scores_are_clipped_to_unit_interval() -> None:
    v = np.array([[1.5, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, np.nan]])
    s = combine(v, Weights())
    assert s[0] == 1.0 and s[1] == 0.0


def test_weights_validate_and_replace() -> None:
    with pytest.raises(ValueError):
        Weights(price=-1)
    with pytest.raises(ValueError):
        Weights(text_exponent=0)
    w = Weights().replace(field=0.3)
    assert w.field == 0.3 and w.text == Weights().text
    assert list(w.vector()) == [w.text, w.field, w.maturity, w.mode, w.price, w.region]
    with pytest.raises(AttributeError):
        w.text = 1  # frozen: one place, changed only by building a new one
