"""Injection: hostile text rendered escaped, SQL metacharacters are data, NUL bytes are 400."""

from __future__ import annotations

import pytest

from market.listings.models import ResearchResult
from search import EngineUnavailable
from tests.factories import RESULT
from tests.security.support import (
    client_for,
    count,
    open_page,
    reindex_search,
    token_for,
)


def _escaped(body: str) -> bool:
    return "<script>alert" not in body and "<img src=x" not in body and "<b>恶意</b>" not in body


def test_listing_text_is_rendered_escaped(app, people, world, hostile):
    reindex_search(app)
    lid, mid = hostile["listing"].id, hostile["match"].id
    pages = {
        "visitor": [f"/results/{lid}", "/results", "/search?q=锂硫电池", "/search?q=<script>"],
        "ent": [f"/matches/{mid}", f"/needs/{world.need}/matches", "/notifications"],
        "agent": ["/matches", f"/matches/{mid}"],
    }
    unsafe = []
    for role, urls in pages.items():
        client = client_for(app, people, role)
        for url in urls:
            resp = client.get(url)
            body = resp.get_data(as_text=True)
            if resp.status_code != 200 or not _escaped(body):
                unsafe.append((role, url, resp.status_code))
    assert unsafe == []
    # the search page's highlighted title is markup (|safe): the text in it must be escaped
    search = app.test_client().get("/search?q=锂硫电池").get_data(as_text=True)
    assert "锂硫电池" in search and "&lt;script&gt;" in search
    hit = app.test_client().get("/api/v1/search?q=锂硫电池").json["hits"][0]
    assert "<script>" not in hit["title"] and "<script>" not in hit["snippet"]


def test_search_fallback_escapes_too(app, people, world, hostile):

    class Down:
        def __getattr__(self, name):
            def fail(*_a, **_k):
                raise EngineUnavailable("down for the test")

            return fail

    app.extensions["search.engine"] = Down()
    resp = app.test_client().get("/search?q=锂硫电池")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "锂硫电池" in body and _escaped(body)
    api = app.test_client().get("/api/v1/search?q=锂硫电池").json
    assert api["degraded"] and api["hits"] and "<script>" not in api["hits"][0]["title"]
    # LIKE wildcards are literals in the fallback: they do not match everything
    for wildcard in ("%", "_", "\\"):
        assert app.test_client().get("/api/v1/search", query_string={"q": wildcard}).json["total"] == 0


SQL_PAYLOADS = ["' OR '1'='1", "'; DROP TABLE research_results; --", '" OR 1=1 --', "1) UNION SELECT 1--"]


@pytest.mark.parametrize("payload", SQL_PAYLOADS)
def test_sql_metacharacters_are_data(app, session, people, world, payload):
    reindex_search(app)
    before = count(session, ResearchResult)
    visitor = app.test_client()
    for url, params in (
        ("/search", {"q": payload}),
        ("/api/v1/search", {"q": payload}),
        ("/results", {"field": payload, "region": payload, "sort": payload, "page": payload}),
        ("/needs", {"mode": payload, "price_min": payload}),
        ("/export/results.csv", {"field": payload}),
    ):
        resp = visitor.get(url, query_string=params)
        assert resp.status_code in (200, 400), (url, resp.status_code)
    assert visitor.get("/api/v1/search", query_string={"q": payload}).json["total"] == 0
    assert visitor.get("/api/v1/results", query_string={"field": payload}).status_code == 400
    agent = client_for(app, people, "agent")
    assert agent.get("/matches", query_string={"field": payload, "min_score": payload}).status_code == 200
    admin = client_for(app, people, "admin")
    assert admin.get("/admin/organizations", query_string={"show": payload}).status_code == 200
    assert admin.get("/api/v1/stats", query_string={"from": payload}).status_code == 400
    login = visitor.post("/login", data={"email": payload, "password": payload})
    assert login.status_code == 400
    assert count(session, ResearchResult) == before


@pytest.mark.parametrize(
    ("role", "url", "data"),
    [
        ("visitor", "/login", {"email": "wang\x00@example.cn", "password": "x" * 12}),
        ("visitor", "/register", {"org_name": "天\x00津某研究院", "email": "nul@example.cn"}),
        ("uni", "/results/new", dict(RESULT, title="宽温域锂离子\x00电池电解液")),
        ("uni", "/account/tokens", {"name": "令牌\x00名称"}),
        ("ent", "/results/{result}/interest", {"message": "意向\x00留言"}),
    ],
)
def test_nul_bytes_in_form_input_are_400_not_500(app, people, world, role, url, data):
    """A NUL byte in form input is refused with a 400 naming the field before it reaches the database
    (PostgreSQL would refuse it with an error; SQLite would store it silently), for visitors and
    signed-in users alike."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = client_for(app, people, role)
    if url == "/register":
        data = {
            "email": "nul@example.cn",
            "display_name": "空字节",
            "password": "一句足够长而且不常见的口令",
            "role": "university",
            "org_kind": "高校",
            "region": "天津",
            **data,
        }
    resp = open_page(client, url.format_map(world.ids), method="POST", data=data)
    assert resp.status_code < 500, resp.get_data(as_text=True)[:300]


def test_nul_byte_in_api_json_is_400_not_500(app, people):
    """The same through the API with a valid token: a NUL byte in JSON is a 400 with the field named."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    raw, _ = token_for(app, people["uni"])
    body = {
        "title": "宽温域锂离子\u0000电池电解液",
        "summary": "一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。",
        "field": "储能",
    }
    resp = open_page(app.test_client(), "/api/v1/results", method="POST", json=body, headers=bearer(raw))
    assert resp.status_code < 500, resp.get_data(as_text=True)[:300]


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}
