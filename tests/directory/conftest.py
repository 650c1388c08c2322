"""Directory fixtures: agencies of the four kinds with profiles, brokers, listings to match."""

from __future__ import annotations

import pytest

from market.directory.models import AgencyProfile, BrokerProfile, ProfileField
from tests.factories import make_org, make_user


def make_agency(session, *, name, subtype="区域", region_code=None, fields=(), verified=True, region="天津"):
    org = make_org(
        session, name=name, kind="技术转移机构", agency_type=subtype, verified=verified, region=region
    )
    if region_code or fields:
        session.add(AgencyProfile(organization_id=org.id, region_code=region_code, services="技术评估、对接"))
        for f in fields:
            session.add(ProfileField(owner_kind="agency", owner_id=org.id, field=f))
    session.flush()
    return org


def make_broker(session, *, org, name=None, region_code=None, fields=()):
    user = make_user(session, role="agent", org=org, display_name=name)
    if region_code or fields:
        session.add(BrokerProfile(user_id=user.id, region_code=region_code))
        for f in fields:
            session.add(ProfileField(owner_kind="broker", owner_id=user.id, field=f))
    session.flush()
    return user


@pytest.fixture
def agencies(session):
    """Four verified agencies (one per subtype) in different places and fields, and an unverified one."""
    out = {
        "regional": make_agency(
            session, name="滨海新区技术转移中心", subtype="区域", region_code="120116", fields=["储能", "氢能"]
        ),
        "academic": make_agency(
            session, name="南开大学技术转移中心", subtype="高校院所", region_code="120104", fields=["创新药物"]
        ),
        "industry": make_agency(
            session, name="京津冀新能源汽车产业技术转移联盟", subtype="行业", region_code="110108",
            fields=["新能源汽车及智能网联车"], region="北京",
        ),
        "service": make_agency(
            session, name="河北知识产权运营服务中心", subtype="服务", region_code="130100",
            fields=["检验检测"], region="河北",
        ),
        "unverified": make_agency(
            session, name="未认证的技术转移机构", subtype="区域", region_code="120116", fields=["储能"],
            verified=False,
        ),
    }  # fmt: skip
    session.commit()
    return out
