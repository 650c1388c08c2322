"""Open redirects through the `back` form field."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.security.support import (
    client_for,
)


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/x", "/\\evil.example"])
@pytest.mark.parametrize(
    ("role", "url", "data"),
    [
        ("uni", "/results/{result}/withdraw", {}),
        ("uni", "/results/{draft}/submit", {}),
        ("ent", "/matches/{m_suggested}/feedback", {"verdict": "interested"}),
        ("agent", "/matches/{m_claimed}/decline", {"reason": "不是原因"}),  # refused with a redirect back
    ],
)
def test_back_field_is_not_an_open_redirect(app, people, world, role, url, data, target):
    """After an action, the `back` form field sends the user only to a page of this site: an absolute
    URL, a scheme-relative one or a backslash trick falls back to the default page."""
    resp = client_for(app, people, role).post(url.format_map(world.ids), data=dict(data, back=target))
    assert resp.status_code in (302, 303)
    location = resp.headers["Location"]
    assert urlsplit(location).netloc in ("", "localhost") and not location.startswith(("//", "/\\"))
