"""The demo data: loads through the services, covers every field, is idempotent, and feeds search."""

from __future__ import annotations

import json
from collections import Counter

from sqlmodel import func, select

from market.accounts.models import Organization, User
from market.directory import track
from market.directory.models import AgencyProfile
from market.listings.models import ResearchResult, TechNeed
from market.notices import service as notices
from market.searching.documents import published_count
from market.searching.engine import get_engine
from seed.cli import seed_cli
from seed.loader import DATA, DEMO_PASSWORD, DEMO_USERS
from vocab.taxonomy import FIELDS, field_parent


def test_seed_files_cover_the_plan():
    results = [json.loads(line) for line in (DATA / "results.jsonl").open(encoding="utf-8")]
    needs = [json.loads(line) for line in (DATA / "needs.jsonl").open(encoding="utf-8")]
    pairs = [json.loads(line) for line in (DATA / "pairs.jsonl").open(encoding="utf-8")]
    assert len(results) >= 300 and len(needs) >= 150 and len(pairs) >= 150
    assert set(Counter(field_parent(r["field"]) for r in results)) == set(FIELDS)
    assert set(Counter(field_parent(n["field"]) for n in needs)) == set(FIELDS)
    ids = {r["external_id"] for r in results} | {n["external_id"] for n in needs}
    assert all(p["need_id"] in ids and p["result_id"] in ids and p["grade"] in (0, 1, 2, 3) for p in pairs)


def test_seed_demo_loads_idempotently_and_indexes(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(seed_cli, args=["demo"])
    assert first.exit_code == 0, first.output
    assert "演示账号" in first.output and DEMO_PASSWORD in first.output
    counts = {
        m: session.exec(select(func.count()).select_from(m).where(m.status == "已发布")).one()
        for m in (ResearchResult, TechNeed)
    }
    assert counts[ResearchResult] >= 300 and counts[TechNeed] >= 150
    roles = set(session.exec(select(User.role).where(User.email.in_([u["email"] for u in DEMO_USERS]))).all())
    assert roles == {"admin", "university", "enterprise", "agent"}
    # the directory: four kinds of agencies with profiles, brokers with different records, notices
    kinds = session.exec(
        select(Organization.agency_type).join(AgencyProfile, AgencyProfile.organization_id == Organization.id)
    ).all()
    assert sorted(kinds) == ["区域", "服务", "行业", "高校院所"]
    agents = session.exec(select(User.id).where(User.role == "agent")).all()
    records = {track.broker_record(session, uid).tech_amount_wan for uid in agents}
    assert len(records) >= 3
    assert len(notices.published(session)[0]) == 3
    second = runner.invoke(seed_cli, args=["demo"])
    assert "科技成果 +0，技术需求 +0" in second.output
    # the demo partner platform: loaded once, its records searchable beside local listings
    assert "演示合作平台" in first.output and "演示合作平台" not in second.output
    hits = app.test_client().get("/api/v1/search?q=关键技术").get_json()["hits"]
    assert any((h["external_id"] or "").startswith("JJJDEMO.") for h in hits)
    skipped = runner.invoke(seed_cli, args=["demo", "--if-empty"])
    assert "跳过" in skipped.output and "重建索引" not in skipped.output
    # An upgrade that changes the index layout empties the file; `make run` rebuilds it.
    get_engine(app).clear()
    rebuilt = runner.invoke(seed_cli, args=["demo", "--if-empty"])
    assert "跳过" in rebuilt.output and "重建索引" in rebuilt.output, rebuilt.output
    status = runner.invoke(args=["search", "status"]).output
    # the demo's few listings past their freshness grace period are out of search
    with app.app_context():
        searchable = published_count(session)
    assert counts[ResearchResult] + counts[TechNeed] - 30 < searchable
    assert f"文档：共 {searchable}" in status and "待同步：0" in status
    client = app.test_client()
    assert "data-demo-data" in client.get("/").get_data(as_text=True)  # the footer marks demo data
    body = client.get("/api/v1/search", query_string={"q": "电池", "kind": "result"}).json
    assert body["total"] >= 5
    resp = client.post("/login", data={"email": DEMO_USERS[0]["email"], "password": DEMO_PASSWORD})
    assert resp.status_code == 302
