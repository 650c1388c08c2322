"""Security suite: every route × role, IDOR probes, CSRF, headers, uploads, injection, cookies.

The access matrix lives in tests/security_matrix.py (one `Case` per route and method at least, checked
against the URL map). Each role's request runs inside a SAVEPOINT that is rolled back, so every role
meets the same world and one fixture serves the whole row.

Covered elsewhere and not repeated here: the `next` open redirect of the login form and the login /
registration rate limits (tests/test_accounts.py), the API's token hashing and schema fuzzing
(tests/test_api.py).
"""

from __future__ import annotations

import io
import re
import zipfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlmodel import Session, func, select

from market import create_app
from market.accounts import tokens as api_tokens
from market.accounts.models import ApiToken, Organization, User
from market.db import db, utcnow
from market.deals.models import Contract
from market.deals.service import MAX_PDF_BYTES
from market.imports.downloads import save_report
from market.imports.report import ImportReport
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match
from market.notifications.models import Notification
from market.notifications.service import notify
from market.searching.sync import reindex
from search import EngineUnavailable
from tests.events.world import events_world
from tests.factories import PASSWORD, RESULT, make_listing, make_match, make_org, make_user
from tests.financing.world import financing_world
from tests.security_matrix import CASES, LOGIN, ROLES, Case, World

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(256)
XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'

#: protected contact details of the world's listings (unique, so a leak anywhere is found)
CONTACT = {
    "result": ("022-66660001", "result-contact@tju.example.cn"),
    "result_b": ("022-66660002", "result-b-contact@tju.example.cn"),
    "draft": ("022-66660003", "draft-contact@tju.example.cn"),
    "need": ("139-6666-0004", "need-contact@haihe.example.cn"),
    "need_c": ("139-6666-0005", "need-c-contact@haihe.example.cn"),
    "need_draft": ("139-6666-0006", "need-draft-contact@haihe.example.cn"),
}


# --- the world -----------------------------------------------------------------------------------------


def _listing(session, key: str, *, kind: str, org, **kw):
    phone, email = CONTACT.get(key, (None, None))
    if phone:
        kw.update(contact_phone=phone, contact_email=email)
    return make_listing(session, kind=kind, org=org, **kw)


