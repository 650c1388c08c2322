"""Matches in the site: the relay keeps them current, rebuilds keep agents' states, labels export."""

from __future__ import annotations

import json

from sqlmodel import select

from market.accounts.models import Organization
from market.matches import engine
from market.matches.models import Match
from market.outbox.service import enqueue_listing
from market.outbox.worker import drain_now
from matching.cli import main
from seed.loader import DATA
from tests.factories import NEED, RESULT, login, make_listing, make_match, publish

OTHER_RESULT = dict(
    RESULT,
    title="奶牛养殖场粪污厌氧发酵沼气工程",
    field="固体废物治理与资源化",
    keywords="沼气、厌氧发酵、粪污",
    summary="规模化养殖场粪污厌氧发酵产沼气并利用沼渣沼液的成套工艺。",
    advantage="产气率提高 30%",
    transfer_modes=["技术服务"],
    price_wan="60",
)


def matches(session, **where):
    session.expire_all()
    stmt = select(Match)
    for key, value in where.items():
        stmt = stmt.where(getattr(Match, key) == value)
    return session.exec(stmt.order_by(Match.score.desc())).all()


def test_published_need_gets_matches_within_one_drain(app, session, people):
    battery = publish(app, session, people)
    biogas = publish(app, session, people, data=OTHER_RESULT)
    drain_now(app)
    need = publish(app, session, people, "needs", NEED, owner="ent")
    drain_now(app)
    found = matches(session, need_id=need.id)
    assert found and found[0].result_id == battery.id  # the battery electrolyte beats the biogas plant
    assert all(m.result_id != biogas.id or m.score < found[0].score for m in found)
    reasons = found[0].reasons
    assert set(reasons["components"]) >= {"text", "field", "maturity", "mode", "price", "region"}
    assert 0 <= found[0].score <= 1 and all(
        "value" in c and "weight" in c for c in reasons["components"].values()
    )


def test_owner_sees_matches_with_bars_and_api(app, session, people):
    publish(app, session, people)
    need = publish(app, session, people, "needs", NEED, owner="ent")
    drain_now(app)
    ent = app.test_client()
    login(ent, people["ent"])
    page = ent.get(f"/needs/{need.id}/matches").data.decode()
    assert RESULT["title"] in page and "<meter" in page and "文本相似度" in page
    api = ent.get(f"/api/v1/needs/{need.id}/matches").json
    assert api["matches"][0]["result"]["title"] == RESULT["title"]


def test_withdraw_drops_untouched_and_keeps_worked_matches(app, session, people):
    result = publish(app, session, people)
    need = publish(app, session, people, "needs", NEED, owner="ent")
    need2 = publish(app, session, people, "needs", dict(NEED, title="储能电站冬季放电能力不足"), owner="ent")
    drain_now(app)
    worked = matches(session, need_id=need.id)[0]
    worked.status, worked.agent_id = "已认领", people["agent"].id
    session.add(worked)
    session.commit()
    assert matches(session, need_id=need2.id)
    uni = app.test_client()
    login(uni, people["uni"])
    uni.post(f"/results/{result.id}/withdraw")
    drain_now(app)
    left = matches(session, result_id=result.id)
    assert [m.id for m in left] == [worked.id] and left[0].stale and left[0].status == "已认领"


def test_rebuild_updates_scores_not_states(app, session, people):
    publish(app, session, people)
    need = publish(app, session, people, "needs", NEED, owner="ent")
    drain_now(app)
    m = matches(session, need_id=need.id)[0]
    m.status, m.agent_id, m.score = "洽谈中", people["agent"].id, 0.01
    session.add(m)
    session.commit()
    out = app.test_cli_runner().invoke(args=["match", "rebuild"])
    assert out.exit_code == 0 and "匹配已重算" in out.output
    again = matches(session, need_id=need.id)[0]
    assert again.id == m.id and again.status == "洽谈中" and again.agent_id == people["agent"].id
    assert again.score > 0.2


