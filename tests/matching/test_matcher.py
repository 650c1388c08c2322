"""The matcher end to end on hand-made listings."""

from __future__ import annotations

import dataclasses
import threading

import joblib
import numpy as np
import pytest

from matching import COMPONENTS, Matcher, ModelFormatError, NeedRecord, ResultRecord, Weights
from matching.matcher import score_pairs
from matching.text import TextModel, char_text, doc_of, keyword_tokens, word_tokens

from .conftest import BEST, NEEDS, RESULTS


def test_each_need_gets_its_known_best_result_first(fitted: Matcher) -> None:
    ranked = fitted.rank(k=3)
    for need_id, best in BEST.items():
        assert ranked[need_id][0].result_id == best, ranked[need_id]


def test_scores_descend_and_stay_in_unit_interval(fitted: Matcher) -> None:
    for matches in fitted.rank(k=10).values():
        scores = [m.score for m in matches]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)


def test_reasons_carry_every_component_and_readable_key_terms(fitted: Matcher) -> None:
    match = fitted.matches_for_need("N-water", k=1)[0]
    reasons = match.reasons
    assert set(reasons) == {*COMPONENTS, "key_terms", "sentences"}
    for name in COMPONENTS:
        assert reasons[name]["weight"] == getattr(Weights(), name)
    assert reasons["field"]["value"] == 1.0
    assert reasons["mode"]["value"] == 1.0  # 揭榜挂帅 vs 技术转让
    assert reasons["price"]["value"] is None  # 面议
    assert reasons["region"]["value"] == 1.0  # 河北 and 河北
    assert 0 < reasons["text"]["cosine"] <= reasons["text"]["value"] <= 1
    terms = reasons["key_terms"]
    assert "零排放" in terms and "高盐废水" in terms
    assert all(len(t) >= 2 for t in terms)  # words, not single characters


def test_matches_for_result_is_the_other_direction(fitted: Matcher) -> None:
    needs = fitted.matches_for_result("R-vision", k=2)
    assert needs[0].need_id == "N-vision" and needs[0].result_id == "R-vision"
    pair = fitted.score_pair("N-vision", "R-vision")
    assert pair.score == pytest.approx(needs[0].score)


def test_identical_results_tie_and_break_by_id() -> None:
    twin_b = dataclasses.replace(RESULTS[1], id="R-twin-b")
    twin_a = dataclasses.replace(RESULTS[1], id="R-twin-a")
    matcher = Matcher().fit([twin_b, *RESULTS[2:], twin_a], NEEDS)
    top = matcher.matches_for_need("N-vision", k=2)
    assert [m.result_id for m in top] == ["R-twin-a", "R-twin-b"]
    assert top[0].score == top[1].score


def test_need_with_no_usable_text_gets_no_candidates_and_no_error() -> None:
    empty = NeedRecord(id="N-empty", title="。。。", field="储能")
    matcher = Matcher().fit(RESULTS, [*NEEDS, empty])
    assert matcher.matches_for_need("N-empty", k=5) == []
    assert matcher.score_new_need(NeedRecord(id="N-x", title="！！"), k=5) == []


def test_listing_without_field_is_neutral_not_penalised(fitted: Matcher) -> None:
    need = NeedRecord(
        id="N-pv", title="柔性钙钛矿太阳能电池", description="需要低温制备柔性钙钛矿电池", field="光伏"
    )
    top = fitted.score_new_need(need, k=3)
    assert top[0].result_id == "R-nofield"
    assert top[0].reasons["field"]["value"] is None
    # With every other component missing too, the score is just the shaped text value.
    assert top[0].score == pytest.approx(top[0].reasons["text"]["value"], abs=1e-4)


def test_missing_budget_and_price_are_neutral() -> None:
    base = NeedRecord(id="N", title="高盐废水零排放", description="高盐废水分盐回收")
    res = dataclasses.replace(RESULTS[2], price=None)
    matcher = Matcher().fit([res], [base])
    neutral = matcher.score_pair("N", res.id)
    assert neutral.reasons["price"]["value"] is None
    over = Matcher().fit([dataclasses.replace(res, price=1000)], [dataclasses.replace(base, budget_max=100)])
    assert over.score_pair("N", res.id).score < neutral.score


