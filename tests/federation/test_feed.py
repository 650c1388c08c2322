"""The harvest feed: partner tokens, cursor order, tombstones, no contacts, JSON errors, the document."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from market.db import utcnow
from market.federation.models import FeedEntry, Partner
from market.outbox.service import enqueue_listing
from market.outbox.worker import tx
from tests.factories import make_listing
from tests.federation.conftest import bearer, published, relay_feed, withdraw
from tests.fuzzing import fuzz
from tests.test_api import make_token


def pages(client, token, limit):
    since, out = "0", []
    while True:
        body = client.get(f"/api/v1/feed?since={since}&limit={limit}", headers=bearer(token)).get_json()
        out.append(body)
        if not body["more"]:
            return out
        since = body["next"]


def test_feed_needs_a_partner_token(app, client, people, partner):
    assert client.get("/api/v1/feed").status_code == 401
    body = client.get("/api/v1/feed").get_json()
    assert body["error"] == "invalid" and "令牌" in body["message"]
    assert client.get("/api/v1/feed", headers=bearer("kjfd_wrong")).status_code == 401
    user_token = make_token(app, people["admin"])
    assert client.get("/api/v1/feed", headers=bearer(user_token)).status_code == 401
    assert client.get("/api/v1/feed", headers=bearer(partner["token"])).status_code == 200
    with tx(app).write() as s:
        s.get(Partner, partner["id"]).enabled = False
    assert client.get("/api/v1/feed", headers=bearer(partner["token"])).status_code == 403


def test_pages_follow_the_cursor_in_order(app, session, client, partner):
    rows = published(app, session, 5)
    got = pages(client, partner["token"], 2)
    assert [p["count"] for p in got] == [2, 2, 1]
    seqs = [r["seq"] for p in got for r in p["records"]]
    assert seqs == sorted(seqs)
    assert [p["next"] for p in got[:-1]] == [str(p["records"][-1]["seq"]) for p in got[:-1]]
    ids = [r["identifier"] for p in got for r in p["records"]]
    assert ids == [f"TJ.result.{r.id}" for r in rows]
    last = got[-1]["next"]
    again = client.get(f"/api/v1/feed?since={last}", headers=bearer(partner["token"])).get_json()
    assert again["records"] == [] and again["next"] == last and again["more"] is False


def test_a_record_carries_core_metadata_and_provenance_never_contacts(app, session, client, partner):
    (row,) = published(app, session, 1, contact_name="王联系", contact_phone="022-99990000")
    resp = client.get("/api/v1/feed", headers=bearer(partner["token"]))
    record = resp.get_json()["records"][0]
    assert record["core"]["identifier"] == f"TJ.result.{row.id}"
    assert record["core"]["name"] == row.title
    assert record["core"]["provider"]
    assert record["core"]["registered"]
    assert record["provenance"]["url"].endswith(f"/results/{row.id}")
    assert record["fields"]["title"] == row.title
    text = resp.get_data(as_text=True)
    assert "王联系" not in text and "022-99990000" not in text and "contact" not in text


def test_withdrawal_moves_the_record_to_the_end_as_a_tombstone(app, session, client, people, partner):
    first, second = published(app, session, 2)
    before = pages(client, partner["token"], 100)[-1]["next"]
    withdraw(app, session, first, people)
    after = client.get(f"/api/v1/feed?since={before}", headers=bearer(partner["token"])).get_json()
    assert [(r["identifier"], r["deleted"]) for r in after["records"]] == [(f"TJ.result.{first.id}", True)]
    assert "core" not in after["records"][0]
    everything = pages(client, partner["token"], 100)[-1]["records"]
    assert [r["local_id"] for r in everything] == [second.id, first.id]


def test_listings_never_published_leave_no_tombstone(app, session, client, partner):
    draft = make_listing(session, kind="need", status="草稿")
    session.commit()
    enqueue_listing(session, kind="need", listing_id=draft.id)
    session.commit()
    relay_feed(app)
    assert client.get("/api/v1/feed", headers=bearer(partner["token"])).get_json()["records"] == []


def test_backfill_adds_listings_older_than_the_feed(app, session, client, partner):
    older = make_listing(session, kind="need")
    session.commit()
    app.test_cli_runner().invoke(args=["federation", "backfill"])
    records = client.get("/api/v1/feed", headers=bearer(partner["token"])).get_json()["records"]
    assert [r["identifier"] for r in records] == [f"TJ.need.{older.id}"]
    assert len(session.exec(select(FeedEntry)).all()) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=abc", "since"),
        ("since=-1", "since"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=1.5", "limit"),
        ("since=1&since=2", "since"),
        ("cursor=3", "cursor"),
    ],
)
def test_bad_parameters_are_400_json_naming_the_parameter(client, partner, query, field):
    resp = client.get(f"/api/v1/feed?{query}", headers=bearer(partner["token"]))
    assert resp.status_code == 400
    assert resp.get_json()["fields"][0]["field"] == field


def test_feed_is_in_the_openapi_document_and_fuzzes_clean(app, partner):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert "/api/v1/feed" in spec["paths"]
    assert "partnerToken" in spec["components"]["securitySchemes"]
    assert fuzz(app, bearer(partner["token"]), only="feed") == []


def test_crosswalk_page_and_exports(app, session, client):
    published(app, session, 2, kind="need")
    page = client.get("/federation/crosswalk").get_data(as_text=True)
    for element in ("标识符", "资源名称", "描述", "关键词", "生成日期", "注册日期", "资源提供方"):
        assert element in page
    exported = json.loads(client.get("/federation/export.json").get_data(as_text=True))
    assert len(exported["records"]) == 2
    assert exported["records"][0]["core"]["identifier"].startswith("TJ.need.")
    assert "contact" not in json.dumps(exported)
    book = load_workbook(io.BytesIO(client.get("/federation/export.xlsx").data), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0].startswith("标识符") and len(rows) == 3


def test_backfill_reconciles_changes_the_relay_never_saw(app, session, client, people, partner):
    """A rebuild marks the outbox entries it covers done: the log catches up with what they said."""
    kept, dropped = published(app, session, 2)
    kept.title = "改过名的成果"
    kept.updated_at = utcnow()
    dropped.status = "已下架"
    session.add_all([kept, dropped])
    session.commit()  # no outbox entry: as if a rebuild had marked it done
    app.test_cli_runner().invoke(args=["federation", "backfill"])
    records = client.get("/api/v1/feed", headers=bearer(partner["token"])).get_json()["records"]
    assert [(r["local_id"], r["deleted"]) for r in records] == [(kept.id, False), (dropped.id, True)]
    assert records[0]["core"]["name"] == "改过名的成果"


def test_a_cursor_beyond_every_id_is_an_empty_page(client, partner):
    body = client.get("/api/v1/feed?since=999999999999999999", headers=bearer(partner["token"])).get_json()
    assert (body["records"], body["next"], body["more"]) == ([], "999999999999999999", False)
