"""Schemathesis against a running server (gunicorn -w 2 and its worker), anonymous and with tokens:
every operation, schema-valid and schema-invalid input, every response check; SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import re

import pytest

from tests.conftest import TEST_DATABASE_URL
from tests.fuzzing import fuzz
from tests.live_client import User
from tests.live_site import LiveSite, postgres_database

DATABASES = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]
TOKEN = re.compile(r"kjcg_[A-Za-z0-9_\-]+")


@pytest.fixture(scope="module", params=DATABASES)
def site(request, tmp_path_factory):
    with contextlib.ExitStack() as stack:
        url = (
            stack.enter_context(postgres_database(TEST_DATABASE_URL))
            if request.param == "postgresql"
            else None
        )
        live = LiveSite(tmp_path_factory.mktemp(f"api-{request.param}"), database_url=url, server="gunicorn")
        live.migrate().flask("seed", "demo")
        stack.enter_context(live.start())
        yield live


def token_of(site: LiveSite, email: str) -> dict[str, str]:
    member = User(site.base).login(email)
    page = member.http.post(
        f"{site.base}/account/tokens",
        data={"name": "接口测试", "csrf_token": member.token("/account")},
        timeout=60,
    ).text
    token = TOKEN.search(page).group(0)
    return {"Authorization": f"Bearer {token}"}


def test_anonymous(site):
    assert fuzz(site.base) == []


def test_with_a_university_token(site):
    assert fuzz(site.base, token_of(site, "tju@demo.kjcg.cn"), only="results") == []


def test_with_an_enterprise_token(site):
    assert fuzz(site.base, token_of(site, "haihe@demo.kjcg.cn"), only="needs") == []


def test_the_server_never_failed(site):
    log = site.log(tail=None)
    assert "Traceback" not in log and '" 500 ' not in log and "database is locked" not in log
