"""IDOR probes: what is not yours is 404, contacts never leak before an introduction."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlmodel import select

from market.accounts.models import ApiToken, Organization
from market.db import db
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match
from market.notifications.models import Notification
from tests.factories import make_listing, make_match, make_user
from tests.security.support import (
    CONTACT,
    client_for,
    is_login_redirect,
    reindex_search,
    sign_in,
    token_for,
)

NON_PUBLIC = [
    ("results", "draft", "uni"),
    ("results", "pending", "uni"),
    ("results", "withdrawn", "uni"),
    ("needs", "need_draft", "ent"),
]


@pytest.mark.parametrize(
    ("kinds", "key", "owner", "viewer"),
    [
        (*listing, viewer)
        for listing in NON_PUBLIC
        for viewer in ("visitor", "other_uni", "ent", "uni", "agent")
        if viewer != listing[2]
    ],
)
def test_non_public_listing_is_invisible_to_others(app, people, world, kinds, key, owner, viewer):
    """Drafts, pending and withdrawn listings: 404 on every page and API route, absent from every list."""
    lid = world.ids[key]
    client = client_for(app, people, viewer)
    with app.app_context():
        title = db().get(ResearchResult if kinds == "results" else TechNeed, lid).title
    for url in (
        f"/{kinds}/{lid}",
        f"/api/v1/{kinds}/{lid}",
        f"/api/v1/{kinds}/{lid}/matches",
        f"/{kinds}/{lid}/edit",
        f"/{kinds}/{lid}/matches",
    ):
        resp = client.get(url)
        assert resp.status_code == 404 or (viewer == "visitor" and is_login_redirect(resp)), url
    for url in (f"/{kinds}", f"/api/v1/{kinds}", f"/export/{kinds}.csv", "/search?q=电池", "/api/v1/search"):
        assert title not in client.get(url).get_data(as_text=True), url
    assert client_for(app, people, owner).get(f"/{kinds}/{lid}").status_code == 200


def _bodies(client, urls) -> dict[str, str]:
    out = {}
    for url in urls:
        resp = client.get(url)
        body = resp.get_data()
        if url.endswith(".xlsx") and resp.status_code == 200:
            with zipfile.ZipFile(io.BytesIO(body)) as zf:
                body = b"".join(zf.read(n) for n in zf.namelist())
        out[url] = body.decode("utf-8", "replace")
    return out


@pytest.mark.parametrize(
    ("key", "kinds", "viewers"),
    [
        # ent's need is matched with `result` but nobody introduced them yet
        ("result", "results", ["visitor", "other_uni", "ent"]),
        # no match at all between need_c and 天津大学
        ("need_c", "needs", ["visitor", "other_uni", "uni"]),
    ],
)
def test_contact_details_never_leak_before_introduction(app, people, world, key, kinds, viewers):
    """Phone and e-mail stay out of every page, JSON body and export for visitors, other orgs, counterparts."""
    reindex_search(app)
    lid = world.ids[key]
    phone, email = CONTACT[key]
    urls = [
        f"/{kinds}/{lid}",
        f"/{kinds}",
        f"/api/v1/{kinds}/{lid}",
        f"/api/v1/{kinds}",
        f"/export/{kinds}.csv",
        f"/export/{kinds}.xlsx",
        "/search?q=电池",
        "/api/v1/search?q=电池",
        f"/matches/{world.m_suggested}",
        f"/needs/{world.need}/matches",
        f"/api/v1/needs/{world.need}/matches",
        f"/results/{world.result}/matches",
        "/notifications",
    ]
    leaks = []
    for viewer in viewers:
        for url, body in _bodies(client_for(app, people, viewer), urls).items():
            if phone in body or email in body:
                leaks.append((viewer, url))
    assert leaks == []
    # contact details are not even indexed: searching for them finds nothing
    for text in (phone, email, phone.replace("-", "")):
        assert app.test_client().get("/api/v1/search", query_string={"q": text}).json["hits"] == []
    # controls: the owner and an agent do see them, so the probe above looks at the right place
    assert phone in client_for(app, people, "agent").get(f"/{kinds}/{lid}").get_data(as_text=True)


def test_contact_details_visible_after_introduction(app, people, world):
    """Control: the introduced counterpart sees the contact (m_introduced is result_b ↔ need)."""
    ent_page = client_for(app, people, "ent").get(f"/results/{world.result_b}").get_data(as_text=True)
    assert CONTACT["result_b"][0] in ent_page
    uni_page = client_for(app, people, "uni").get(f"/needs/{world.need}").get_data(as_text=True)
    assert CONTACT["need"][0] in uni_page
    # …and never through the API, which has no contact fields at all
    api = client_for(app, people, "ent").get(f"/api/v1/results/{world.result_b}").get_data(as_text=True)
    assert CONTACT["result_b"][0] not in api and "contact" not in api


def test_matches_of_other_organisations_are_404(app, people, world):
    other = client_for(app, people, "other_uni")
    for url in (
        f"/matches/{world.m_suggested}",
        f"/matches/{world.m_signed}",
        f"/results/{world.result}/matches",
        f"/needs/{world.need}/matches",
        f"/api/v1/results/{world.result}/matches",
        f"/api/v1/needs/{world.need}/matches",
    ):
        assert other.get(url).status_code == 404, url
    for url in (f"/matches/{world.m_suggested}/feedback", f"/matches/{world.m_suggested}/claim"):
        assert other.post(url, data={"verdict": "interested"}).status_code in (403, 404), url


def test_only_the_claiming_agent_acts_on_a_claim(app, session, people, world):
    rival = make_user(session, role="agent")
    session.commit()
    client = sign_in(app.test_client(), rival)
    assert client.get(f"/matches/{world.m_claimed}").status_code == 200  # agents see every match
    for action, data in (
        ("introduce", {}),
        ("release", {}),
        ("note", {"note": "抢单"}),
        ("decline", {"reason": "其他"}),
    ):
        assert client.post(f"/matches/{world.m_claimed}/{action}", data=data).status_code == 403, action
    assert client.get(f"/matches/{world.m_introduced}/sign").status_code == 403
    session.expire_all()
    match = session.get(Match, world.m_claimed)
    assert (match.status, match.agent_id) == ("已认领", people["agent"].id)


@pytest.mark.parametrize("status", ["已下架", "草稿"])
def test_match_page_does_not_reveal_a_non_public_counterpart(app, session, people, world, status):
    """An owner's match page does not show the other side's listing once it is no longer public (the
    same rule as the listing pages and /<kind>/<id>/matches)."""
    ent_org = session.get(Organization, people["ent"].organization_id)
    hidden = make_listing(
        session,
        kind="need",
        org=ent_org,
        status=status,
        title="已撤回的保密工艺需求",
        description="内部产线改造细节：不应再被外部看到",
    )
    match = make_match(session, result=session.get(ResearchResult, world.result), need=hidden)
    session.commit()
    page = client_for(app, people, "uni").get(f"/matches/{match.id}").get_data(as_text=True)
    assert "已撤回的保密工艺需求" not in page and "内部产线改造细节" not in page
    assert client_for(app, people, "uni").get(f"/needs/{hidden.id}").status_code == 404  # the page hides it


@pytest.mark.parametrize("viewer", ["other_uni", "rival_agent", "other_ent"])
def test_contracts_and_their_pdf_are_private_to_the_parties(app, session, people, world, viewer):
    users = {
        "other_uni": people["other_uni"],
        "rival_agent": make_user(session, role="agent"),
        "other_ent": make_user(session, role="enterprise"),
    }
    session.commit()
    client = sign_in(app.test_client(), users[viewer])
    assert client.get(f"/contracts/{world.contract}").status_code == 404
    pdf = client.get(f"/contracts/{world.contract}/pdf")
    assert pdf.status_code == 404 and not pdf.data.startswith(b"%PDF")
    assert client.get(f"/contracts/{world.contract + 1}").status_code == 404  # no such contract: same answer
    assert app.test_client().get(f"/contracts/{world.contract}/pdf").status_code == 302


@pytest.mark.parametrize(
    "token",
    ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "a" * 15, "%00" + "a" * 20, "*" * 20],
)
def test_import_report_tokens_cannot_traverse(app, people, world, token):
    assert client_for(app, people, "uni").get(f"/import/report/{token}.csv").status_code == 404


def test_import_report_of_another_user_is_404(app, people, world):
    assert client_for(app, people, "uni").get(f"/import/report/{world.report}.csv").status_code == 200
    for other in ("uni2", "ent", "admin"):
        assert client_for(app, people, other).get(f"/import/report/{world.report}.csv").status_code == 404


def test_notifications_are_private(app, session, people, world):
    ent = client_for(app, people, "ent")
    page = ent.get("/notifications").get_data(as_text=True)
    assert "海河新能源的私人通知" in page and "天津大学的私人通知" not in page
    assert ent.post("/notifications/read").status_code == 302
    session.expire_all()
    assert session.get(Notification, world.notification).read_at is None  # uni's stays unread
    assert session.get(Notification, world.notification_ent).read_at is not None


def test_revoking_someone_elses_token_is_404_and_it_keeps_working(app, session, people, world):
    raw, token_id = token_for(app, people["uni"])
    for other in ("uni2", "other_uni", "admin"):
        resp = client_for(app, people, other).post(f"/account/tokens/{token_id}/revoke")
        assert resp.status_code == 404, other
    session.expire_all()
    assert session.get(ApiToken, token_id).revoked_at is None
    page = client_for(app, people, "uni2").get("/account").get_data(as_text=True)
    assert raw[:12] not in page and "探针" not in page  # a colleague does not even see it listed
    resp = app.test_client().post(
        f"/api/v1/results/{world.draft}/submit", headers={"Authorization": f"Bearer {raw}"}
    )
    assert resp.status_code == 200


def test_api_token_only_authenticates_the_api(strict_app, people, world, session):
    """A partner platform's token is for /api/v1 only: it opens no page of the account (contracts and
    their PDFs, notifications, drafts), so it cannot be used to mint further tokens."""
    raw, _ = token_for(strict_app, people["uni"])
    bearer = {"Authorization": f"Bearer {raw}"}
    client = strict_app.test_client()
    assert client.get(f"/api/v1/results/{world.draft}", headers=bearer).status_code == 200  # API: fine
    refused = []
    for url in ("/account", "/notifications", f"/contracts/{world.contract}/pdf", f"/results/{world.draft}"):
        resp = client.get(url, headers=bearer)
        if not (resp.status_code == 404 or is_login_redirect(resp)):
            refused.append((url, resp.status_code))
    page = client.get("/account", headers=bearer).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if token:
        client.post("/account/tokens", data={"name": "后门", "csrf_token": token.group(1)}, headers=bearer)
    session.expire_all()
    minted = session.exec(select(ApiToken).where(ApiToken.name == "后门")).all()
    assert {"pages": refused, "minted": [t.name for t in minted]} == {"pages": [], "minted": []}
