"""Financing fixtures: a published request of 天津大学 with a data-room PDF, investors in each state."""

from __future__ import annotations

import pytest

from market.accounts.models import Organization
from market.financing.models import DataRoomFile, FinancingRequest, InvestorProfile
from market.financing.service import DEFAULT_NDA
from market.storage import storage
from tests.factories import make_org, make_user
from vocab.taxonomy import OrgKind

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

REQUEST = {
    "title": "宽温域电解液中试线建设",
    "summary": "建设年产 500 吨宽温域锂电池电解液中试线，面向储能与北方物流车市场，已有三家电芯厂试用。",
    "field": "储能",
    "amount_wan": "800",
    "instrument": "股权",
    "stage": "A 轮",
    "use_of_funds": "中试线设备与认证",
}


def make_request(session, *, org, user=None, status="已发布", **kw) -> FinancingRequest:
    data = {
        "title": REQUEST["title"],
        "summary": REQUEST["summary"],
        "field": "储能",
        "amount_wan": 800.0,
        "instrument": "股权",
        "stage": "A 轮",
        "nda_text": DEFAULT_NDA,
    } | kw
    row = FinancingRequest(
        organization_id=org.id, created_by_id=user.id if user else None, status=status, **data
    )
    session.add(row)
    session.flush()
    return row


def make_investor(session, *, verified=True, name=None, **profile):
    org = make_org(session, kind=OrgKind.INVESTOR, verified=verified, name=name)
    user = make_user(session, role="investor", org=org)
    if profile:
        session.add(InvestorProfile(organization_id=org.id, **profile))
        session.flush()
    return user


@pytest.fixture
def fin(app, session, people):
    """A published request of the university with one PDF in its data room, and three investors."""
    uni = people["uni"]
    org = session.get(Organization, uni.organization_id)
    request = make_request(session, org=org, user=uni)
    key = "dataroom/fixture-plan.pdf"
    storage(app).write(key, PDF)
    file = DataRoomFile(
        request_id=request.id,
        name="商业计划书.pdf",
        category="商业计划书",
        storage_key=key,
        mimetype="application/pdf",
        size=len(PDF),
    )
    session.add(file)
    investor = make_investor(
        session, name="渤海创投", fields=["储能"], stages=["A 轮"], ticket_min_wan=300, ticket_max_wan=2000
    )
    other_investor = make_investor(session, name="津门资本", fields=["人工智能"], stages=["种子"])
    unverified = make_investor(session, verified=False, name="未认证的投资公司")
    session.commit()
    return {
        "request": request,
        "file": file,
        "investor": investor,
        "other_investor": other_investor,
        "unverified": unverified,
    }


@pytest.fixture
def ctx(app):
    """An application context for calling services directly (links are built from the URL map)."""
    with app.app_context():
        yield
