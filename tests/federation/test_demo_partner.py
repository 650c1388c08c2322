"""The demo partner of `flask seed demo`: a clearly labelled partner with a few dozen linked records
generated from the bundled data, never harvested, shown in search and beside matches; deterministic
and idempotent."""

from __future__ import annotations

from sqlmodel import func, select

from market.federation import introductions
from market.federation.harvest import due_partners, index_pending
from market.federation.matching import linked_matches
from market.federation.models import LinkedRecord, Partner
from market.outbox.worker import tx
from seed import federation as demo
from seed.loader import DATA, read_jsonl
from tests.factories import make_listing


def test_the_demo_records_are_generated_the_same_every_time():
    first, second = demo.demo_records(), demo.demo_records()
    assert first == second
    assert len(first) == 2 * demo.PER_KIND >= 30
    assert {r["kind"] for r in first} == {"result", "need"}
    assert len({r["identifier"] for r in first}) == len(first)
    assert all(r["identifier"].startswith(f"{demo.PREFIX}.") for r in first)
    assert all(r["summary"].startswith("【演示数据】") and "（演示）" in r["provider"] for r in first)
    assert all(r["url"].startswith("https://demo-partner.invalid/") for r in first)


def test_load_is_idempotent_labelled_and_never_harvested(app, session):
    assert demo.load(session) == {"partners": 1, "linked_records": 2 * demo.PER_KIND}
    session.commit()
    assert demo.load(session) == {"partners": 0, "linked_records": 0}
    session.commit()
    partner = session.exec(select(Partner).where(Partner.prefix == demo.PREFIX)).one()
    assert "演示" in partner.name and partner.enabled
    assert partner.records_live == 2 * demo.PER_KIND
    count = session.exec(select(func.count()).select_from(LinkedRecord)).one()
    assert count == 2 * demo.PER_KIND
    assert partner.id not in due_partners(app)  # no address, no token: the worker never calls it
    assert not introductions.can_reach(partner)  # and no introduction request can be filed to it


def test_demo_records_show_in_search_and_beside_matches(app, session, client):
    stats_before = client.get("/api/v1/stats").get_json()
    demo.load(session)
    session.commit()
    assert index_pending(app) == 2 * demo.PER_KIND
    assert client.get("/api/v1/stats").get_json() == stats_before  # never counted
    first_result = next(r for r in demo.demo_records() if r["kind"] == "result")
    hits = client.get("/api/v1/search", query_string={"q": first_result["keywords"][0]}).get_json()["hits"]
    assert first_result["identifier"] in {h["external_id"] for h in hits}
    page = client.get("/search", query_string={"q": first_result["keywords"][0]}).get_data(as_text=True)
    assert demo.NAME in page
    # the bundled need the first demo result was made from, as a local listing: the demo result matches it
    source = sorted(read_jsonl(DATA / "needs.jsonl"), key=lambda r: r["external_id"])[0]
    need = make_listing(
        session,
        kind="need",
        title=source["title"],
        description=source["description"],
        keywords=source["keywords"],
        field=source["field"],
    )
    session.commit()
    with tx(app).read() as s:
        found = linked_matches(app, s, s.get(type(need), need.id))
    assert first_result["identifier"] in {m.record.identifier for m in found}
