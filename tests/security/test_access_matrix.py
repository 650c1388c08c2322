"""Every route × every role, and 405s for the methods a route does not take."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.security.matrix import CASES, LOGIN, ROLES
from tests.security.support import (
    allowed,
    client_for,
    header_problems,
    html_problems,
    is_login_redirect,
    peek,
    rolled_back,
    send,
)


def test_every_route_is_classified(app):
    """A new route (or method) fails here until the matrix says who may use it."""
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(case.endpoint, case.method) for case in CASES}
    assert sorted(routes - covered) == [], "routes missing from tests/security/matrix.py"
    assert sorted(covered - routes) == [], "matrix entries for routes that no longer exist"


def test_every_case_url_reaches_its_endpoint(app):
    """The table's concrete URLs resolve to the endpoint they claim to test (no typo sends a 404)."""
    adapter = app.url_map.bind("localhost")
    fake = {k: 1 for case in CASES for k in re.findall(r"\{(\w+)\}", case.url)} | {"report": "x" * 24}
    wrong = []
    for case in CASES:
        path = urlsplit(case.url.format_map(fake)).path
        endpoint, _ = adapter.match(path, method=case.method)
        if endpoint != case.endpoint:
            wrong.append((case.label, endpoint))
    assert wrong == []


def test_matrix_shape():
    """Every case names every role; every rule has a case (above); 6 roles × 87 cases at the time of writing."""
    assert all(set(case.expected) == set(ROLES) for case in CASES)
    assert len(ROLES) == 6 and len(CASES) >= 80


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_access_matrix(app, people, world, case):
    """Each role gets the status the table says, refusals change nothing, and every response is hardened."""
    problems = []
    for role in ROLES:
        expected = case.expected[role]
        with rolled_back(app):
            resp = send(client_for(app, people, role), case, world)
            got = resp.status_code
            location = resp.headers.get("Location", "")
            if expected == LOGIN:
                ok = is_login_redirect(resp)
            else:
                ok = got == expected and not (got in (301, 302, 303) and is_login_redirect(resp))
            if not ok:
                problems.append(f"{role}: expected {expected}, got {got} {location}".strip())
            if location and urlsplit(location).netloc not in ("", "localhost"):
                problems.append(f"{role}: redirect off-site to {location}")
            problems += [f"{role}: {p}" for p in header_problems(resp) + html_problems(resp)]
            if case.effect is not None:
                with peek(app) as s:
                    changed = case.effect(s, world, people.get(role))
                if changed != allowed(expected):
                    problems.append(
                        f"{role}: change {'made' if changed else 'missing'} (expected {expected})"
                    )
    assert problems == [], f"{case.label}\n" + "\n".join(problems)


def test_disallowed_methods_are_405(app, people, world):
    """Methods a URL does not serve are 405 (never 200/500), signed in or not."""
    adapter = app.url_map.bind("localhost")
    wrong = []
    for role in ("visitor", "uni"):
        client = client_for(app, people, role)
        for case in CASES:
            url, _ = case.render(world)
            path = urlsplit(url).path
            served = adapter.allowed_methods(path)
            for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
                if method in served:
                    continue
                resp = client.open(url, method=method)
                if resp.status_code != 405:
                    wrong.append((role, method, url, resp.status_code))
    assert wrong == []
