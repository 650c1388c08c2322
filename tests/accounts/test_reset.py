"""Password reset in process: the same answer for any address, single use, expiry, revocation."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from market import create_app
from market.accounts import reset
from market.accounts.models import ApiToken, User
from market.extensions import limiter
from tests.accounts.conftest import queued_to, reset_link_in
from tests.factories import PASSWORD, login

NEW = "春眠不觉晓处处闻啼鸟"


def ask(client, email):
    return client.post("/password/forgot", data={"email": email})


def test_the_answer_is_the_same_whether_or_not_the_address_exists(client, session, member):
    user, _ = member
    known, unknown = ask(client, user.email), ask(client, "nobody-here@example.cn")
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    assert len(queued_to(session, user.email)) == 1
    assert queued_to(session, "nobody-here@example.cn") == []


def test_reset_link_sets_the_password_once_and_revokes_sessions_and_tokens(app, client, session, member):
    user, _ = member
    signed_in = app.test_client()
    login(signed_in, user)
    ask(client, user.email)
    [mail] = queued_to(session, user.email)
    link = reset_link_in(mail.body)
    assert client.get(link).status_code == 200
    done = client.post(link, data={"password": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert signed_in.get("/account").status_code == 302  # the old session is out
    session.expire_all()
    assert session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).one().revoked_at is not None
    assert login(client, user, password=NEW).status_code == 302
    client.post("/logout")
    again = client.post(link, data={"password": "另一句足够长的新口令啊"})
    assert again.status_code == 400 and "已经用过" in again.data.decode()


def test_an_expired_link_is_refused(app, client, session, member):
    user, _ = member
    with app.app_context():
        token = reset.make_token(user, issued_at=int(time.time()) - reset.DEFAULT_MAX_AGE - 5)
    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 400 and "已过期" in page.data.decode()
    assert client.post(f"/password/reset/{token}", data={"password": NEW}).status_code == 400
    session.expire_all()
    assert session.get(User, user.id).password_hash == user.password_hash


@pytest.mark.parametrize("token", ["garbage", "WzEsImFiYyJd.Zz.x", ""])
def test_a_forged_link_is_refused(client, token):
    resp = client.get(f"/password/reset/{token}" if token else "/password/reset/x.y")
    assert resp.status_code == 400 and "无效" in resp.data.decode()


def test_a_link_signed_with_another_key_is_refused(app, client, member):
    user, _ = member
    with app.app_context():
        token = reset.make_token(user, secret="some-other-secret-key-of-another-site")
    assert client.get(f"/password/reset/{token}").status_code == 400


def test_a_weak_new_password_is_refused_next_to_the_field(client, session, member):
    user, _ = member
    ask(client, user.email)
    link = reset_link_in(queued_to(session, user.email)[0].body)
    resp = client.post(link, data={"password": "password123"})
    assert resp.status_code == 400 and "太常见" in resp.data.decode()
    assert login(client, user, password=PASSWORD).status_code == 302  # unchanged


@pytest.fixture
def limited(app_config, app):
    cfg = dict(app_config, RATELIMIT_ENABLED=True, RATELIMIT_RESET_ACCOUNT="2 per hour")
    app2 = create_app(cfg)
    app2.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    limiter.reset()
    yield app2
    limiter.reset()


def test_reset_requests_are_rate_limited_per_address(limited, session, member):
    user, _ = member
    client = limited.test_client()
    codes = [ask(client, user.email).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert len(queued_to(session, user.email)) == 2