def test_export_labels_grades_decisions(app, session, people, tmp_path):

    uni = session.get(Organization, people["uni"].organization_id)
    ent = session.get(Organization, people["ent"].organization_id)
    r = [
        make_listing(session, kind="result", org=uni, title=f"成果{i}号技术方案", external_id=f"R{i}")
        for i in range(5)
    ]
    n = make_listing(session, kind="need", org=ent, external_id="N1")
    cases = [
        dict(status="已签约"),
        dict(status="未成交", decline_reason="技术不匹配"),
        dict(status="未成交", decline_reason="价格与预算不符"),
        dict(status="已对接"),
        dict(status="推荐"),
    ]
    for result, kw in zip(r, cases, strict=True):
        make_match(session, result=result, need=n, **kw)
    session.commit()
    out = tmp_path / "labels.jsonl"
    res = app.test_cli_runner().invoke(args=["match", "export-labels", str(out), "--listings", str(tmp_path)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"need_id": "N1", "result_id": "R0", "grade": 3},
        {"need_id": "N1", "result_id": "R1", "grade": 0},
        {"need_id": "N1", "result_id": "R2", "grade": 1},
        {"need_id": "N1", "result_id": "R3", "grade": 2},
    ]
    assert (tmp_path / "results.jsonl").exists() and (tmp_path / "needs.jsonl").exists()

    assert (
        main(
            [
                "evaluate",
                "--results",
                str(tmp_path / "results.jsonl"),
                "--needs",
                str(tmp_path / "needs.jsonl"),
                "--pairs",
                str(out),
                "--k",
                "10",
            ]
        )
        == 0
    )


def test_learning_from_decisions_and_the_admin_page_says_which_ranker_is_live(app, session, people):

    publish(app, session, people)
    publish(app, session, people, data=OTHER_RESULT)
    publish(app, session, people, "needs", NEED, owner="ent")
    drain_now(app)
    admin = app.test_client()
    login(admin, people["admin"])
    page = admin.get("/admin/system").data.decode()
    assert "首轮排序（默认权重）" in page and "尚未从对接决定中学习" in page
    best = matches(session)[0]
    best.status = "已对接"
    session.add(best)
    session.commit()
    ranker = engine.learn(app)
    assert engine.learned_path(app).exists()
    assert ranker.pairs == 1
    status = engine.ranker_status(app)
    # one decided need cannot be cross-validated: the first stage stays live, and the page says why
    assert status["live"] == "first_stage" and status["reason"]
    assert engine.live_weights(app) is None
    page = admin.get("/admin/system").data.decode()
    assert "首轮排序（默认权重）" in page and status["reason"] in page and "从 1 条对接决定学习" in page


def test_a_bulk_import_gets_its_own_matches_first_and_the_other_side_after(app, session, people):
    """A batch larger than EARLY_BATCH (an import): the drain gives every new need its own matches
    and leaves the offers to the results' lists to the `match-offers` job; once the job is done the
    match rows are exactly the store's wanted pairs, results' recommendations included."""
    rows = [json.loads(line) for line in (DATA / "results.jsonl").read_text().splitlines()[:40]]
    uni, ent = (session.get(Organization, people[r].organization_id) for r in ("uni", "ent"))
    for row in rows:
        make_listing(session, kind="result", org=uni, title=row["title"], summary=row["summary"])
    session.commit()
    engine.rebuild(app)
    store = engine.open_store(app)
    assert store is not None and store.count("result") == len(rows)
    wanted_needs = [json.loads(line) for line in (DATA / "needs.jsonl").read_text().splitlines()[:8]]
    needs = [
        make_listing(session, kind="need", org=ent, title=n["title"], description=n["description"])
        for n in wanted_needs
    ]
    for need in needs:
        enqueue_listing(session, kind="need", listing_id=need.id)  # as the import does, in one batch
    session.commit()
    drain_now(app)
    assert store.deferred == len(needs)  # in the store, each with its own matches; offers put off
    for need in needs:
        assert {m.result_id for m in matches(session, need_id=need.id)} == {
            int(r) for r, _ in store.top_ids("need", str(need.id))
        }
    admin = app.test_client()
    login(admin, people["admin"])
    assert f"批量导入的 {len(needs)} 条发布已有自己的匹配" in admin.get("/admin/system").data.decode()
    status = app.test_cli_runner().invoke(args=["search", "status"]).output
    assert f"{len(needs)} 条批量导入的发布待补入对方的推荐列表" in status
    before = {(m.result_id, m.need_id) for m in matches(session)}
    lines = []
    while (line := engine.make_deferred_offers(app)) is not None:
        lines.append(line)
    assert store.deferred == 0 and lines and "补入" in lines[0]
    rows_now = {(m.result_id, m.need_id): round(m.score, 6) for m in matches(session)}
    expected = {(int(p.result_id), int(p.need_id)): round(p.score, 6) for p in store.wanted_pairs()}
    assert rows_now == expected
    assert set(rows_now) - before, "the offers gave some result a new need among its matches"
    assert "批量导入的" not in admin.get("/admin/system").data.decode()
