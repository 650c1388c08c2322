"""揭榜挂帅 as a process: 张榜 (deadline in the future), 我要揭榜, side-by-side review, shortlist,
questions, the choice of one or more winners, the notices to every applicant, the worker's closing."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import func, select

from market.accounts.models import Organization
from market.challenges import closing, service
from market.challenges.models import ApplicationStatus, ChallengeApplication, ChallengeClosing, Phase
from market.listings.models import TechNeed
from market.notifications.models import Notification
from tests.challenges.conftest import APPLY, make_application, make_challenge
from tests.factories import NEED, create, latest, login, make_listing, make_org, make_user


def _notes(session, user) -> list[str]:
    session.expire_all()
    return [
        n.message for n in session.exec(select(Notification).where(Notification.user_id == user.id)).all()
    ]


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_a_past_challenge_deadline_is_refused_and_nothing_stored(client, session, people):
    login(client, people["ent"])
    before = _count(session, TechNeed)
    past = dict(NEED, is_challenge="y", reward_wan="200", deadline="2020-06-30")
    resp = create(client, "needs", past)
    assert resp.status_code == 400
    assert "揭榜截止日期应晚于今天" in resp.data.decode()
    assert _count(session, TechNeed) == before
    today = dict(past, deadline=date.today().isoformat())
    assert create(client, "needs", today).status_code == 400
    future = dict(past, deadline=(date.today() + timedelta(days=20)).isoformat())
    assert create(client, "needs", future).status_code == 302
    assert latest(session, TechNeed).deadline == date.today() + timedelta(days=20)


def test_an_ordinary_need_may_keep_a_past_deadline(client, session, people):
    """Only a 揭榜挂帅 challenge is held to a future deadline (its board closes at it)."""
    login(client, people["ent"])
    assert create(client, "needs", dict(NEED, deadline="2020-06-30")).status_code == 302


def test_challenge_page_shows_reward_countdown_and_metrics(client, challenge):
    page = client.get(f"/challenges/{challenge.id}").data.decode()
    assert "300" in page
    assert "剩余 29 天" in page or "剩余 30 天" in page
    assert "-30℃ 容量保持率 ≥ 80%" in page and "具备电解液中试条件" in page
    assert "张榜中" in page and 'data-closes="' in page


def test_a_verified_team_applies_with_plan_results_team_milestones(client, session, people, challenge):
    uni = people["uni"]
    org = session.get(Organization, uni.organization_id)
    own = make_listing(session, kind="result", org=org, title="宽温域电解液配方")
    session.commit()
    login(client, uni)
    assert "我要揭榜" in client.get(f"/challenges/{challenge.id}").data.decode()
    resp = client.post(f"/challenges/{challenge.id}/apply", data=dict(APPLY, result_ids=[str(own.id)]))
    assert resp.status_code == 302
    session.expire_all()
    app_row = session.exec(select(ChallengeApplication)).one()
    assert app_row.organization_id == org.id and app_row.result_ids == [own.id]
    assert app_row.status == ApplicationStatus.SUBMITTED
    assert any("揭榜了" in m for m in _notes(session, people["ent"]))
    again = client.post(f"/challenges/{challenge.id}/apply", data=APPLY)
    assert again.status_code == 400 and "本单位已揭榜" in again.data.decode()
    assert _count(session, ChallengeApplication) == 1


def test_only_verified_university_or_institute_teams_may_apply(app, session, people, challenge):
    unverified = make_user(session, role="university", org=make_org(session, kind="高校", verified=False))
    session.commit()
    for user in (people["ent"], people["agent"], people["admin"], unverified):
        c = app.test_client()
        login(c, user)
        assert c.post(f"/challenges/{challenge.id}/apply", data=APPLY).status_code == 403
    assert app.test_client().post(f"/challenges/{challenge.id}/apply", data=APPLY).status_code == 302  # login
    assert _count(session, ChallengeApplication) == 0


def test_bad_applications_are_refused_with_reasons(client, session, people, challenge):
    other = make_listing(session, kind="result", title="别人的成果")
    session.commit()
    login(client, people["uni"])
    resp = client.post(
        f"/challenges/{challenge.id}/apply", data={"plan": "太短", "team": "", "milestones": ""}
    )
    page = resp.data.decode()
    assert resp.status_code == 400 and "技术方案至少 10 个字" in page and "团队介绍至少" in page
    resp = client.post(f"/challenges/{challenge.id}/apply", data=dict(APPLY, result_ids=[str(other.id)]))
    assert resp.status_code == 400 and "只能关联本单位已发布的成果" in resp.data.decode()
    assert _count(session, ChallengeApplication) == 0


def test_no_application_after_the_deadline(client, session, people):
    need = make_challenge(session, org=session.get(Organization, people["ent"].organization_id), days=-1)
    session.commit()
    login(client, people["uni"])
    resp = client.post(f"/challenges/{need.id}/apply", data=APPLY)
    assert resp.status_code == 400 and "已截止" in resp.data.decode()
    assert _count(session, ChallengeApplication) == 0


def test_owner_compares_shortlists_asks_and_chooses_others_are_told(app, session, people, challenge):
    third = make_user(session, role="university", org=make_org(session, name="河北工业大学", kind="高校"))
    a1 = make_application(session, need=challenge, user=people["uni"])
    a2 = make_application(
        session,
        need=challenge,
        user=people["other_uni"],
        plan="另一条技术路线：固态电解质界面改性，预计零下三十度保持率七成五。",
    )
    a3 = make_application(session, need=challenge, user=third)
    session.commit()
    owner = app.test_client()
    login(owner, people["ent"])
    page = owner.get(f"/challenges/{challenge.id}/applicants").data.decode()
    assert page.count('class="challenge-col"') == 3 and "另一条技术路线" in page and "河北工业大学" in page
    assert owner.post(f"/challenges/{challenge.id}/applications/{a1.id}/shortlist").status_code == 302
    assert owner.post(f"/challenges/{challenge.id}/applications/{a2.id}/shortlist").status_code == 302
    resp = owner.post(
        f"/challenges/{challenge.id}/applications/{a1.id}/questions", data={"body": "中试线在哪里？"}
    )
    assert resp.status_code == 302
    assert any("新的提问" in m for m in _notes(session, people["uni"]))
    team = app.test_client()
    login(team, people["uni"])
    team.post(f"/challenges/{challenge.id}/applications/{a1.id}/questions", data={"body": "在滨海新区。"})
    assert any("新的答复" in m for m in _notes(session, people["ent"]))
    # one team never sees the others' applications nor the comparison
    assert team.get(f"/challenges/{challenge.id}/applications/{a2.id}").status_code == 404
    assert team.get(f"/challenges/{challenge.id}/applicants").status_code == 403
    resp = owner.post(f"/challenges/{challenge.id}/decide", data={"chosen": [str(a1.id), str(a2.id)]})
    assert resp.status_code == 302
    session.expire_all()
    statuses = {a.id: a.status for a in session.exec(select(ChallengeApplication)).all()}
    assert statuses == {a1.id: "中榜", a2.id: "中榜", a3.id: "未中榜"}
    assert any("未中榜" in m for m in _notes(session, third))
    assert any("已中榜" in m for m in _notes(session, people["other_uni"]))
    assert service.phase(session, session.get(TechNeed, challenge.id)) == Phase.DECIDED
    page = app.test_client().get(f"/challenges/{challenge.id}").data.decode()
    assert "中榜团队" in page and "天津大学" in page
    assert owner.post(f"/challenges/{challenge.id}/decide", data={"chosen": [str(a3.id)]}).status_code == 303
    assert session.get(ChallengeApplication, a3.id).status == "未中榜"


def test_an_agent_may_decide_but_other_enterprises_may_not(app, session, people, challenge):
    a1 = make_application(session, need=challenge, user=people["uni"])
    rival = make_user(session, role="enterprise")
    session.commit()
    c = app.test_client()
    login(c, rival)
    assert c.get(f"/challenges/{challenge.id}/applicants").status_code == 403
    assert c.post(f"/challenges/{challenge.id}/decide", data={"chosen": [str(a1.id)]}).status_code == 403
    admin = app.test_client()
    login(admin, people["admin"])
    assert admin.get(f"/challenges/{challenge.id}/applicants").status_code == 200
    assert admin.post(f"/challenges/{challenge.id}/decide", data={"chosen": [str(a1.id)]}).status_code == 403
    agent = app.test_client()
    login(agent, people["agent"])
    assert agent.post(f"/challenges/{challenge.id}/decide", data={"chosen": [str(a1.id)]}).status_code == 302
    session.expire_all()
    assert session.get(ChallengeApplication, a1.id).status == "中榜"


def test_deciding_with_no_winner_needs_a_reason(client, session, people, challenge):
    make_application(session, need=challenge, user=people["uni"])
    session.commit()
    login(client, people["ent"])
    assert client.post(f"/challenges/{challenge.id}/decide", data={}).status_code == 303
    assert session.get(ChallengeClosing, challenge.id) is None
    assert (
        client.post(f"/challenges/{challenge.id}/decide", data={"outcome": "方案均未达标"}).status_code == 302
    )
    session.expire_all()
    assert service.phase(session, session.get(TechNeed, challenge.id)) == Phase.UNFILLED


def test_the_worker_closes_challenges_at_their_deadline_and_tells_everyone(app, session, people):
    ent_org = session.get(Organization, people["ent"].organization_id)
    due = make_challenge(session, org=ent_org, days=-1, title="昨天截止的榜单")
    later = make_challenge(session, org=ent_org, days=5, title="下周截止的榜单")
    make_application(session, need=due, user=people["uni"])
    session.commit()
    assert closing.run_due(app) == "揭榜挂帅：1 个榜单截止"
    assert closing.run_due(app) is None  # idempotent
    session.expire_all()
    assert session.get(ChallengeClosing, due.id) is not None
    assert session.get(ChallengeClosing, later.id) is None
    assert any("揭榜已截止" in m for m in _notes(session, people["uni"]))
    assert any("已到揭榜截止日期" in m for m in _notes(session, people["ent"]))
    assert service.phase(session, due) == Phase.REVIEW


def test_public_board_lists_open_and_finished_with_outcomes(app, session, people):
    ent_org = session.get(Organization, people["ent"].organization_id)
    open_one = make_challenge(session, org=ent_org, title="正在张榜的氢能榜单")
    done = make_challenge(session, org=ent_org, title="已结束的储能榜单")
    winner = make_application(session, need=done, user=people["uni"], status="中榜")
    session.add(ChallengeClosing(need_id=done.id, decided_at=winner.created_at))
    make_listing(session, kind="need", org=ent_org, title="普通需求不上榜")
    session.commit()
    c = app.test_client()
    page = c.get("/challenges").data.decode()
    assert "正在张榜的氢能榜单" in page and "已结束的储能榜单" not in page and "普通需求不上榜" not in page
    page = c.get("/challenges?tab=finished").data.decode()
    assert "已结束的储能榜单" in page and "中榜 天津大学" in page and "正在张榜的氢能榜单" not in page
    assert c.get("/challenges?page=abc").status_code == 400
    assert c.get(f"/challenges/{open_one.id}").status_code == 200


def test_an_ordinary_need_or_a_draft_has_no_challenge_page(client, session, people):
    ent_org = session.get(Organization, people["ent"].organization_id)
    plain = make_listing(session, kind="need", org=ent_org)
    draft = make_challenge(session, org=ent_org, status="草稿")
    session.commit()
    assert client.get(f"/challenges/{plain.id}").status_code == 404
    assert client.get(f"/challenges/{draft.id}").status_code == 404


def test_review_queue_shows_the_challenge_badge(client, session, people):
    ent_org = session.get(Organization, people["ent"].organization_id)
    make_challenge(session, org=ent_org, status="待审核", title="待审的揭榜挂帅榜单")
    session.commit()
    login(client, people["admin"])
    page = client.get("/admin/review").data.decode()
    assert "待审的揭榜挂帅榜单" in page and 'badge bg-danger">揭榜挂帅' in page