@pytest.fixture
def world(app, session, people) -> World:
    """天津大学 (uni, uni2) lists results, 海河新能源 (ent) posts needs; matches in every state; a contract."""
    uni, ent, agent = people["uni"], people["ent"], people["agent"]
    uni_org = session.get(Organization, uni.organization_id)
    ent_org = session.get(Organization, ent.organization_id)
    mine = {"created_by_id": uni.id}
    draft = _listing(
        session, "draft", kind="result", org=uni_org, status="草稿", title="草稿中的钠电池正极材料", **mine
    )
    pending = _listing(
        session, "pending", kind="result", org=uni_org, status="待审核", title="待审核的固态电解质", **mine
    )
    withdrawn = _listing(
        session, "withdrawn", kind="result", org=uni_org, status="已下架", title="已下架的隔膜涂层", **mine
    )
    result = _listing(session, "result", kind="result", org=uni_org, **mine)
    result_b = _listing(session, "result_b", kind="result", org=uni_org, title="高镍三元正极包覆工艺", **mine)
    theirs = {"created_by_id": ent.id}
    need = _listing(session, "need", kind="need", org=ent_org, **theirs)
    need_b = _listing(session, "need_b", kind="need", org=ent_org, title="储能电站热失控预警", **theirs)
    need_c = _listing(session, "need_c", kind="need", org=ent_org, title="低温快充电芯选型", **theirs)
    need_draft = _listing(
        session, "need_draft", kind="need", org=ent_org, status="草稿", title="尚未公开的电机需求", **theirs
    )
    m_suggested = make_match(session, result=result, need=need)
    m_claimed = make_match(session, result=result, need=need_b, status="已认领", agent_id=agent.id)
    m_introduced = make_match(
        session,
        result=result_b,
        need=need,
        status="已对接",
        agent_id=agent.id,
        introduced_by_id=agent.id,
        introduced_at=utcnow(),
    )
    m_signed = make_match(
        session,
        result=result_b,
        need=need_b,
        status="已签约",
        agent_id=agent.id,
        introduced_by_id=agent.id,
        introduced_at=utcnow(),
    )
    folder = Path(app.config["UPLOAD_DIR"]) / "contracts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matrix-contract.pdf").write_bytes(PDF)
    contract = Contract(
        match_id=m_signed.id,
        result_id=result_b.id,
        need_id=need_b.id,
        seller_org_id=uni_org.id,
        buyer_org_id=ent_org.id,
        agent_id=agent.id,
        recorded_by_id=agent.id,
        contract_type="技术许可",
        amount_wan=120,
        tech_amount_wan=100,
        signed_on=date.today(),
        title="高镍三元正极包覆工艺 ↔ 储能电站热失控预警",
        pdf_path="matrix-contract.pdf",
        pdf_name="许可合同.pdf",
        pdf_size=len(PDF),
    )
    session.add(contract)
    _, token = api_tokens.create_token(session, user=uni, name="北京技术市场对接")
    note_uni = notify(session, user_ids=[uni.id], message="天津大学的私人通知", link="/mine")[0]
    note_ent = notify(session, user_ids=[ent.id], message="海河新能源的私人通知", link="/mine")[0]
    others = [people[r].id for r in ("agent", "admin", "other_uni")]
    notify(session, user_ids=others, message="其他人的通知", link="/")
    org_unverified = make_org(session, name="待认证的新型研发机构", verified=False)
    applicant = make_user(session, role="university", org=uni_org)
    applicant.organization_id, applicant.pending_organization_id = None, uni_org.id  # asked to join 天津大学
    session.add(applicant)
    financing = financing_world(app, session, uni_org, uni) | events_world(session, people, result)
    session.commit()
    with app.app_context():
        report = save_report(user_id=uni.id, report=ImportReport(kind="result", filename="成果.csv"))
    ids = {
        "draft": draft.id,
        "draft_version": draft.version,
        "pending": pending.id,
        "withdrawn": withdrawn.id,
        "result": result.id,
        "result_version": result.version,
        "result_b": result_b.id,
        "need": need.id,
        "need_b": need_b.id,
        "need_c": need_c.id,
        "need_draft": need_draft.id,
        "m_suggested": m_suggested.id,
        "m_claimed": m_claimed.id,
        "m_introduced": m_introduced.id,
        "m_signed": m_signed.id,
        "contract": contract.id,
        "token": token.id,
        "token_owner": uni.id,
        "applicant": applicant.id,
        "report": report,
        "notification": note_uni.id,
        "notification_ent": note_ent.id,
        "org_unverified": org_unverified.id,
        "results_count": session.exec(select(func.count()).select_from(ResearchResult)).one(),
        **financing,
    }
    return World(ids)


# --- helpers -------------------------------------------------------------------------------------------


def sign_in(client, user: User):
    """Sign `client` in as `user` without the (slow, rate-limited) login form."""
    with client.session_transaction() as s:
        s["_user_id"] = user.get_id()
        s["_fresh"] = True
    return client


def client_for(app, people, role: str):
    client = app.test_client()
    return client if role == "visitor" else sign_in(client, people[role])


def connection(app):
    return app.extensions["db.sessionmaker"].kw["bind"]


@contextmanager
def rolled_back(app):
    """Everything the app writes inside is undone afterwards (a SAVEPOINT on the test connection)."""
    savepoint = connection(app).begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


@contextmanager
def peek(app):
    """A throwaway session on the test connection, for checking what a request changed."""
    with Session(bind=connection(app), join_transaction_mode="create_savepoint") as s:
        yield s


def send(client, case: Case, world: World, **extra):
    url, data = case.render(world)
    kwargs: dict = {}
    if case.json is not None:
        kwargs["json"] = case.json
    elif data is not None or case.method != "GET":
        kwargs["data"] = data or {}
    if case.multipart:
        kwargs["content_type"] = "multipart/form-data"
    kwargs.update(extra)
    return client.open(url, method=case.method, **kwargs)


def is_login_redirect(resp) -> bool:
    return resp.status_code == 302 and urlsplit(resp.headers.get("Location", "")).path == "/login"


def allowed(expected: int | str) -> bool:
    return expected != LOGIN and 200 <= int(expected) < 400


def allowed_role(case: Case) -> str | None:
    """The first role that succeeds on `case` (else None)."""
    return next((r for r in ROLES if allowed(case.expected[r])), None)


