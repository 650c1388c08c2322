"""Accounts: who can become a member or an agent."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlmodel import select

from market.accounts.models import User
from tests.security.support import (
    CONTACT,
    client_for,
)


def _register(client, **kw):
    data = {
        "email": "newcomer@example.cn",
        "display_name": "新来的人",
        "password": "一句足够长而且不常见的口令",
        "role": "university",
        "org_name": "天津大学",
        "org_kind": "高校",
        "region": "天津",
        "agency_type": "区域",
    }
    data.update(kw)
    return client.post("/register", data=data)


def test_self_registration_does_not_grant_membership_of_an_existing_organisation(app, people, world):
    """Typing an existing organisation's name at registration asks to join it; until the platform
    approves, the newcomer reads none of its drafts, protected contacts or contracts and edits nothing."""
    client = app.test_client()
    _register(client)
    assert client.get(f"/results/{world.draft}").status_code != 200
    detail = client.get(f"/results/{world.result}").get_data(as_text=True)
    assert CONTACT["result"][0] not in detail
    assert client.get(f"/results/{world.result}/edit").status_code != 200
    assert client.get(f"/contracts/{world.contract}/pdf").status_code != 200


def test_self_registered_agent_of_unverified_agency_sees_no_contacts(app, people, world):
    """An agent's rights (protected contacts, the queue, claiming) wait for the agency's verification:
    a self-registered 技术经纪人 of an unverified agency sees no contact."""
    client = app.test_client()
    resp = _register(client, role="agent", org_name="随便起名的技术转移中心", org_kind="技术转移机构")
    assert resp.status_code in (302, 400)
    detail = client.get(f"/results/{world.result}").get_data(as_text=True)
    assert CONTACT["result"][0] not in detail and CONTACT["result"][1] not in detail
    assert client.get("/matches").status_code != 200


def test_registration_cannot_create_an_admin(app, session):
    client = app.test_client()
    resp = _register(client, role="admin", org_name="平台运营部")
    assert resp.status_code == 400
    assert session.exec(select(User).where(User.email == "newcomer@example.cn")).first() is None


def test_signed_in_login_page_redirect_stays_on_site(app, people):
    """The GET /login shortcut for signed-in users uses safe_next too (the POST is in test_accounts)."""
    client = client_for(app, people, "uni")
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        resp = client.get("/login", query_string={"next": target})
        assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).netloc in ("", "localhost")
