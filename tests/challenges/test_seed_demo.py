"""The demo 揭榜挂帅 part: an open challenge with applicants, a question and answer, a decided one."""

from __future__ import annotations

from sqlmodel import select

from market.challenges import service
from market.challenges.models import ChallengeApplication, ChallengeQuestion, Phase
from seed import challenges as demo
from tests.challenges.conftest import make_challenge
from tests.factories import make_org, make_user


def test_demo_challenges_load_once_through_the_services(session):
    ent_org = make_org(session, name="海河新能源科技股份有限公司", kind="企业")
    make_user(session, role="enterprise", org=ent_org, email=demo.OWNER)
    for email, name in zip(demo.TEAMS, ("天津大学", "南开大学"), strict=True):
        make_user(session, role="university", org=make_org(session, name=name, kind="高校"), email=email)
    open_need = make_challenge(session, org=ent_org, title=demo.OPEN_TITLE)
    decided = make_challenge(session, org=ent_org, title=demo.DECIDED_TITLE)
    assert demo.load(session) == {"applications": 4, "decided": 1}
    assert demo.load(session) == {"applications": 0, "decided": 0}
    assert service.phase(session, open_need) == Phase.OPEN
    assert service.phase(session, decided) == Phase.DECIDED
    assert [o.name for o in service.winners(session, decided)] == ["天津大学"]
    statuses = sorted(a.status for a in session.exec(select(ChallengeApplication)).all())
    assert statuses == ["中榜", "入围", "已揭榜", "未中榜"]
    assert len(session.exec(select(ChallengeQuestion)).all()) == 2