CSP_REQUIRED = ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'")


def header_problems(resp) -> list[str]:
    """Security headers every response must carry."""
    problems = []
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    for needed in CSP_REQUIRED:
        if needed not in csp:
            problems.append(f"CSP lacks {needed!r}")
    script_src = directives.get("script-src", directives.get("default-src", ""))
    for bad in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:"):
        if bad in script_src.split():
            problems.append(f"script-src allows {bad}")
    if resp.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    if not resp.headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    if resp.headers.get("X-Frame-Options", "").upper() not in ("DENY", "SAMEORIGIN"):
        problems.append("no X-Frame-Options")
    return problems


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
POST_FORM = re.compile(r"<form\b[^>]*method=[\"']?post[\"']?[^>]*>(.*?)</form>", re.I | re.S)


def html_problems(resp, *, forms: bool = False) -> list[str]:
    """No inline script (CSP would block it anyway), no handlers; with `forms` (only meaningful when CSRF
    is on), every POST form carries a CSRF token."""
    if resp.mimetype != "text/html":
        return []
    html = resp.get_data(as_text=True)
    problems = []
    for attrs, body in SCRIPT_TAG.findall(html):
        if "src=" not in attrs and 'type="application/json"' not in attrs:
            problems.append(f"inline <script>: {body[:60]!r}")
        elif "src=" in attrs and body.strip():
            problems.append("<script src> with an inline body")
        if re.search(r"src=[\"']?(https?:)?//", attrs):
            problems.append(f"script from another host: {attrs[:80]}")
    if EVENT_HANDLER.search(html):
        problems.append(f"inline event handler: {EVENT_HANDLER.search(html).group(0)[:80]}")
    if re.search(r"href=[\"']?\s*javascript:", html, re.I):
        problems.append("javascript: URL")
    for form in POST_FORM.findall(html) if forms else []:
        if 'name="csrf_token"' not in form:
            problems.append(f"POST form without csrf_token: {form[:80]!r}")
    return problems


def open_page(client, url: str, **kw):
    """The response, or a synthetic 500 when the app (or its error page) raised."""
    try:
        return client.open(url, **kw)
    except Exception as exc:  # TESTING propagates; in production this is a 500 page (or worse)
        return _Crashed(exc)


class _Crashed:
    def __init__(self, exc: Exception) -> None:
        self.status_code = 500
        self.exc = exc
        self.headers: dict[str, str] = {}
        self.data = f"{type(exc).__name__}: {exc}".encode()

    def get_data(self, as_text=False):
        return self.data.decode() if as_text else self.data


# --- every route × every role --------------------------------------------------------------------------


def test_every_route_is_classified(app):
    """A new route (or method) fails here until the matrix says who may use it."""
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(case.endpoint, case.method) for case in CASES}
    assert sorted(routes - covered) == [], "routes missing from tests/security_matrix.py"
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


# --- security headers, no inline script ----------------------------------------------------------------


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


@pytest.fixture
def strict_app(app_config, app):
    """The same database, with CSRF protection on (as in production)."""
    strict = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    strict.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    return strict


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


# --- CSRF ----------------------------------------------------------------------------------------------


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
    raw, _ = _token_for(strict_app, people["uni"])
    resp = strict_app.test_client().post(
        f"/results/{world.result}/withdraw", headers={"Authorization": f"Bearer {raw}"}
    )
    assert resp.status_code == 400


# --- IDOR probes ---------------------------------------------------------------------------------------

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


def _reindex(app):

    reindex(app)


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
    _reindex(app)
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
    """An owner's match page must not show the other side's listing once it is no longer public.

    FINDING: /matches/<id> loads the pair without looking at the counterpart's status, so the result's
    owner reads the title, description and organisation of a need that was withdrawn or sent back to
    draft (the listing pages and /<kinds>/<id>/matches correctly hide it).
    """
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


def _token_for(app, user) -> tuple[str, int]:
    with app.app_context():
        s = db()
        raw, token = api_tokens.create_token(s, user=s.merge(user), name="探针")
        s.commit()
        return raw, token.id


