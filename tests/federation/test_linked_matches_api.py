"""Partners' records in a listing's matches JSON: beside the local matches, marked as linked (source
platform, global identifier, link back, last harvested), never among or counted as local matches."""

from __future__ import annotations

from sqlmodel import select

from market.federation.harvest import harvest_partner, index_pending
from market.federation.models import LinkedRecord
from market.outbox.worker import tx
from tests.factories import login, make_listing
from tests.federation.conftest import published, wsgi_fetch


def test_the_matches_api_lists_partner_records_apart_and_marked(app, session, people, partner):
    published(app, session, 1, title="低温锂电池电解液", summary="零下四十度锂电池续航保持，低温电解液配方")
    harvest_partner(app, partner["id"], fetch=wsgi_fetch(app))
    index_pending(app)
    need = make_listing(
        session, kind="need", title="锂电池低温续航", description="物流车锂电池冬天续航下降，需要低温电解液"
    )
    session.commit()
    admin = app.test_client()
    login(admin, people["admin"])
    body = admin.get(f"/api/v1/needs/{need.id}/matches").get_json()
    with tx(app).read() as s:
        record = s.exec(select(LinkedRecord)).one()
    assert body["matches"] == [] or all("linked" not in m for m in body["matches"])
    (linked,) = body["linked_matches"]
    assert linked["linked"] is True
    assert linked["source"] == {"platform": "北京技术市场", "prefix": "TJ"}
    assert linked["identifier"] == record.identifier
    assert linked["url"] == record.url
    assert linked["page"] == f"/linked/{record.id}"
    assert linked["harvested_at"] == record.harvested_at.isoformat()
    assert linked["score"] > 0 and "terms" in linked["reasons"]
    assert linked["identifier"] not in {m.get("result", {}).get("external_id") for m in body["matches"]}


def test_the_matches_api_has_an_empty_linked_list_without_partners(app, session, people):
    need = make_listing(session, kind="need", title="无合作平台时的需求")
    session.commit()
    admin = app.test_client()
    login(admin, people["admin"])
    body = admin.get(f"/api/v1/needs/{need.id}/matches").get_json()
    assert body["linked_matches"] == []
