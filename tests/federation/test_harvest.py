"""The puller: pages from the stored cursor, tombstones, refusals that write nothing, back-off, crash
safety, and linked records in search beside local ones (never in the statistics)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from market.db import utcnow
from market.federation import harvest, service
from market.federation.harvest import HarvestError, check_page, harvest_partner, index_pending
from market.federation.models import LinkedRecord, Partner
from market.matches.models import Match
from market.outbox.worker import tx
from market.searching.sync import reindex
from tests.factories import login, make_listing
from tests.federation.conftest import published, withdraw, wsgi_fetch
from tests.live_site import free_port


def state(app):
    with tx(app).read() as s:
        rows = s.exec(select(LinkedRecord).order_by(LinkedRecord.identifier)).all()
        return [(r.identifier, r.title, r.deleted) for r in rows]


def partner_row(app, partner_id) -> Partner:
    with tx(app).read() as s:
        return s.get(Partner, partner_id)


def test_harvest_upserts_records_and_applies_tombstones(app, session, people, partner):
    rows = published(app, session, 3)
    result = harvest_partner(app, partner["id"], fetch=wsgi_fetch(app), page_size=2)
    assert result == {"pages": 2, "records": 3, "error": None}
    assert [d for _, _, d in state(app)] == [False] * 3
    p = partner_row(app, partner["id"])
    assert (p.records_live, p.records_deleted, p.failures) == (3, 0, 0)
    assert p.last_harvest_at is not None
    withdraw(app, session, rows[0], people)
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app))
    gone = {i for i, _, d in state(app) if d}
    assert gone == {f"TJ.result.{rows[0].id}"}
    assert partner_row(app, partner["id"]).records_deleted == 1


GOOD = {"next": "5", "more": False, "records": []}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>oops</html>", "JSON"),
        (json.dumps([1, 2]).encode(), "对象"),
        (json.dumps({**GOOD, "records": "x"}).encode(), "records"),
        (json.dumps({**GOOD, "next": "3"}).encode(), "next"),
        (json.dumps({**GOOD, "more": True, "next": "4"}).encode(), "游标"),
        (
            json.dumps(
                {**GOOD, "records": [{"identifier": "BJ.result.1", "kind": "result", "deleted": True}]}
            ).encode(),
            "前缀",
        ),
        (
            json.dumps(
                {**GOOD, "records": [{"identifier": "TJ.result.1", "kind": "result", "deleted": False}]}
            ).encode(),
            "fields",
        ),
        (b" " * (harvest.MAX_PAGE_BYTES + 1), "过大"),
    ],
)
def test_malformed_pages_are_refused_with_a_reason(body, reason):
    with pytest.raises(HarvestError, match=reason):
        check_page(body, prefix="TJ", since="4", limit=100)


def test_a_malformed_page_writes_nothing_but_the_failure(app, session, partner):
    published(app, session, 2)
    good = wsgi_fetch(app)

    def half_broken(url, token, max_bytes):
        page = json.loads(good(url, token, max_bytes))
        page["records"][-1]["fields"]["title"] = ""  # the last record is bad: none of the page is kept
        return json.dumps(page).encode()

    result = harvest_partner(app, partner["id"], fetch=half_broken)
    assert "title" in result["error"]
    assert state(app) == []
    p = partner_row(app, partner["id"])
    assert (p.cursor, p.failures) == ("0", 1)
    assert "title" in p.last_error and p.next_attempt_at is not None


def test_failures_back_off_exponentially_and_success_resets(app, session, partner):
    app.config.update(FEDERATION_BACKOFF_SECONDS=10, FEDERATION_BACKOFF_MAX=35)
    with tx(app).write() as s:
        s.get(Partner, partner["id"]).base_url = f"http://127.0.0.1:{free_port()}"  # nobody listens
    waits = []
    for _ in range(4):
        before = utcnow()
        harvest_partner(app, partner["id"])  # real urllib, a refused connection
        p = partner_row(app, partner["id"])
        waits.append(round((p.next_attempt_at.replace(tzinfo=before.tzinfo) - before) / timedelta(seconds=1)))
    assert waits == [10, 20, 35, 35]
    assert "无法连接" in p.last_error
    assert harvest.due_partners(app) == []
    published(app, session, 1)
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app))
    p = partner_row(app, partner["id"])
    assert (p.failures, p.next_attempt_at, p.last_error) == (0, None, None)


def test_a_crash_between_pages_keeps_the_cursor_of_the_last_page_applied(app, session, partner):
    published(app, session, 5)
    good = wsgi_fetch(app)
    calls = []

    def dies_on_third_page(url, token, max_bytes):
        calls.append(url)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        return good(url, token, max_bytes)

    with pytest.raises(SystemExit):
        harvest_partner(app, partner["id"], fetch=dies_on_third_page, page_size=2)
    assert len(state(app)) == 4
    assert partner_row(app, partner["id"]).cursor != "0"
    harvest_partner(app, partner["id"], fetch=good, page_size=2)
    assert len(state(app)) == 5  # resumed from the cursor, no duplicates


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(size=st.integers(min_value=1, max_value=9))
def test_harvesting_in_pages_of_any_size_ends_in_the_same_state(app, session, people, partner, size):
    with tx(app).read() as s:
        seeded = (
            s.exec(select(LinkedRecord)).first() is not None or s.get(Partner, partner["id"]).cursor != "0"
        )
    if not seeded and not getattr(app, "_feed_seeded", False):
        rows = published(app, session, 6) + published(app, session, 3, kind="need")
        withdraw(app, session, rows[1], people)
        withdraw(app, session, rows[7], people)
        app._feed_seeded = True
    with tx(app).write() as s:
        for r in s.exec(select(LinkedRecord)).all():
            s.delete(r)
        s.get(Partner, partner["id"]).cursor = "0"
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app), page_size=500)
    everything = state(app)
    with tx(app).write() as s:
        for r in s.exec(select(LinkedRecord)).all():
            s.delete(r)
        s.get(Partner, partner["id"]).cursor = "0"
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app), page_size=size, max_pages=1000)
    assert state(app) == everything
    assert len(everything) == 7  # the two withdrawn ones were tombstones before they were ever harvested


def test_linked_records_are_searchable_labelled_and_not_counted(app, session, client, people, partner):
    rows = published(app, session, 2, title="超导磁体低温制冷机")
    stats_before = client.get("/api/v1/stats").get_json()
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app))
    assert index_pending(app) == 2
    hits = client.get("/api/v1/search?q=超导磁体").get_json()["hits"]
    linked = [h for h in hits if h["external_id"] and h["external_id"].startswith("TJ.")]
    assert len(linked) == 2
    assert all("北京技术市场" in h["org_name"] for h in linked)
    page = client.get("/search?q=超导磁体").get_data(as_text=True)
    assert "合作平台" in page and "/linked/" in page
    with tx(app).read() as s:
        record = s.exec(select(LinkedRecord)).first()
    detail = client.get(f"/linked/{record.id}").get_data(as_text=True)
    assert "北京技术市场" in detail and "最近采集" in detail and record.url in detail
    assert "022-27400000" not in detail
    assert client.get("/api/v1/stats").get_json() == stats_before  # harvested records are not counted
    withdraw(app, session, rows[0], people)
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app))
    index_pending(app)
    hits = client.get("/api/v1/search?q=超导磁体").get_json()["hits"]
    assert len([h for h in hits if (h["external_id"] or "").startswith("TJ.")]) == 1
    assert client.get(f"/linked/{record.id}").status_code == 404


def test_linked_records_appear_beside_a_listings_matches_without_match_rows(app, session, people, partner):
    published(app, session, 1, title="低温锂电池电解液", summary="零下四十度锂电池续航保持，低温电解液配方")
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app))
    index_pending(app)
    need = make_listing(
        session, kind="need", title="锂电池低温续航", description="物流车锂电池冬天续航下降，需要低温电解液"
    )
    session.commit()
    admin = app.test_client()
    login(admin, people["admin"])
    page = admin.get(f"/needs/{need.id}/matches").get_data(as_text=True)
    assert "合作平台的相关成果" in page
    with tx(app).read() as s:
        record = s.exec(select(LinkedRecord)).one()
        assert s.exec(select(Match)).all() == []  # linked, not matched into the agents' queue
    assert f"/linked/{record.id}" in page and "北京技术市场" in page


def test_disabling_a_partner_takes_its_records_out_of_search_and_a_rebuild_keeps_them(
    app, session, client, people, partner
):
    published(app, session, 2, title="海水淡化反渗透膜")
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app))
    index_pending(app)
    reindex(app)  # a full rebuild indexes harvested records beside local listings
    assert len(linked_search_hits(client, "反渗透膜")) == 2
    with tx(app).write() as s:
        service.save_partner(s, partner=s.get(Partner, partner["id"]), name="北京技术市场",
                             base_url="http://localhost", prefix="TJ", enabled=False)  # fmt: skip
    index_pending(app)
    assert linked_search_hits(client, "反渗透膜") == []
    with tx(app).read() as s:
        record = s.exec(select(LinkedRecord)).first()
    assert client.get(f"/linked/{record.id}").status_code == 404


def linked_search_hits(client, text):
    hits = client.get("/api/v1/search", query_string={"q": text}).get_json()["hits"]
    return [h for h in hits if (h["external_id"] or "").startswith("TJ.")]