def test_revoking_someone_elses_token_is_404_and_it_keeps_working(app, session, people, world):
    raw, token_id = _token_for(app, people["uni"])
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
    """A partner platform's token is for /api/v1 only.

    FINDING: the bearer-token request loader is global, so the token opens every page of the account
    (contracts and their PDFs, notifications, drafts) and, with the CSRF token the account page hands
    out, lets its holder mint further tokens that survive revoking the leaked one.
    """
    raw, _ = _token_for(strict_app, people["uni"])
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


# --- accounts: who can become a member or an agent -----------------------------------------------------


def _register(client, **kw):
    data = {
        "email": "newcomer@example.cn",
        "display_name": "新来的人",
        "password": "一句足够长而且不常见的口令",
        "role": "university",
        "org_name": "天津大学",
        "org_kind": "高校",
        "region": "天津",
        "agency_type": "区域",
    }
    data.update(kw)
    return client.post("/register", data=data)


def test_self_registration_does_not_grant_membership_of_an_existing_organisation(app, people, world):
    """Anyone can type “天津大学” at registration; that must not make them a member.

    FINDING: accounts.service.register_user joins an existing organisation by name with no approval, so
    the newcomer immediately reads 天津大学's drafts and protected contacts, edits and withdraws its
    published results, sees its matches and contracts, and submits under its verified name.
    """
    client = app.test_client()
    _register(client)
    assert client.get(f"/results/{world.draft}").status_code != 200
    detail = client.get(f"/results/{world.result}").get_data(as_text=True)
    assert CONTACT["result"][0] not in detail
    assert client.get(f"/results/{world.result}/edit").status_code != 200
    assert client.get(f"/contracts/{world.contract}/pdf").status_code != 200


def test_self_registered_agent_of_unverified_agency_sees_no_contacts(app, people, world):
    """FINDING: any visitor can register as 技术经纪人 with a made-up agency; agents' rights (every
    listing's protected contact, the queue, claiming) do not wait for the agency's verification."""
    client = app.test_client()
    resp = _register(client, role="agent", org_name="随便起名的技术转移中心", org_kind="技术转移机构")
    assert resp.status_code in (302, 400)
    detail = client.get(f"/results/{world.result}").get_data(as_text=True)
    assert CONTACT["result"][0] not in detail and CONTACT["result"][1] not in detail
    assert client.get("/matches").status_code != 200


def test_registration_cannot_create_an_admin(app, session):
    client = app.test_client()
    resp = _register(client, role="admin", org_name="平台运营部")
    assert resp.status_code == 400
    assert session.exec(select(User).where(User.email == "newcomer@example.cn")).first() is None


def test_signed_in_login_page_redirect_stays_on_site(app, people):
    """The GET /login shortcut for signed-in users uses safe_next too (the POST is in test_accounts)."""
    client = client_for(app, people, "uni")
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        resp = client.get("/login", query_string={"next": target})
        assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).netloc in ("", "localhost")


# --- open redirect through the `back` form field -------------------------------------------------------


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
    """FINDING: listings._action, matches.act (error path) and matches.feedback redirect to
    request.form["back"] unchecked; a crafted form sends the user to another site after the action."""
    resp = client_for(app, people, role).post(url.format_map(world.ids), data=dict(data, back=target))
    assert resp.status_code in (302, 303)
    location = resp.headers["Location"]
    assert urlsplit(location).netloc in ("", "localhost") and not location.startswith(("//", "/\\"))


# --- uploads -------------------------------------------------------------------------------------------


