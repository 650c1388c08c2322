"""The security suite's world (one of each kind of listing, match, contract, token and report,
with unique contact details so that a leak anywhere is found) and the helpers its tests share.

The access matrix lives in tests/security/matrix.py (one `Case` per route and method at least, checked
against the URL map). Each role's request runs inside a SAVEPOINT that is rolled back, so every role
meets the same world and one fixture serves the whole row.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, func, select

from market import create_app
from market.accounts import tokens as api_tokens
from market.accounts.models import Organization, User
from market.db import db, utcnow
from market.deals.models import Contract, ContractInstalment
from market.directory.models import BrokerCertificate, BrokerRequest
from market.imports.downloads import save_report
from market.imports.report import ImportReport
from market.listings.models import ResearchResult, TechNeed
from market.notices.models import Notice, NoticeAttachment
from market.notifications.service import notify
from market.searching.sync import reindex
from market.trade import service as trade_svc
from market.trade.models import TradeDeal
from tests.challenges.world import challenges_world
from tests.events.world import events_world
from tests.factories import make_listing, make_match, make_org, make_user
from tests.federation.world import federation_world
from tests.financing.world import financing_world
from tests.media.world import media_world
from tests.messages.world import messages_world
from tests.review.world import review_world
from tests.saved.world import saved_world
from tests.security.matrix import LOGIN, ROLES, Case, World
from tests.verification.world import verification_world

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
    session.flush()
    trade_ids = _trade_world(session, people, result=result, result_b=result_b, contract=contract)
    _, token = api_tokens.create_token(session, user=uni, name="北京技术市场对接")
    note_uni = notify(session, user_ids=[uni.id], message="天津大学的私人通知", link="/mine")[0]
    note_ent = notify(session, user_ids=[ent.id], message="海河新能源的私人通知", link="/mine")[0]
    others = [people[r].id for r in ("agent", "admin", "other_uni")]
    notify(session, user_ids=others, message="其他人的通知", link="/")
    org_unverified = make_org(session, name="待认证的新型研发机构", verified=False)
    applicant = make_user(session, role="university", org=uni_org)
    applicant.organization_id, applicant.pending_organization_id = None, uni_org.id  # asked to join 天津大学
    session.add(applicant)
    colleague = make_user(session, role="agent", org=session.get(Organization, agent.organization_id))
    certificate = BrokerCertificate(
        user_id=agent.id, name="技术经纪人证书", number="JJR-0001", issuer="天津市科技局"
    )
    session.add(certificate)
    broker_request = BrokerRequest(
        kind="need", listing_id=need.id, sender_id=ent.id, sender_org_id=ent_org.id,
        agency_id=agent.organization_id, note="请帮我们找低温电池方案",
    )  # fmt: skip
    session.add(broker_request)
    notice = Notice(title="矩阵公告", body_md="正文", status="已发布", published_at=utcnow())
    notice_draft = Notice(title="矩阵草稿公告", body_md="草稿正文")
    session.add_all([notice, notice_draft])
    session.flush()
    (Path(app.config["UPLOAD_DIR"]) / "notices").mkdir(parents=True, exist_ok=True)
    (Path(app.config["UPLOAD_DIR"]) / "notices" / "matrix-notice.pdf").write_bytes(PDF)
    notice_file = NoticeAttachment(
        notice_id=notice.id,
        key="notices/matrix-notice.pdf",
        name="附件.pdf",
        mimetype="application/pdf",
        size=len(PDF),
    )
    session.add(notice_file)
    financing = financing_world(app, session, uni_org, uni) | events_world(session, people, result)
    financing |= federation_world(session, result=result)
    financing |= verification_world(app, session) | review_world(session, result, uni)
    financing |= challenges_world(session, people)
    financing |= saved_world(app, session, people)
    financing |= messages_world(app, session, people, introduced=m_introduced, signed=m_signed)
    financing |= media_world(app, session, result=result, draft=draft)
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
        "agency": agent.organization_id,
        "agent_id": agent.id,
        "colleague": colleague.id,
        "certificate": certificate.id,
        "broker_request": broker_request.id,
        "notice": notice.id,
        "notice_draft": notice_draft.id,
        "notice_file": notice_file.id,
        "results_count": session.exec(select(func.count()).select_from(ResearchResult)).one(),
        **financing,
        **trade_ids,
    }
    return World(ids)


def _trade_world(session, people, *, result, result_b, contract) -> dict:
    """展示交易: a publicity with an objection, a listing with ent's registration waiting, an auction
    where ent is qualified, a deal between 天津大学 and 海河新能源, an instalment of the contract."""
    uni, ent, agent, admin = (people[r] for r in ("uni", "ent", "agent", "admin"))
    ent_org = session.get(Organization, ent.organization_id)
    pub = trade_svc.create_publicity(
        session,
        actor=uni,
        result_id=result.id,
        price_wan="80",
        mode="转让",
        buyer_name=ent_org.name,
        team="团队",
    )
    objection = trade_svc.file_objection(
        session, actor=agent, publicity=pub, reason="矩阵：价格偏低，请说明依据"
    )
    terms = {
        "price_kind": "保留价",
        "price_wan": "100",
        "mode": "转让",
        "qualifications": "企业",
        "deposit_wan": "0",
        "increment_wan": "5",
    }
    sale = trade_svc.create_listing(session, actor=uni, result_id=result_b.id, **terms)
    registration = trade_svc.register_buyer(session, actor=ent, listing=sale, statement="满足资格条件的企业")
    bidding = trade_svc.create_listing(session, actor=uni, result_id=result.id, **terms)
    reg = trade_svc.register_buyer(session, actor=ent, listing=bidding, statement="满足资格条件的企业")
    trade_svc.check_buyer(session, actor=admin, registration=reg, qualified=True)
    bidding.status = "竞价中"
    auction = trade_svc.start_auction(session, listing=bidding, now=utcnow())
    deal = TradeDeal(
        route="挂牌交易（竞价）",
        result_id=result_b.id,
        seller_org_id=uni.organization_id,
        buyer_org_id=ent.organization_id,
        title=result_b.title,
        mode="转让",
        price_wan=100,
        record_hash="0" * 64,
    )
    instalment = ContractInstalment(contract_id=contract.id, seq=1, amount_wan=60, due_on=date.today())
    session.add_all([bidding, deal, instalment])
    session.flush()
    return {
        "publicity": pub.id,
        "objection": objection.id,
        "sale": sale.id,
        "registration": registration.id,
        "auction": auction.id,
        "deal": deal.id,
        "instalment": instalment.id,
        "sale_registrations": 1,
    }


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


@pytest.fixture
def strict_app(app_config, app):
    """The same database, with CSRF protection on (as in production)."""
    strict = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    strict.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    return strict


@pytest.fixture
def small_limits_app(app_config, app):
    """Tiny limits: imports above 2 KB are refused by the importer, requests above 16 KB by Flask."""
    small = create_app(dict(app_config, IMPORT_MAX_BYTES=2048, MAX_CONTENT_LENGTH=16 * 1024))
    small.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    return small


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


def reindex_search(app):
    reindex(app)


def token_for(app, user) -> tuple[str, int]:
    with app.app_context():
        s = db()
        raw, token = api_tokens.create_token(s, user=s.merge(user), name="探针")
        s.commit()
        return raw, token.id


def count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()
