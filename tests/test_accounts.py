"""Registration, login, logout, passwords, rate limits, CSRF, the next redirect."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from market import create_app
from market.accounts.models import Organization, User
from market.accounts.passwords import hash_password, verify_password
from market.extensions import limiter
from market.mail.models import OutgoingMail
from tests.factories import PASSWORD, login, make_org, make_user

GOOD = "明月松间照清泉石上流"


def register(client, **overrides):
    data = {
        "role": "university",
        "display_name": "张三",
        "email": "zhangsan@tju.edu.cn",
        "password": GOOD,
        "org_name": "测试大学",
        "region": "天津",
    }
    data.update(overrides)
    return client.post("/register", data=data)


@pytest.mark.parametrize(
    ("role", "org_name", "kind"),
    [
        ("university", "某某大学", "高校"),
        ("enterprise", "某某科技有限公司", "企业"),
        ("agent", "某某技术转移中心", "技术转移机构"),
    ],
)
def test_register_each_role_creates_unverified_org(client, session, role, org_name, kind):
    extra = {"agency_type": "区域"} if role == "agent" else {}
    resp = register(client, role=role, org_name=org_name, email=f"{role}@example.cn", **extra)
    assert resp.status_code == 302, resp.data.decode()
    user = session.exec(select(User).where(User.email == f"{role}@example.cn")).one()
    org = session.get(Organization, user.organization_id)
    assert (user.role, org.name, org.kind, org.verified) == (role, org_name, kind, False)
    assert user.password_hash.startswith("$argon2id$")
    login(client, user, password=GOOD)
    page = client.get("/account").data.decode()
    assert "待认证" in page and org_name in page


def test_joining_an_existing_org_waits_for_admin_approval(app, client, session):
    org = make_org(session, name="天津大学", kind="高校")
    admin = make_user(session, role="admin")
    session.commit()
    assert register(client, org_name="天津大学").status_code == 302
    user = session.exec(select(User).where(User.email == "zhangsan@tju.edu.cn")).one()
    login(client, user, password=GOOD)
    assert (user.organization_id, user.pending_organization_id) == (None, org.id)
    assert "加入申请待审核" in client.get("/account").data.decode()
    assert client.get("/results/new").status_code == 403  # not a member yet
    ops = app.test_client()
    login(ops, admin)
    assert "zhangsan@tju.edu.cn" in ops.get("/admin/organizations").data.decode()
    assert ops.post(f"/admin/members/{user.id}", data={"decision": "approve"}).status_code == 302
    session.expire_all()
    user = session.get(User, user.id)
    assert (user.organization_id, user.pending_organization_id) == (org.id, None)
    assert client.get("/results/new").status_code == 200


def test_register_refuses_role_org_mismatch(client, session):
    make_org(session, name="海河新能源科技股份有限公司", kind="企业")
    session.commit()
    resp = register(client, org_name="海河新能源科技股份有限公司")
    assert resp.status_code == 400
    assert "与所选身份不符" in resp.data.decode()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "至少需要 8 个字符"),
        ("password123", "太常见"),
        ("woaini1314", "太常见"),
        ("x" * 129, "不能超过 128"),
        ("aaaaaaaaaa", "过于简单"),
    ],
)
def test_bad_passwords_get_chinese_reasons(client, session, password, message):
    resp = register(client, password=password)
    assert resp.status_code == 400
    assert message in resp.data.decode()
    assert session.exec(select(User)).first() is None


def test_long_passphrase_without_composition_rules_is_accepted(client):
    assert register(client, password="我喜欢在春天的早晨散步").status_code == 302


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.cn", "张三@", "a b@c.cn"])
def test_bad_emails_get_chinese_reasons(client, email):
    resp = register(client, email=email)
    assert resp.status_code == 400
    assert "邮箱" in resp.data.decode()


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_mail(client, session):
    owner = make_user(session, email="li@example.cn")
    session.commit()
    fresh = register(client, email="new@example.cn")
    taken = register(client, email="LI@example.cn", org_name="另一所大学")
    assert (taken.status_code, taken.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])
    assert "注册申请已受理" in client.get(fresh.headers["Location"]).data.decode()
    assert len(session.exec(select(User).where(User.email == "li@example.cn")).all()) == 1
    assert session.exec(select(Organization).where(Organization.name == "另一所大学")).first() is None
    mails = {m.to_address: m for m in session.exec(select(OutgoingMail)).all()}
    assert "有人使用您的邮箱注册" in mails[owner.email].subject
    assert "注册成功" in mails["new@example.cn"].subject


@pytest.mark.parametrize("role", ["university", "enterprise", "agent", "admin"])
def test_login_each_role(client, session, role):
    user = make_user(session, role=role)
    session.commit()
    resp = login(client, user)
    assert resp.status_code == 302
    assert user.display_name in client.get("/").data.decode()


def test_login_wrong_password_is_refused_in_chinese(client, session):
    user = make_user(session)
    session.commit()
    resp = login(client, user, password="wrong password here")
    assert resp.status_code == 400
    assert "邮箱或密码不正确" in resp.data.decode()
    assert client.get("/account").status_code == 302


def test_rehash_on_login_when_parameters_change(client, session):

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    user = make_user(session)
    user.password_hash = weak
    session.add(user)
    session.commit()
    assert login(client, user).status_code == 302
    session.expire_all()
    stored = session.get(User, user.id).password_hash
    assert stored != weak and verify_password(stored, PASSWORD) == (True, None)


def test_logout_invalidates_replayed_cookie(client, session, app):
    user = make_user(session)
    session.commit()
    login(client, user)
    cookie = client.get_cookie("session").value
    assert client.get("/account").status_code == 200
    assert client.post("/logout").status_code == 302
    # Replay the old session cookie in a fresh client.
    other = app.test_client()
    other.set_cookie("session", cookie)
    assert other.get("/account").status_code == 302


def test_change_password_requires_current_and_ends_other_sessions(client, session, app):
    user = make_user(session)
    session.commit()
    login(client, user)
    second = app.test_client()
    login(second, user)
    bad = client.post(
        "/account", data={"current_password": "not it at all", "new_password": "一二三四五六七八九"}
    )
    assert bad.status_code == 400 and "当前密码不正确" in bad.data.decode()
    ok = client.post("/account", data={"current_password": PASSWORD, "new_password": "一二三四五六七八九"})
    assert ok.status_code == 302
    assert client.get("/account").status_code == 200  # this browser stays in
    assert second.get("/account").status_code == 302  # the other one is out
    client.post("/logout")
    assert login(client, user, password="一二三四五六七八九").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account", "/account"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil", "/"),
    ],
)
def test_next_redirect_refuses_other_hosts(client, session, target, expected):
    user = make_user(session)
    session.commit()
    resp = client.post(
        "/login",
        query_string={"next": target},
        data={"email": user.email, "password": PASSWORD, "next": target},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == expected


def test_unauthenticated_page_redirects_to_login_with_next(client):
    resp = client.get("/account")
    assert resp.status_code == 302 and "/login?next=%2Faccount" in resp.headers["Location"]


def test_session_cookie_flags(client, session):
    user = make_user(session)
    session.commit()
    resp = login(client, user)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_hash_roundtrip():
    h = hash_password("一句足够长的口令")
    assert verify_password(h, "一句足够长的口令")[0] and not verify_password(h, "别的口令别的口令")[0]


@pytest.fixture
def limited_app(app_config, app):

    cfg = dict(
        app_config,
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN_ACCOUNT="3 per minute",
        RATELIMIT_LOGIN_IP="5 per minute",
        RATELIMIT_REGISTER_IP="2 per hour",
    )
    limited = create_app(cfg)
    limited.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]

    limiter.reset()
    yield limited
    limiter.reset()


def test_login_rate_limited_per_account(limited_app, session):
    user = make_user(session)
    session.commit()
    client = limited_app.test_client()
    for _ in range(3):
        assert login(client, user, password="wrong password!!").status_code == 400
    blocked = login(client, user)  # even the right password waits now
    assert blocked.status_code == 429
    assert "过于频繁" in blocked.data.decode()


def test_login_rate_limited_per_ip_across_accounts(limited_app, session):
    client = limited_app.test_client()
    codes = [
        client.post("/login", data={"email": f"u{i}@example.cn", "password": "x" * 9}).status_code
        for i in range(6)
    ]
    assert codes[:5] == [400] * 5 and codes[5] == 429


def test_registration_rate_limited_per_ip(limited_app):
    client = limited_app.test_client()
    codes = [register(client, email=f"r{i}@example.cn", password="short").status_code for i in range(3)]
    assert codes == [400, 400, 429]


def test_csrf_refused_on_forms(app_config, app, session):

    strict = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    strict.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    user = make_user(session)
    session.commit()
    client = strict.test_client()
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 400 and "CSRF" in resp.data.decode()
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    ok = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 302
    assert client.post("/logout").status_code == 400  # logout needs the token too
