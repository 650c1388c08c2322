"""京津冀 互联互通 between two real instances: A and B run as server processes on loopback, each with
its own data folder and database, each with its worker. B harvests A over HTTP.

A listing published on A becomes searchable on B; a withdrawal on A becomes a tombstone and leaves B's
search; a malformed page leaves B's data untouched; A down → B backs off and catches up, without
duplicates, once A is back; B's statistics never count A's records. An agent on B asks A for an
introduction to A's listing while A is down: it waits queued, is delivered once A is back (exactly
once), and A's owner's answer reaches B's page.
"""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from market.federation import feed, introductions
from market.federation.models import IncomingIntroduction, IntroductionRequest, LinkedRecord, Partner
from market.listings import service
from market.outbox.service import enqueue_listing
from tests.conftest import TEST_DATABASE_URL
from tests.factories import PASSWORD, make_listing, make_org, make_user
from tests.live.seeding import live_app
from tests.live_client import User
from tests.live_site import LiveSite, postgres_database

FAST = {
    "FEDERATION_HARVEST_SECONDS": "1",
    "FEDERATION_BACKOFF_SECONDS": "1",
    "FEDERATION_BACKOFF_MAX": "4",
    "OUTBOX_POLL_SECONDS": "0.5",
    "FEDERATION_INTRO_SECONDS": "1",
    "FEDERATION_INTRO_POLL_SECONDS": "1",
}


