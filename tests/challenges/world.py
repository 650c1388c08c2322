"""The 揭榜挂帅 part of tests/security/support.py's world: an open challenge of the enterprise with an
application from the university (other_uni has none) and a question on it."""

from __future__ import annotations

from market.accounts.models import Organization
from market.challenges.models import ChallengeQuestion
from tests.challenges.conftest import make_application, make_challenge


def challenges_world(session, people) -> dict[str, int]:
    ent_org = session.get(Organization, people["ent"].organization_id)
    need = make_challenge(session, org=ent_org, title="矩阵中的揭榜挂帅榜单", created_by_id=people["ent"].id)
    application = make_application(session, need=need, user=people["uni"])
    session.add(ChallengeQuestion(application_id=application.id, author_id=people["ent"].id, body="矩阵提问"))
    session.flush()
    return {"challenge": need.id, "ch_app": application.id}
