"""The core loop as users meet it: real server processes, concurrent requests, on SQLite and PostgreSQL.

Each site runs what a user runs — `flask serve` (what `make run` starts: a threaded server supervising
its worker) or `gunicorn -w 2` beside `flask outbox work` — on a fresh database loaded with the demo
data. Requests come over loopback from threads released together.
"""

from __future__ import annotations

import contextlib
import json
import re
import time

import pytest
from sqlmodel import select

from market.accounts.models import User as Account
from market.listings.models import ResearchResult
from market.matches.models import Match
from tests.conftest import TEST_DATABASE_URL
from tests.live.seeding import form_fields, live_app, make_agents, make_pending
from tests.live_client import DEMO_PASSWORD, User, at_once
from tests.live_site import LiveSite, postgres_database

ADMIN = "admin@demo.kjcg.cn"
MEMBER = "tju@demo.kjcg.cn"
PARAMS = [("serve", "sqlite"), ("gunicorn", "sqlite")]
if TEST_DATABASE_URL:
    PARAMS += [("serve", "postgresql"), ("gunicorn", "postgresql")]


@pytest.fixture(scope="module", params=PARAMS, ids=[f"{s}-{d}" for s, d in PARAMS])
def site(request, tmp_path_factory):
    server, database = request.param
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database(TEST_DATABASE_URL)) if database == "postgresql" else None
        live = LiveSite(tmp_path_factory.mktemp(f"{server}-{database}"), database_url=url, server=server)
        live.migrate().flask("seed", "demo")
        stack.enter_context(live.start())
        yield live


def searchable(site: LiveSite, listing_id: int, title: str) -> bool:
    hits = User(site.base).get("/api/v1/search", params={"q": title, "kind": "result"}).json()["hits"]
    return any(h["id"] == listing_id for h in hits)


def test_eight_approvals_at_once_are_all_searchable_and_matched(site):
    pending = make_pending(site, 8, tag="并发审核")
    admins = [User(site.base).login(ADMIN) for _ in pending]
    tokens = [a.token("/admin/review") for a in admins]
    members = [User(site.base) for _ in range(8)]
    login_tokens = [m.token("/login") for m in members]
    calls = [
        (
            lambda a=a, t=t, lid=lid: a.post(
                f"/admin/review/results/{lid}", {"csrf_token": t, "decision": "approve"}
            )
        )
        for a, t, (lid, _) in zip(admins, tokens, pending, strict=True)
    ]
    calls += [
        (lambda m=m, t=t: m.post("/login", {"csrf_token": t, "email": MEMBER, "password": DEMO_PASSWORD}))
        for m, t in zip(members, login_tokens, strict=True)
    ]
    started = time.monotonic()
    responses = at_once(calls)
    assert [getattr(r, "status_code", r) for r in responses] == [302] * 16
    viewer = admins[0]
    waiting = dict(pending)
    matched: set[int] = set()
    while (waiting or len(matched) < len(pending)) and time.monotonic() - started < 10:
        for lid, title in list(waiting.items()):
            if searchable(site, lid, title):
                del waiting[lid]
        for lid, _ in pending:
            if lid not in matched and viewer.get(f"/api/v1/results/{lid}/matches").json()["matches"]:
                matched.add(lid)
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    assert not waiting, f"not searchable after {elapsed:.1f} s: {waiting}\n{site.log()}"
    assert len(matched) == len(pending), f"matched {len(matched)}/8 after {elapsed:.1f} s\n{site.log()}"


def test_a_claim_race_has_one_winner_and_the_others_are_told_who(site):
    agents = make_agents(site, 6, tag="认领竞争")
    with live_app(site) as (_app, session):
        match = session.exec(select(Match).where(Match.status == "推荐", Match.agent_id.is_(None))).first()
    users = [User(site.base).login(email, password) for email, password, _ in agents]
    tokens = [u.token(f"/matches/{match.id}") for u in users]
    responses = at_once(
        [
            (lambda u=u, t=t: u.post(f"/matches/{match.id}/claim", {"csrf_token": t}))
            for u, t in zip(users, tokens, strict=True)
        ]
    )
    codes = [r.status_code for r in responses]
    assert sorted(codes) == [302] + [409] * 5, codes
    winner = agents[codes.index(302)][2]
    for r in responses:
        if r.status_code == 409:
            assert f"已被 {winner} 认领" in r.text


def test_an_edit_race_has_one_winner_and_the_others_get_the_conflict_page(site):
    with live_app(site) as (_app, session):
        owner = session.exec(select(Account).where(Account.email == MEMBER)).one()
        listing = session.exec(
            select(ResearchResult).where(
                ResearchResult.organization_id == owner.organization_id, ResearchResult.status == "已发布"
            )
        ).first()
    tabs = [User(site.base).login(MEMBER) for _ in range(6)]
    forms = []
    for tab in tabs:
        page = tab.get(f"/results/{listing.id}/edit").text
        forms.append(form_fields(page))
    calls = []
    for i, (tab, fields) in enumerate(zip(tabs, forms, strict=True)):
        data = [(k, f"{listing.title}（第{i}个窗口的修改）" if k == "title" else v) for k, v in fields]
        calls.append(
            lambda tab=tab, data=data: tab.http.post(
                f"{site.base}/results/{listing.id}/edit", data=data, allow_redirects=False, timeout=120
            )
        )
    codes = [r.status_code for r in at_once(calls)]
    assert sorted(codes) == [302] + [409] * 5, codes
    winner = codes.index(302)
    # a published listing's new title waits for review: the owner sees it in the history's diff
    page = tabs[winner].get(f"/results/{listing.id}").text
    assert f"第{winner}个窗口的修改" in page


def test_sixty_token_writes_at_once_never_fail(site):
    member = User(site.base).login(MEMBER)
    created = member.http.post(
        f"{site.base}/account/tokens",
        data={"name": "并发写入测试", "csrf_token": member.token("/account")},
        timeout=60,
    )
    token = re.search(r"kjcg_[A-Za-z0-9_\-]+", created.text).group(0)
    body = {
        "title": "并发写入的宽温域电解液",
        "summary": "一种可在零下四十度工作的锂离子电池电解液配方。",
        "field": "储能",
        "keywords": ["锂电"],
        "maturity": "中试",
        "transfer_modes": ["技术许可"],
        "price_wan": 100,
        "contact_phone": "022-27400000",
    }

    def write(i: int):
        return User(site.base).http.post(
            f"{site.base}/api/v1/results",
            data=json.dumps(dict(body, title=f"{body['title']}{i}"), ensure_ascii=False).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=120,
        )

    codes = [getattr(r, "status_code", r) for r in at_once([lambda i=i: write(i) for i in range(60)])]
    assert codes == [201] * 60, codes


def test_nothing_was_locked_or_crashed(site):
    log = site.log()
    assert "database is locked" not in log
    assert "Traceback" not in log, log[-4000:]
