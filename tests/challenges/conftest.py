"""揭榜挂帅 fixtures: a challenge of 海河新能源 and application texts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from market.accounts.models import Organization
from market.challenges.models import ChallengeApplication
from tests.factories import make_listing

PLAN = "采用氟代溶剂与新型锂盐复配的宽温域电解液，配合负极界面修饰，实现零下三十度容量保持率八成以上。"
TEAM = "天津大学储能材料课题组：教授 1 名、副教授 2 名、博士后 3 名，已完成两项中试。"
MILESTONES = "第 3 个月完成配方筛选；第 6 个月完成电芯验证；第 12 个月完成装车测试。"
APPLY = {"plan": PLAN, "team": TEAM, "milestones": MILESTONES}


def make_challenge(session, *, org, days: int = 30, **kw):
    """A published 揭榜挂帅 need whose deadline is `days` from today (negative: already passed)."""
    fields = dict(
        title="揭榜挂帅：物流车锂电池低温续航提升",
        is_challenge=True,
        reward_wan=300.0,
        deadline=date.today() + timedelta(days=days),
        eligibility="具备电解液中试条件的高校院所团队",
        target_metrics="-30℃ 容量保持率 ≥ 80%",
        cooperation_modes=["揭榜挂帅"],
    )
    fields.update(kw)
    return make_listing(session, kind="need", org=org, **fields)


def make_application(session, *, need, user, **kw) -> ChallengeApplication:
    application = ChallengeApplication(
        need_id=need.id,
        organization_id=user.organization_id,
        created_by_id=user.id,
        plan=kw.pop("plan", PLAN),
        team=kw.pop("team", TEAM),
        milestones=kw.pop("milestones", MILESTONES),
        **kw,
    )
    session.add(application)
    session.flush()
    return application


@pytest.fixture
def challenge(session, people):
    need = make_challenge(session, org=session.get(Organization, people["ent"].organization_id))
    session.commit()
    return need
