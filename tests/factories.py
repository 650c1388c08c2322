"""Small factories with keyword defaults."""

from __future__ import annotations

import itertools
from functools import cache

from sqlmodel import Session

from market.accounts.models import Organization, User
from market.accounts.passwords import hash_password
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