def test_mode_mismatch_lowers_the_score() -> None:
    need = NeedRecord(id="N", title="高盐废水零排放", cooperation_modes=("技术转让",))
    fit = Matcher().fit([RESULTS[2]], [need]).score_pair("N", "R-water")
    consult = dataclasses.replace(need, cooperation_modes=("技术咨询",))
    misfit = Matcher().fit([RESULTS[2]], [consult]).score_pair("N", "R-water")
    assert fit.reasons["mode"]["value"] == 1.0 and misfit.reasons["mode"]["value"] == 0.0
    assert misfit.score < fit.score


def test_save_and_load_give_identical_scores(fitted: Matcher, tmp_path) -> None:
    path = tmp_path / "matcher.joblib"
    fitted.save(path)
    loaded = Matcher.load(path)
    before = fitted.rank(k=5)
    after = loaded.rank(k=5)
    assert before == after  # Match equality: ids and score
    assert [m.reasons for ms in before.values() for m in ms] == [
        m.reasons for ms in after.values() for m in ms
    ]
    new = NeedRecord(id="N-new", title="锂电池健康状态评估", description="储能电站电池寿命")
    assert fitted.score_new_need(new) == loaded.score_new_need(new)


def test_load_refuses_other_files_and_versions(tmp_path) -> None:
    other = tmp_path / "other.joblib"
    joblib.dump({"hello": 1}, other)
    with pytest.raises(ModelFormatError):
        Matcher.load(other)
    old = tmp_path / "old.joblib"
    joblib.dump({"format": "techmarket-matcher", "version": 0, "matcher": None}, old)
    with pytest.raises(ModelFormatError, match="format 0"):
        Matcher.load(old)


def test_score_new_result_matches_a_full_refit_closely(fitted: Matcher) -> None:
    new = ResultRecord(
        id="R-new",
        title="注塑产品外观缺陷在线检测",
        summary="相机拍照识别划痕缩痕，替代人工目检，联动PLC剔除不良品。",
        field="人工智能",
        transfer_modes=("技术许可",),
        price=50,
    )
    quick = fitted.score_new_result(new, k=4)
    refit = Matcher().fit([*RESULTS, new], NEEDS).matches_for_result("R-new", k=4)
    assert [m.need_id for m in quick] == [m.need_id for m in refit]
    assert quick[0].need_id == "N-vision"
    # Only the IDF differs (a seven-document corpus moves a lot when one is added).
    for a, b in zip(quick, refit, strict=True):
        assert a.score == pytest.approx(b.score, abs=0.1)


def test_score_new_need_matches_a_full_refit_closely(fitted: Matcher) -> None:
    new = NeedRecord(
        id="N-new",
        title="无人机续航不够",
        description="植保无人机续航只有20分钟，想换燃料电池动力延长航时。",
        field="无人机与直升机",
    )
    quick = fitted.score_new_need(new, k=3)
    refit = Matcher().fit(RESULTS, [*NEEDS, new]).matches_for_need("N-new", k=3)
    assert [m.result_id for m in quick] == [m.result_id for m in refit]
    assert quick[0].result_id == "R-drone"


def test_add_and_remove_keep_the_index_current(fresh: Matcher) -> None:
    extra = ResultRecord(
        id="R-extra", title="注塑件外观缺陷智能检测", summary="划痕缩痕识别，PLC联动剔除", field="人工智能"
    )
    fresh.add_result(extra)
    assert "R-extra" in {m.result_id for m in fresh.matches_for_need("N-vision", k=3)}
    assert [m.result_id for m in fresh.score_new_need(NEEDS[1], k=3)][:2] == [
        m.result_id for m in fresh.matches_for_need("N-vision", k=3)
    ][:2]
    assert fresh.remove_result("R-vision") is True
    assert "R-vision" not in {m.result_id for m in fresh.matches_for_need("N-vision", k=10)}
    assert fresh.remove_result("R-vision") is False
    assert fresh.remove("need", "N-water") is True
    assert "N-water" not in fresh.rank(k=1)
    with pytest.raises(KeyError):
        fresh.matches_for_need("N-water")


