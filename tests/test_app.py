"""App factory, configuration, pages, health check, headers."""

from __future__ import annotations

import pytest

from market import create_app
from market.config import DEV_SECRET_KEY, ConfigError


def test_production_refuses_default_or_missing_secret(monkeypatch):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app()
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ConfigError):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    assert create_app().config["SESSION_COOKIE_SECURE"] is True


def test_home_is_chinese_and_assets_are_local(client):
    resp = client.get("/")
    page = resp.data.decode()
    assert resp.status_code == 200 and "科技成果库" in page and 'lang="zh-CN"' in page
    assert "cdn" not in page.lower()
    css = client.get("/bootstrap/static/css/bootstrap.min.css")
    assert css.status_code == 200


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/no-such-page"])
def test_security_headers(client, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]


def test_404_page_in_chinese(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404 and "页面不存在" in resp.data.decode()


def test_api_errors_are_json(client):
    resp = client.get("/api/v1/no-such-thing")
    assert resp.status_code == 404 and resp.is_json and resp.json["error"] == "404"


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json["database"]["ok"] is True and "search" in resp.json


def test_no_inline_script_in_templates():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent / "market" / "templates"
    offenders = [
        p.name
        for p in root.rglob("*.html")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", p.read_text(encoding="utf-8"))
        or re.search(r"\son[a-z]+=\"", p.read_text(encoding="utf-8"))
        or ' style="' in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
