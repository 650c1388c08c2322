"""Private responses are never stored by a browser or a proxy: `Cache-Control: no-store` on every
response to a signed-in user (cookie or API token) and on every response that sets the session or
embeds a session-bound CSRF token; public pages for anonymous visitors stay cacheable.

Walks the whole route table of tests/security/matrix.py for every role.
"""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, login
from tests.security.matrix import CASES, LOGIN, ROLES
from tests.security.support import client_for, rolled_back, send, world  # noqa: F401 - `world` is a fixture
from tests.test_api import bearer, make_token

SIGNED_IN_ROLES = [r for r in ROLES if r != "visitor"]
#: public responses that are no-store on purpose: the figures differ for admins and everyone else
#: live status, never cached for anyone
#: live state, never to be cached by anyone (the auction's clock and best price change every second)
NO_STORE_FOR_EVERYONE = {"stats.api", "main.healthz", "trade_api.auction_json"}


def no_store(resp) -> bool:
    return "no-store" in resp.headers.get("Cache-Control", "")


def test_every_response_to_a_signed_in_user_is_no_store(app, people, world):  # noqa: F811
    app.config["PROPAGATE_EXCEPTIONS"] = False
    missing = []
    for case in CASES:
        if case.endpoint == "static" or case.endpoint.endswith(".static"):
            continue  # the same for everyone (test_static_files_stay_cacheable_for_signed_in_users)
        for role in SIGNED_IN_ROLES:
            with rolled_back(app):
                resp = send(client_for(app, people, role), case, world)
                if not no_store(resp):
                    missing.append(f"{role} {case.label} -> {resp.status_code}")
    assert missing == []


def test_anonymous_public_pages_stay_cacheable_and_session_pages_do_not(app, people, world):  # noqa: F811
    app.config["PROPAGATE_EXCEPTIONS"] = False
    wrong, public = [], 0
    for case in CASES:
        expected = case.expected["visitor"]
        with rolled_back(app):
            resp = send(client_for(app, people, "visitor"), case, world)
        if expected == LOGIN:  # the redirect carries the "please sign in" flash in the session cookie
            if not no_store(resp):
                wrong.append(f"{case.label}: login redirect without no-store")
            continue
        if (
            case.method != "GET"
            or resp.status_code != 200
            or resp.mimetype not in ("text/html", "application/json")
        ):
            continue  # downloads (templates, exports) choose their own caching
        embeds_token = 'name="csrf_token"' in resp.get_data(as_text=True)
        if case.endpoint in NO_STORE_FOR_EVERYONE:
            continue
        if embeds_token != no_store(resp):
            wrong.append(f"{case.label}: csrf form {embeds_token}, no-store {no_store(resp)}")
        public += not embeds_token
    assert wrong == []
    assert public >= 10  # home, showcases, details, search, public stats, API reads, templates…


@pytest.mark.parametrize(
    "path", ["/", "/results", "/needs", "/search?q=电池", "/stats/public", "/api/v1/results"]
)
def test_public_pages_have_no_cache_control_for_visitors(client, path):
    resp = client.get(path)
    assert resp.status_code == 200 and not no_store(resp)


def test_login_sets_the_session_and_is_no_store(app, people):
    client = app.test_client()
    resp = login(client, people["uni"])
    assert resp.status_code == 302 and no_store(resp)
    assert no_store(client.get("/"))  # the same public page, now for a signed-in user


def test_api_token_responses_are_no_store(app, people):

    token = make_token(app, people["uni"])
    api = app.test_client()
    assert no_store(api.get("/api/v1/results", headers=bearer(token)))
    assert not no_store(api.get("/api/v1/results"))


def test_static_files_stay_cacheable_for_signed_in_users(app, people):
    """Assets are the same for everyone; refetching Bootstrap on every page view helps nobody."""
    client = client_for(app, people, "uni")
    page = client.get("/").get_data(as_text=True)
    assert "/static/css/site.css" in page
    resp = client.get("/static/css/site.css")
    assert resp.status_code == 200 and not no_store(resp)


def test_logout_response_is_no_store(app, people):
    client = app.test_client()
    login(client, people["uni"], PASSWORD)
    resp = client.post("/logout")
    assert resp.status_code == 302 and no_store(resp)