def test_adding_an_existing_id_replaces_it(fresh: Matcher) -> None:
    edited = dataclasses.replace(
        RESULTS[1], title="高盐废水零排放蒸发结晶", summary="膜分离 零排放", field="水污染防治"
    )
    fresh.add_result(edited)
    assert len(fresh.results) == len(RESULTS)
    assert "R-vision" in [m.result_id for m in fresh.matches_for_need("N-water", k=2)]
    fresh.add_need(dataclasses.replace(NEEDS[0], title="完全不同的需求：番茄病害"))
    assert len(fresh.needs) == len(NEEDS)


def test_unfitted_matcher_says_so() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        Matcher().rank()


def test_weights_are_used_for_every_score(fitted: Matcher) -> None:
    text_only = Weights(field=0, maturity=0, mode=0, price=0, region=0, text_exponent=1)
    matcher = Matcher(text_only).fit(RESULTS, NEEDS)
    for match in matcher.matches_for_need("N-drone", k=3):
        assert match.score == pytest.approx(match.reasons["text"]["cosine"], abs=1e-4)


def test_mixed_script_units_and_synonyms_are_words() -> None:
    tokens = word_tokens("AI芯片功率10kW，精度99.5%，GaN器件")
    assert "人工智能" in tokens and "集成电路" in tokens and "10kw" in tokens and "gan" in tokens
    assert "99.5%" not in tokens  # bare numbers carry no topic
    assert keyword_tokens(["锂电池回收"])[0] == "锂电池回收"
    assert char_text("Ｌｉ－ion，电池！") == "li ion 电池"


def test_space_separated_keyword_text_matches_prose() -> None:
    model = TextModel()
    docs = [
        ("锂电池 梯次利用 储能", (), ""),
        ("退役锂电池梯次利用于储能电站", (), ""),
        ("番茄 病害 识别", (), ""),
    ]
    rows = model.fit_transform(docs)
    sim = (rows @ rows.T).toarray()
    assert sim[0, 1] > 0.3 and sim[0, 1] > 3 * sim[0, 2]


def test_unsegmented_odd_text_still_matches_by_characters() -> None:
    model = TextModel()
    docs = [("钙钛矿叠层电池", (), ""), ("钙钛矿叠层", (), ""), ("污水处理", (), "")]
    rows = model.fit_transform(docs)
    sim = (rows @ rows.T).toarray()
    assert sim[0, 1] > 0.4 and sim[0, 2] == pytest.approx(0.0, abs=1e-6)


def test_title_counts_more_than_body() -> None:
    model = TextModel()
    docs = [
        ("储能电池", (), "番茄病害"),
        ("番茄病害", (), "储能电池"),
        ("储能电池", (), ""),
    ]
    rows = model.fit_transform([*docs, *(doc_of(r) for r in RESULTS)])
    sim = (rows[:3] @ rows[:3].T).toarray()
    assert sim[2, 0] > sim[2, 1]


def test_rank_does_not_depend_on_candidate_order_or_chunking() -> None:
    a = Matcher(chunk_size=1).fit(RESULTS, NEEDS).rank(k=4)
    b = Matcher(chunk_size=1000).fit(RESULTS, NEEDS).rank(k=4)
    assert a == b


def test_text_rows_are_unit_length(fitted: Matcher) -> None:
    rows = fitted.text.transform([doc_of(r) for r in RESULTS])
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0, atol=1e-5)


def test_concurrent_reads_and_writes_do_not_break(fresh: Matcher) -> None:

    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(15):
                fresh.add_result(dataclasses.replace(RESULTS[0], id=f"R-copy-{i}"))
                if i % 3 == 0:
                    fresh.remove_result(f"R-copy-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(15):
                for matches in fresh.rank(k=3).values():
                    assert all(0 <= m.score <= 1 for m in matches)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer),
        threading.Thread(target=reader),
        threading.Thread(target=reader),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fresh.results) == len(RESULTS) + 10


def test_score_pairs_gives_what_the_fitted_matcher_gives(fitted: Matcher) -> None:
    need = next(n for n in fitted.needs if n.id == "N-water")
    results = list(fitted.results)
    scored = score_pairs(fitted.text, fitted.weights, [need] * len(results), results)
    for match in scored:
        expected = fitted.score_pair("N-water", match.result_id)
        assert match.score == pytest.approx(expected.score, abs=1e-6)
        assert match.reasons["key_terms"] == expected.reasons["key_terms"]
        assert match.reasons["sentences"] == expected.reasons["sentences"]