def _upload(client, data: bytes, filename: str, url: str = "/import", **fields):
    return client.post(
        url, data={**fields, "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def _reports(app) -> list[Path]:
    return sorted((Path(app.config["UPLOAD_DIR"]) / "import-reports").glob("*.csv"))


def _xlsx_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        zf.writestr("xl/worksheets/sheet1.xml", b" " * (40 * 1024 * 1024))
    return buf.getvalue()


def _docx_like() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    return buf.getvalue()


VALID_CSV = (
    "成果名称*,成果简介*,技术领域\n宽温域锂离子电池电解液第九号,一种可在零下四十度工作的锂离子电池电解液配方。,储能\n"
).encode()


@pytest.mark.parametrize(
    ("payload", "filename", "message"),
    [
        (PNG, "成果.csv", "PNG"),
        (PNG, "成果.xlsx", "PNG"),
        (EXE, "成果.csv", "二进制"),
        (VALID_CSV, "成果.exe", "只支持 CSV 或 XLSX"),
        (VALID_CSV, "成果.csv.exe", "只支持 CSV 或 XLSX"),
        (b"<html><script>alert(1)</script></html>", "成果.xlsx", ""),
        ("zip-bomb", "成果.xlsx", "解压后过大"),
        ("docx", "成果.xlsx", "不是 XLSX"),
        (b"", "成果.csv", ""),
    ],
)
def test_import_refuses_files_by_content(app, session, people, world, payload, filename, message):
    payload = {"zip-bomb": _xlsx_bomb, "docx": _docx_like}.get(payload, lambda: payload)()
    before = _count(session, ResearchResult), _reports(app)
    resp = _upload(client_for(app, people, "uni"), payload, filename)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert (_count(session, ResearchResult), _reports(app)) == before


def test_import_control_a_real_csv_is_imported(app, session, people, world):
    before = _count(session, ResearchResult)
    resp = _upload(client_for(app, people, "uni"), VALID_CSV, "成果.csv")
    assert resp.status_code == 200 and "新增 1 条" in resp.get_data(as_text=True)
    assert _count(session, ResearchResult) == before + 1


@pytest.fixture
def small_limits_app(app_config, app):
    """Tiny limits: imports above 2 KB are refused by the importer, requests above 16 KB by Flask."""
    small = create_app(dict(app_config, IMPORT_MAX_BYTES=2048, MAX_CONTENT_LENGTH=16 * 1024))
    small.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    return small


def test_import_size_limits(small_limits_app, session, people, world):
    app = small_limits_app
    client = client_for(app, people, "uni")
    before = _count(session, ResearchResult), _reports(app)
    rows = VALID_CSV + b"".join(
        f"宽温域锂离子电池电解液第{i}号,一种可在零下四十度工作的锂离子电池电解液配方。,储能\n".encode()
        for i in range(40)
    )
    assert 2048 < len(rows) < 16 * 1024
    over_import_limit = _upload(client, rows, "成果.csv")
    assert over_import_limit.status_code == 400 and "超过上限" in over_import_limit.get_data(as_text=True)
    over_request_limit = _upload(client, rows * 10, "成果.csv")
    assert over_request_limit.status_code == 413 and "过大" in over_request_limit.get_data(as_text=True)
    assert header_problems(over_request_limit) == []
    assert (_count(session, ResearchResult), _reports(app)) == before


def _contracts_dir(app) -> list[Path]:
    return sorted((Path(app.config["UPLOAD_DIR"]) / "contracts").glob("*"))


def _sign(client, world, pdf: bytes, name: str = "合同.pdf"):
    return client.post(
        f"/matches/{world.m_introduced}/sign",
        data={
            "contract_type": "技术许可",
            "amount_wan": "120",
            "tech_amount_wan": "100",
            "signed_on": date.today().isoformat(),
            "pdf": (io.BytesIO(pdf), name),
        },
        content_type="multipart/form-data",
    )


def _unsigned(session, world, app, files_before) -> bool:
    session.expire_all()
    return (
        session.get(Match, world.m_introduced).status == "已对接"
        and session.exec(select(Contract).where(Contract.match_id == world.m_introduced)).first() is None
        and _contracts_dir(app) == files_before
    )


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        (PNG, "合同.pdf"),
        (EXE, "合同.pdf"),
        (b"<html><script>alert(1)</script></html>", "合同.pdf"),
        (b"%PDF-1.4\n<script>alert(1)</script>", "合同.pdf"),  # header without a PDF body
        (_docx_like(), "合同.pdf"),
    ],
)
def test_contract_upload_refuses_non_pdf(app, session, people, world, payload, name):
    before = _contracts_dir(app)
    resp = _sign(client_for(app, people, "agent"), world, payload, name)
    assert resp.status_code == 400 and "PDF" in resp.get_data(as_text=True)
    assert _unsigned(session, world, app, before)


def test_contract_upload_too_large_for_the_request(app_config, app, session, people, world):
    small = create_app(dict(app_config, MAX_CONTENT_LENGTH=64 * 1024))
    small.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    before = _contracts_dir(app)
    big = PDF[:-6] + b"%" + b"0" * (100 * 1024) + b"\n%%EOF\n"
    resp = _sign(client_for(small, people, "agent"), world, big)
    assert resp.status_code == 413
    assert _unsigned(session, world, app, before)