def wait_for(what: str, check, timeout: float = 90, site: LiveSite | None = None):
    """Poll until `check()` is truthy (a condition, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting for {what}\n{site.log() if site else ''}")


#: B's database: SQLite, and PostgreSQL too when TEST_DATABASE_URL is set (A stays on SQLite)
BACKENDS = ["sqlite", *(["postgresql"] if TEST_DATABASE_URL else [])]


@pytest.fixture(scope="module", params=BACKENDS)
def sites(request, tmp_path_factory):
    with contextlib.ExitStack() as stack:
        url = (
            stack.enter_context(postgres_database(TEST_DATABASE_URL))
            if request.param == "postgresql"
            else None
        )
        a = LiveSite(tmp_path_factory.mktemp("a"), server="serve", env={**FAST, "FEDERATION_PREFIX": "AA"})
        b = LiveSite(
            tmp_path_factory.mktemp("b"),
            database_url=url,
            server="serve",
            env={**FAST, "FEDERATION_PREFIX": "BB"},
        )
        a.env["SITE_URL"], b.env["SITE_URL"] = a.base, b.base
        a.migrate()
        b.migrate()
        with live_app(a) as (_app, session):
            partner = Partner(name="平台乙", prefix="BB")
            session.add(partner)
            session.flush()
            token = feed.issue_token(session, partner)
            session.commit()
        with live_app(b) as (_app, session):
            session.add(Partner(name="北京技术市场", base_url=a.base, prefix="AA", harvest_token=token))
            session.commit()
        stack.enter_context(a.start())
        stack.enter_context(b.start())
        yield a, b


def publish_on(site: LiveSite, title: str) -> int:
    with live_app(site) as (_app, session):
        org = make_org(session, name=f"{title}大学")
        listing = make_listing(session, kind="result", org=org, title=title, contact_phone="022-55554444")
        enqueue_listing(session, kind="result", listing_id=listing.id)
        session.commit()
        return listing.id


def withdraw_on(site: LiveSite, listing_id: int) -> None:
    with live_app(site) as (_app, session):
        admin = make_user(session, role="admin")
        listing = session.get(service.KINDS["result"], listing_id)
        service.withdraw(session, actor=admin, listing=listing, reason="成果已转让")
        session.commit()


def linked_hits(site: LiveSite, text: str) -> list[dict]:
    hits = User(site.base).get("/api/v1/search", params={"q": text}).json()["hits"]
    return [h for h in hits if (h.get("external_id") or "").startswith("AA.")]


def partner_state(site: LiveSite) -> Partner:
    with live_app(site) as (_app, session):
        return session.exec(select(Partner)).one()


def linked_rows(site: LiveSite) -> list[tuple[str, str, bool]]:
    with live_app(site) as (_app, session):
        rows = session.exec(select(LinkedRecord).order_by(LinkedRecord.identifier)).all()
        return [(r.identifier, r.title, r.deleted) for r in rows]


class Broken(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"next": "0", "more": false, "records": "not a list"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def test_b_harvests_a(sites):
    a, b = sites
    stats_before = User(b.base).get("/api/v1/stats").json()["totals"]

    # published on A → searchable on B, labelled, linked back, no contacts
    listing_id = publish_on(a, "钙钛矿叠层太阳能电池")
    hits = wait_for("A's listing in B's search", lambda: linked_hits(b, "钙钛矿叠层"), site=b)
    assert [h["external_id"] for h in hits] == [f"AA.result.{listing_id}"]
    assert "北京技术市场" in hits[0]["org_name"]
    page = User(b.base).get("/search", params={"q": "钙钛矿叠层"}).text
    assert "合作平台" in page and "/linked/" in page
    (record_path,) = {p for p in page.split('"') if p.startswith("/linked/")}
    detail = User(b.base).get(record_path).text
    assert f"{a.base}/results/{listing_id}" in detail and "022-55554444" not in detail
    assert User(b.base).get("/api/v1/stats").json()["totals"] == stats_before

    # a malformed page leaves B's data untouched
    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before, cursor = linked_rows(b), partner_state(b).cursor
    with live_app(b) as (_app, session):
        p = session.exec(select(Partner)).one()
        p.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        session.add(p)
        session.commit()
    publish_on(a, "不应被采集的成果")  # A has news, but B asks the broken server
    refused = wait_for("the malformed page refused", lambda: "records" in (partner_state(b).last_error or ""))
    assert refused
    assert linked_rows(b) == before and partner_state(b).cursor == cursor
    server.shutdown()
    with live_app(b) as (_app, session):
        p = session.exec(select(Partner)).one()
        p.base_url = a.base
        session.add(p)
        session.commit()
    wait_for("B back on A", lambda: linked_hits(b, "不应被采集"), site=b)

    # a withdrawal on A becomes a tombstone and leaves B's search
    withdraw_on(a, listing_id)
    wait_for("the tombstone applied", lambda: not linked_hits(b, "钙钛矿叠层"), site=b)
    assert (f"AA.result.{listing_id}", "钙钛矿叠层太阳能电池", True) in linked_rows(b)

    # A down → B backs off (failures grow, the error is kept) and catches up when A returns
    a.stop()
    later = [publish_on(a, f"停机期间发布的成果{i}") for i in range(3)]
    down = wait_for("B backing off", lambda: partner_state(b).failures >= 2, site=b)
    assert down
    state = partner_state(b)
    assert "无法连接" in state.last_error and state.next_attempt_at is not None
    a.start()
    wait_for("B caught up", lambda: len(linked_hits(b, "停机期间发布")) == 3, site=b)
    rows = linked_rows(b)
    assert len({i for i, _, _ in rows}) == len(rows)  # no duplicates
    assert {f"AA.result.{i}" for i in later} <= {i for i, _, d in rows if not d}
    assert partner_state(b).failures == 0
    assert User(b.base).get("/api/v1/stats").json()["totals"] == stats_before


def intro_state(site: LiveSite) -> list[tuple[str, int]]:
    with live_app(site) as (_app, session):
        return [(r.status, r.attempts) for r in session.exec(select(IntroductionRequest)).all()]


def incoming_on(site: LiveSite) -> list[IncomingIntroduction]:
    with live_app(site) as (_app, session):
        return list(session.exec(select(IncomingIntroduction)).all())


def test_an_introduction_asked_while_a_is_down_arrives_once_when_a_is_back(sites):
    a, b = sites
    a.wait_up()
    listing_id = publish_on(a, "固态电池硫化物电解质")
    wait_for("A's listing in B's search", lambda: linked_hits(b, "硫化物电解质"), site=b)
    with live_app(b) as (_app, session):
        record = session.exec(
            select(LinkedRecord).where(LinkedRecord.identifier == f"AA.result.{listing_id}")
        ).one()
        agency = make_org(session, name="滨海技术转移中心", kind="技术转移机构")
        agent = make_user(session, role="agent", org=agency)
        need = make_listing(session, kind="need", title="储能电站固态电池需求")
        session.commit()
        record_id, email, need_id = record.id, agent.email, need.id

    a.stop()
    agent_b = User(b.base).login(email, PASSWORD)
    path = f"/linked/{record_id}"
    answer = agent_b.post(
        f"{path}/introductions",
        {"listing_id": str(need_id), "message": "我方企业需要固态电池电解质，建议技术许可，请引荐"},
        token_from=path,
    )
    assert answer.status_code == 302
    assert "待发送" in agent_b.get(path).text
    wait_for("B retrying while A is down", lambda: intro_state(b)[0][1] >= 2, site=b)
    assert intro_state(b)[0][0] == "待发送"

    a.start()
    wait_for("the request delivered", lambda: intro_state(b)[0][0] == "已送达", site=b)
    (row,) = incoming_on(a)  # exactly once, however often B tried
    assert (
        row.kind == "result" and row.listing_id == listing_id and row.from_identifier == f"BB.need.{need_id}"
    )
    assert "022-55554444" not in agent_b.get(path).text  # A's contacts never travel

    with live_app(a) as (_app, session):
        owner = make_user(session, role="admin")
        introductions.decide(session, actor=owner, row=session.get(IncomingIntroduction, row.id), accept=True)
        session.commit()
    wait_for("A's answer on B", lambda: intro_state(b)[0][0] == "对方已接受", site=b)
    assert "对方已接受" in agent_b.get(path).text
    assert len(incoming_on(a)) == 1 and len(intro_state(b)) == 1
