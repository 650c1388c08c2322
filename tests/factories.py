"""Small factories with keyword defaults; each creates the parents it is not given (a listing its
organisation, a match its result and need, a user its organisation)."""

from __future__ import annotations

import itertools
from functools import cache

from sqlmodel import Session, select

from market.accounts.models import Organization, User
from market.accounts.passwords import hash_password
from market.db import utcnow
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match
from vocab.taxonomy import OrgKind, Role

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)

ROLE_KIND = {
    Role.UNIVERSITY: OrgKind.UNIVERSITY,
    Role.ENTERPRISE: OrgKind.ENTERPRISE,
    Role.AGENT: OrgKind.AGENCY,
}


@cache
def _password_hash(password: str) -> str:
    return hash_password(password)


def make_org(
    session: Session,
    *,
    name: str | None = None,
    kind: str = OrgKind.UNIVERSITY,
    region: str = "天津",
    verified: bool = True,
    **kw,
) -> Organization:
    if kind == OrgKind.AGENCY:
        kw.setdefault("agency_type", "区域")
    org = Organization(
        name=name or f"测试机构{next(_seq)}", kind=kind, region=region, verified=verified, **kw
    )
    session.add(org)
    session.flush()
    return org


def make_user(
    session: Session,
    *,
    role: str = Role.UNIVERSITY,
    org: Organization | None = None,
    email: str | None = None,
    display_name: str | None = None,
    password: str = PASSWORD,
    verified: bool = True,
) -> User:
    n = next(_seq)
    if org is None and role != Role.ADMIN:
        org = make_org(session, kind=ROLE_KIND[role], verified=verified)
    user = User(
        email=email or f"user{n}@example.cn",
        display_name=display_name or f"用户{n}",
        role=role,
        organization_id=org.id if org else None,
        password_hash=_password_hash(password),
    )
    session.add(user)
    session.flush()
    return user


def login(client, user: User, password: str = PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


RESULT = {
    "title": "宽温域锂离子电池电解液",
    "field": "储能",
    "keywords": "锂电、低温、电解液",
    "summary": "一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。",
    "advantage": "-30℃ 容量保持率 85%，比商用电解液高 25 个百分点",
    "maturity": "中试",
    "transfer_modes": ["技术许可", "技术转让"],
    "price_wan": "120",
    "contact_name": "王老师",
    "contact_phone": "022-27400000",
    "contact_email": "wang@tju.edu.cn",
}

NEED = {
    "title": "电池包冬季续航衰减严重",
    "field": "新能源汽车",
    "description": "我司物流车电池包冬天续航掉得厉害，北方客户投诉多，需要改善低温性能。",
    "requirements": "兼容现有电芯产线",
    "target_metrics": "-20℃ 续航保持率 ≥ 80%",
    "cooperation_modes": ["合作开发"],
    "budget_min_wan": "50",
    "budget_max_wan": "150",
    "no_secret_confirmed": "y",
}


def create(client, kinds="results", data=None):
    return client.post(f"/{kinds}/new", data=data or RESULT)


def latest(session, model):
    """The newest row of `model` (after expiring cached state)."""
    session.expire_all()
    return session.exec(select(model).order_by(model.id.desc())).first()


def publish(app, session, people, kinds="results", data=None, owner="uni"):
    c = app.test_client()
    login(c, people[owner])
    assert create(c, kinds, data).status_code == 302
    model = ResearchResult if kinds == "results" else TechNeed
    listing = latest(session, model)
    assert c.post(f"/{kinds}/{listing.id}/submit").status_code == 302
    a = app.test_client()
    login(a, people["admin"])
    assert a.post(f"/admin/review/{kinds}/{listing.id}", data={"decision": "approve"}).status_code == 302
    session.expire_all()
    return session.get(model, listing.id)


def make_listing(
    session: Session, *, kind: str, org: Organization | None = None, status: str = "已发布", **kw
):
    """A listing row created directly (published by default), with a verified organisation of the
    owning kind when none is given."""
    if org is None:
        org = make_org(session, kind=OrgKind.UNIVERSITY if kind == "result" else OrgKind.ENTERPRISE)
    if kind == "result":
        fields = dict(
            title="宽温域锂离子电池电解液",
            summary="可在零下四十度工作的电解液配方",
            field="储能",
            maturity="中试",
            transfer_modes=["技术许可"],
            price_negotiable=False,
            price_wan=100.0,
            contact_name="王老师",
            contact_phone="022-27400000",
            contact_email="wang@tju.edu.cn",
        )
        model = ResearchResult
    else:
        fields = dict(
            title="电池包冬季续航衰减严重",
            description="物流车电池包冬天续航下降，需要改善低温性能",
            field="新能源汽车",
            cooperation_modes=["合作开发"],
            budget_min_wan=50.0,
            budget_max_wan=150.0,
            no_secret_confirmed=True,
            contact_name="赵经理",
            contact_phone="13800001111",
            contact_email="zhao@haihe.example.cn",
        )
        model = TechNeed
    fields.update(kw)
    listing = model(
        organization_id=org.id, status=status, published_at=utcnow() if status == "已发布" else None, **fields
    )
    session.add(listing)
    session.flush()
    return listing


def make_match(session: Session, *, result=None, need=None, score: float = 0.8, **kw):
    """A match between `result` and `need` (each created, published, when not given)."""
    result = result or make_listing(session, kind="result")
    need = need or make_listing(session, kind="need")
    match = Match(
        result_id=result.id,
        need_id=need.id,
        score=score,
        reasons={"components": {"text": {"value": 0.7, "weight": 0.5}}, "terms": ["电池"]},
        **kw,
    )
    session.add(match)
    session.flush()
    return match
