"""CSRF: every form post needs the token; API writes never take cookies."""

from __future__ import annotations

import re

import pytest

from tests.security.matrix import CASES
from tests.security.support import (
    allowed_role,
    client_for,
    peek,
    rolled_back,
    send,
    token_for,
)

FORM_POSTS = [c for c in CASES if c.method != "GET" and not c.url.startswith("/api/")]
API_WRITES = [c for c in CASES if c.method != "GET" and c.url.startswith("/api/")]


@pytest.mark.parametrize("case", FORM_POSTS, ids=[c.label for c in FORM_POSTS])
def test_csrf_refused_on_every_form_post(strict_app, people, world, case):
    """A POST without the token is refused (400) for the role the matrix lets through, and changes nothing."""
    role = allowed_role(case) or "uni"
    with rolled_back(strict_app):
        resp = send(client_for(strict_app, people, role), case, world)
        assert resp.status_code == 400, (role, resp.status_code)
        assert "CSRF" in resp.get_data(as_text=True)
        if case.effect is not None:
            with peek(strict_app) as s:
                assert not case.effect(s, world, people.get(role))


def test_csrf_token_from_the_page_is_accepted(strict_app, people, world):
    """Control for the test above: the same kind of post with the page's token goes through."""
    client = client_for(strict_app, people, "uni")
    page = client.get("/notifications").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 302
    assert client.post("/notifications/read", data={"csrf_token": token + "x"}).status_code == 400


@pytest.mark.parametrize("case", API_WRITES, ids=[c.label for c in API_WRITES])
def test_api_writes_refuse_cookie_authentication(strict_app, people, world, case):
    """The API is CSRF-exempt because it never trusts the cookie: the owner's session gets 401."""
    role = "uni"
    with rolled_back(strict_app):
        resp = send(client_for(strict_app, people, role), case, world)
        assert resp.status_code == 401 and resp.is_json
        with peek(strict_app) as s:
            assert not case.effect(s, world, people[role])


def test_bearer_page_posts_still_need_csrf(strict_app, people, world):
    raw, _ = token_for(strict_app, people["uni"])
    resp = strict_app.test_client().post(
        f"/results/{world.result}/withdraw", headers={"Authorization": f"Bearer {raw}"}
    )
    assert resp.status_code == 400
