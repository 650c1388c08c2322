"""Cookies: production flags and HSTS; the session cookie carries no secrets."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface

from market import create_app
from tests.factories import PASSWORD
from tests.security.support import (
    is_login_redirect,
)


def test_production_cookies_and_hsts(monkeypatch, app_config, app, session, people):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    prod = create_app(app_config)
    prod.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_SECURE"]
    client = prod.test_client()
    resp = client.post("/login", data={"email": people["uni"].email, "password": PASSWORD})
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"]
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax"))
    assert "max-age" in resp.headers["Strict-Transport-Security"]


def test_session_cookie_is_not_readable_and_carries_no_secrets(app, people):

    resp = app.test_client().post("/login", data={"email": people["uni"].email, "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(value)
    assert PASSWORD not in str(data) and people["uni"].password_hash not in str(data)
    assert data["_user_id"] == people["uni"].get_id()  # the id carries the nonce that logout rotates
    tampered = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    client = app.test_client()
    client.set_cookie("session", tampered)
    assert is_login_redirect(client.get("/account"))
