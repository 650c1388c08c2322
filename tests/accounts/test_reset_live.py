"""Reset by mail end to end: a running site and worker, a real SMTP server process (aiosmtpd).

A member signed in with a session and an API token asks for a reset, reads the mail the worker sent,
follows the link and sets a new password: the old session and the token stop working, the new
password signs in, and the link (used) or an expired one is refused.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlmodel import select

from market.accounts import reset
from market.accounts.models import User as Account
from tests.accounts.conftest import reset_link_in
from tests.factories import make_user
from tests.live.seeding import live_app
from tests.live_client import User
from tests.live_site import LiveSite
from tests.mailserver import running

PASSWORD = "live-test-password-2026"
NEW = "夜来风雨声花落知多少"
EMAIL = "reset-live@example.cn"
TOKEN = re.compile(r"kjcg_[A-Za-z0-9_\-]+")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reset-live")
    with running(folder / "smtp") as smtp:
        site = LiveSite(folder / "site", server="serve")
        site.env.update(MAIL_URL=smtp.url, SITE_URL=site.base)
        site.migrate()
        with live_app(site) as (_app, session):
            make_user(session, email=EMAIL, password=PASSWORD)
            session.commit()
        with site.start():
            yield site, smtp


def api_token(member: User) -> str:
    page = member.post("/account/tokens", {"name": "对接平台"}, token_from="/account").text
    return TOKEN.search(page).group(0)


def api_write(site: LiveSite, token: str) -> int:
    """A write through the API (an empty body): 401 without a valid token, 400/422 with one."""
    return (
        User(site.base)
        .http.post(
            f"{site.base}/api/v1/results", json={}, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        .status_code
    )


def test_reset_by_mail_end_to_end(world):
    site, smtp = world
    old = User(site.base).login(EMAIL, PASSWORD)
    token = api_token(old)
    assert api_write(site, token) in (400, 422)
    assert old.get("/account").url.endswith("/account")

    visitor = User(site.base)
    asked = visitor.post("/password/forgot", {"email": EMAIL})
    nobody = visitor.post("/password/forgot", {"email": "nobody-at-all@example.cn"})
    assert (asked.status_code, asked.headers["Location"]) == (nobody.status_code, nobody.headers["Location"])

    [mail] = smtp.wait_for(1, timeout=60)
    assert mail["To"] == EMAIL and "重置密码" in mail["Subject"]
    body = mail.get_content()
    assert site.base in body
    link = reset_link_in(body)
    assert visitor.get(link).status_code == 200
    done = visitor.post(link, {"password": NEW})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")

    assert old.get("/account").url.split("?")[0].endswith("/login")  # the old session is out
    assert api_write(site, token) == 401  # the old API token is revoked
    User(site.base).login(EMAIL, NEW)
    with pytest.raises(AssertionError):
        User(site.base).login(EMAIL, PASSWORD)

    again = User(site.base)
    assert again.get(link).status_code == 400
    reused = again.post(link, {"password": "又一句足够长的新口令啊"}, token_from="/password/forgot")
    assert reused.status_code == 400 and "已经用过" in reused.text
    assert len(smtp.messages()) == 1  # nothing was mailed for the unknown address


def test_an_expired_link_is_refused(world):
    site, _ = world
    # signed with the development key the site also uses
    with live_app(site) as (_app, session):
        account = session.exec(select(Account).where(Account.email == EMAIL)).one()
        expired = reset.make_token(account, issued_at=int(time.time()) - reset.DEFAULT_MAX_AGE - 60)
    page = User(site.base).get(f"/password/reset/{expired}")
    assert page.status_code == 400 and "已过期" in page.text


def test_the_site_never_failed(world):
    site, _ = world
    log = site.log(tail=None)
    assert "Traceback" not in log and '" 500 ' not in log
