"""App factory, configuration, pages, health check, headers."""

from __future__ import annotations

import pathlib
import re
from datetime import timedelta

import pytest

from market import create_app
from market.accounts.models import Organization
from market.config import DEV_SECRET_KEY, ConfigError
from market.db import utcnow
from tests.factories import make_listing


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

    root = pathlib.Path(__file__).resolve().parent.parent / "market" / "templates"
    offenders = [
        p.name
        for p in root.rglob("*.html")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", p.read_text(encoding="utf-8"))
        or re.search(r"\son[a-z]+=\"", p.read_text(encoding="utf-8"))
        or ' style="' in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_home_lists_the_newest_published_listings_and_counts(session, people, client):

    uni, ent = (session.get(Organization, people[r].organization_id) for r in ("uni", "ent"))
    for i in range(7):
        listing = make_listing(session, kind="result", org=uni, title=f"成果{i}号")
        listing.published_at = utcnow() + timedelta(minutes=i)  # 成果6号 is the newest
    make_listing(session, kind="result", org=uni, title="未发布的草稿", status="草稿")
    make_listing(session, kind="need", org=ent, title="普通需求")
    make_listing(session, kind="need", org=ent, title="揭榜挂帅需求", is_challenge=True)
    session.commit()
    page = client.get("/").data.decode()
    assert [f"成果{i}号" in page for i in range(7)] == [False, False, True, True, True, True, True]
    assert "未发布的草稿" not in page and "普通需求" in page and "揭榜挂帅需求" in page
    assert "天津大学" in page and "海河新能源科技股份有限公司" in page and 'bg-danger">揭榜挂帅' in page
    counts = [int(n) for n in re.findall(r'<div class="stat-number">(\d+)</div>', page)]
    assert counts == [7, 2, 1]