def test_contract_upload_over_the_pdf_limit(app_config, app, session, people, world):

    roomy = create_app(dict(app_config, MAX_CONTENT_LENGTH=MAX_PDF_BYTES + 1024 * 1024))
    roomy.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    before = _contracts_dir(app)
    big = b"%PDF-1.4\n%" + b"0" * MAX_PDF_BYTES + b"\n%%EOF\n"
    resp = _sign(client_for(roomy, people, "agent"), world, big)
    assert resp.status_code == 400 and "MB" in resp.get_data(as_text=True)
    assert _unsigned(session, world, app, before)


def test_contract_upload_control_and_file_name_is_not_a_path(app, session, people, world):
    before = _contracts_dir(app)
    resp = _sign(client_for(app, people, "agent"), world, PDF, name="../../../etc/passwd.pdf")
    assert resp.status_code == 302
    session.expire_all()
    contract = session.exec(select(Contract).where(Contract.match_id == world.m_introduced)).one()
    assert "/" not in contract.pdf_name and ".." not in contract.pdf_path and "/" not in contract.pdf_path
    added = set(_contracts_dir(app)) - set(before)
    assert len(added) == 1 and next(iter(added)).read_bytes() == PDF
    download = client_for(app, people, "ent").get(f"/contracts/{contract.id}/pdf")
    assert download.status_code == 200 and "/" not in download.headers["Content-Disposition"].split("=", 1)[1]


# --- injection -----------------------------------------------------------------------------------------


@pytest.fixture
def hostile(session, people, world):
    """A published result whose every text field carries markup, from an organisation named with markup."""
    org = make_org(session, name=f"<b>恶意</b>研究院{XSS}", kind="高校")
    listing = make_listing(
        session,
        kind="result",
        org=org,
        title=f"锂硫电池隔膜{XSS}",
        summary=f"锂硫电池摘要{XSS}",
        advantage=f"优势{XSS}",
        keywords=[f"<b>锂硫</b>{XSS}"],
        inventors=[f"<i>张三</i>{XSS}"],
    )
    need = session.get(TechNeed, world.need)
    match = make_match(session, result=listing, need=need)
    notify(session, user_ids=[people["ent"].id], message=f"通知{XSS}", link="/mine")
    session.commit()
    return {"listing": listing, "match": match}


def _escaped(body: str) -> bool:
    return "<script>alert" not in body and "<img src=x" not in body and "<b>恶意</b>" not in body


def test_listing_text_is_rendered_escaped(app, people, world, hostile):
    _reindex(app)
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
    _reindex(app)
    before = _count(session, ResearchResult)
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
    assert _count(session, ResearchResult) == before


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
    """FINDING (PostgreSQL): text with a NUL byte reaches the database, which refuses it; the request
    ends in a 500, and for signed-in users the 500 page itself crashes (PendingRollbackError) because
    the error handler renders base.html with the failed session. SQLite stores the NUL silently."""
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
    """FINDING (PostgreSQL): the same through the API with a valid token: POST /api/v1/results → 500."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    raw, _ = _token_for(app, people["uni"])
    body = {
        "title": "宽温域锂离子\u0000电池电解液",
        "summary": "一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。",
        "field": "储能",
    }
    resp = open_page(app.test_client(), "/api/v1/results", method="POST", json=body, headers=bearer(raw))
    assert resp.status_code < 500, resp.get_data(as_text=True)[:300]


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


# --- cookies -------------------------------------------------------------------------------------------


def test_production_cookies_and_hsts(monkeypatch, app_config, app, session, people):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    prod = create_app(app_config)
    prod.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_SECURE"]
    client = prod.test_client()
    resp = client.post("/login", data={"email": people["uni"].email, "password": PASSWORD})
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"]
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax"))
    assert "max-age" in resp.headers["Strict-Transport-Security"]


def test_session_cookie_is_not_readable_and_carries_no_secrets(app, people):

    resp = app.test_client().post("/login", data={"email": people["uni"].email, "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(value)
    assert PASSWORD not in str(data) and people["uni"].password_hash not in str(data)
    assert data["_user_id"] == people["uni"].get_id()  # the id carries the nonce that logout rotates
    tampered = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    client = app.test_client()
    client.set_cookie("session", tampered)
    assert is_login_redirect(client.get("/account"))
