"""收藏与订阅 fixtures: a published need of the enterprise, and a hydrogen need to publish later."""

from __future__ import annotations

import pytest

from market.accounts.models import Organization
from tests.factories import NEED, make_listing

HYDROGEN = dict(
    NEED,
    title="焦炉煤气制氢提纯到燃料电池级",
    field="氢能",
    description="焦化厂富余的焦炉煤气想提纯成燃料电池用氢，卖给附近加氢站，需要低成本提纯工艺。",
    keywords="氢能、提纯、焦炉煤气",
)


@pytest.fixture
def need(session, people):
    listing = make_listing(
        session,
        kind="need",
        org=session.get(Organization, people["ent"].organization_id),
        title="收藏测试需求",
    )
    session.commit()
    return listing
