"""The partner registry pages, feed tokens (hashed, shown once), the fetch's limits, the commands."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from market.federation.harvest import HarvestError, http_fetch
from market.federation.models import Partner
from tests.factories import login
from tests.federation.conftest import bearer


@pytest.fixture
def admin(app, people):
    c = app.test_client()
    login(c, people["admin"])
    return c


def test_admin_adds_a_partner_and_issues_a_token_shown_once(app, session, admin):
    resp = admin.post(
        "/admin/partners",
        data={"name": "河北技术市场", "base_url": "https://hb.example.cn/", "prefix": "HB", "enabled": "y",
              "harvest_token": "their-token"},
    )  # fmt: skip
    assert resp.status_code == 302
    partner = session.exec(select(Partner).where(Partner.prefix == "HB")).one()
    assert (partner.base_url, partner.harvest_token, partner.feed_token_hash) == (
        "https://hb.example.cn",
        "their-token",
        None,
    )
    page = admin.post(f"/admin/partners/{partner.id}/token").get_data(as_text=True)
    token = re.search(r"(kjfd_[A-Za-z0-9_\-]+)", page).group(1)
    session.expire_all()
    stored = session.get(Partner, partner.id)
    assert token not in (stored.feed_token_hash or "") and len(stored.feed_token_hash) == 64
    assert token not in admin.get(f"/admin/partners/{partner.id}").get_data(as_text=True)
    assert app.test_client().get("/api/v1/feed", headers=bearer(token)).status_code == 200
    # an edit with the token field left empty keeps the stored token
    admin.post(
        f"/admin/partners/{partner.id}",
        data={"name": "河北省技术市场", "base_url": "https://hb.example.cn", "prefix": "HB", "enabled": "y"},
    )
    session.expire_all()
    assert session.get(Partner, partner.id).harvest_token == "their-token"
    listing = admin.get("/admin/partners").get_data(as_text=True)
    assert "河北省技术市场" in listing and "their-token" not in listing


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "prefix": "HB"}, "合作平台名称"),
        ({"name": "河北", "prefix": "1x"}, "标识前缀"),
        ({"name": "河北", "prefix": "HB", "base_url": "ftp://x"}, "平台网址"),
    ],
)
def test_bad_registry_input_is_a_chinese_message(admin, data, message):
    resp = admin.post("/admin/partners", data=data)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)


def test_a_prefix_belongs_to_one_partner(admin, session):
    admin.post("/admin/partners", data={"name": "甲", "prefix": "HB", "enabled": "y"})
    resp = admin.post("/admin/partners", data={"name": "乙", "prefix": "HB", "enabled": "y"})
    assert resp.status_code == 400 and "已属于" in resp.get_data(as_text=True)
    assert len(session.exec(select(Partner)).all()) == 1


class Big(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"x" * 5000
        self.send_response(200)
        if "nolength" not in self.path:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.mark.parametrize("path", ["/with-length", "/nolength"])
def test_the_fetch_refuses_an_oversized_page_over_real_http(path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Big)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(HarvestError, match="过大"):
            http_fetch(f"http://127.0.0.1:{server.server_address[1]}{path}", "t", max_bytes=1000)
    finally:
        server.shutdown()


def test_harvest_command_with_nothing_due(app):
    result = app.test_cli_runner().invoke(args=["federation", "harvest"])
    assert result.exit_code == 0 and "已索引 0 条" in result.output
