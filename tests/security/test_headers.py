"""Security headers, a strict CSP, no inline script, downloads as attachments."""

from __future__ import annotations

from tests.security.matrix import CASES
from tests.security.support import (
    allowed_role,
    client_for,
    header_problems,
    html_problems,
)


def test_every_page_has_security_headers_and_no_inline_script(strict_app, people, world):
    """Every GET route, rendered (with CSRF on) by a role that may see it, plus the error pages: headers,
    no inline script or handler, and a CSRF token in every POST form."""
    app = strict_app
    seen, problems = 0, []
    for case in CASES:
        role = allowed_role(case)
        if case.method != "GET" or role is None:
            continue
        resp = client_for(app, people, role).get(case.render(world)[0])
        seen += 1
        problems += [f"{case.label}: {p}" for p in header_problems(resp) + html_problems(resp, forms=True)]
    anonymous = app.test_client()
    for url, code in (("/no/such/page", 404), ("/admin/review", 302), ("/results/2147483647", 404)):
        resp = anonymous.get(url)
        assert resp.status_code == code
        problems += [f"{url}: {p}" for p in header_problems(resp) + html_problems(resp)]
    for role, method, url, code in (
        ("ent", "GET", "/admin/review", 403),
        ("uni", "POST", "/notifications/read", 400),  # CSRF refusal page
        ("uni", "DELETE", "/notifications", 405),
    ):
        resp = client_for(app, people, role).open(url, method=method)
        assert resp.status_code == code
        problems += [f"{code} page: {p}" for p in header_problems(resp) + html_problems(resp)]
    assert seen >= 40 and problems == []


def test_csp_is_strict(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'"


def test_downloads_are_attachments_and_not_sniffed(app, people, world):
    uni = client_for(app, people, "uni")
    pdf = uni.get(f"/contracts/{world.contract}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    report = uni.get(f"/import/report/{world.report}.csv")
    assert report.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in report.headers["Cache-Control"]
