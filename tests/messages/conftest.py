"""消息 fixtures: an introduced match between 天津大学 (uni) and 海河新能源 (ent), and one not introduced."""

from __future__ import annotations

import pytest

from market.accounts.models import Organization
from market.db import utcnow
from tests.factories import make_listing, make_match

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def matches(session, people):
    uni_org = session.get(Organization, people["uni"].organization_id)
    ent_org = session.get(Organization, people["ent"].organization_id)
    result = make_listing(session, kind="result", org=uni_org)
    need = make_listing(session, kind="need", org=ent_org)
    other_need = make_listing(session, kind="need", org=ent_org, title="另一个需求")
    introduced = make_match(
        session,
        result=result,
        need=need,
        status="已对接",
        agent_id=people["agent"].id,
        introduced_by_id=people["agent"].id,
        introduced_at=utcnow(),
    )
    suggested = make_match(session, result=result, need=other_need)
    session.commit()
    return {"introduced": introduced, "suggested": suggested}
