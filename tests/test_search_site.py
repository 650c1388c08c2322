"""The site's search: outbox → relay → engine, failures, the page and the API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from market.accounts.models import Organization
from market.listings.models import ListingRevision, ResearchResult
from market.outbox import relay
from market.outbox.doorbell import Listener, bell_path
from market.outbox.models import OutboxEntry
from market.outbox.service import enqueue_listing
from market.outbox.worker import drain_now
from market.searching import sync
from market.searching.engine import get_engine
from market.searching.view import page_url, toggle_url
from search import EngineUnavailable, SearchQuery
from tests.factories import NEED, RESULT, login, make_listing, publish


class FlakyEngine:
    """Failure injection around the real engine: while `down`, every call raises EngineUnavailable."""

    def __init__(self, real):
        self.real = real
        self.down = False

    def __getattr__(self, name):
        attr = getattr(self.real, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            if self.down:
                raise EngineUnavailable("injected outage")
            return attr(*args, **kwargs)

        return call


def titles(engine, text, **kw):

    return [h.title_text for h in engine.query(SearchQuery(text=text, **kw)).hits]


def pending(session):
    session.expire_all()
    return session.exec(select(OutboxEntry).where(OutboxEntry.processed_at.is_(None))).all()


def test_publish_reaches_search_and_withdraw_removes(app, session, people):
    result = publish(app, session, people)
    engine = get_engine(app)
    assert titles(engine, "电解液") == []  # nothing until the relay runs
    stats = drain_now(app)
    assert stats.processed >= 1 and pending(session) == []
    assert titles(engine, "电解液") == [RESULT["title"]]
    c = app.test_client()
    login(c, people["uni"])
    c.post(f"/results/{result.id}/withdraw")
    drain_now(app)
    assert titles(engine, "电解液") == []


def test_edit_of_published_listing_updates_document(app, session, people):
    result = publish(app, session, people)
    drain_now(app)
    c = app.test_client()
    login(c, people["uni"])
    resp = c.post(
        f"/results/{result.id}/edit",
        data=dict(RESULT, title="宽温域钠离子电池电解液", version=str(result.version)),
    )
    assert resp.status_code == 302
    drain_now(app)
    # A new title is a material edit: search keeps the published text until the revision is approved.
    assert titles(get_engine(app), "钠离子") == []
    revision = session.exec(select(ListingRevision).where(ListingRevision.listing_id == result.id)).one()
    admin = app.test_client()
    login(admin, people["admin"])
    assert admin.post(f"/admin/revisions/{revision.id}", data={"decision": "approve"}).status_code == 302
    drain_now(app)
    assert titles(get_engine(app), "钠离子") == ["宽温域钠离子电池电解液"]


def test_engine_down_during_saves_loses_nothing(app, session, people):
    flaky = FlakyEngine(get_engine(app))
    app.extensions["search.engine"] = flaky
    flaky.down = True
    publish(app, session, people)  # the save itself succeeds
    publish(app, session, people, "needs", NEED, owner="ent")
    stats = drain_now(app)
    assert stats.processed == 0 and stats.failed >= 2
    rows = pending(session)
    # The batch failed, then each listing was tried alone and backs off.
    assert len(rows) == 2 and all(r.attempts >= 1 and "injected outage" in r.last_error for r in rows)
    assert relay.backlog(session)["retrying"] == 2
    # recovery: the back-off has passed
    flaky.down = False
    for r in rows:
        r.next_attempt_at = r.created_at
        session.add(r)
    session.commit()
    assert drain_now(app).processed == 2 and pending(session) == []
    assert get_engine(app).count()["total"] == 2


def test_relay_killed_mid_batch_loses_and_duplicates_nothing(app, session, people):
    for i in range(4):
        publish(app, session, people, data=dict(RESULT, title=f"宽温域锂离子电池电解液 第{i}代"))
    handlers = app.extensions["outbox.handlers"]

    def dying(changes, tx):
        raise KeyboardInterrupt("killed")  # not an Exception: the process dies mid-batch

    with pytest.raises(KeyboardInterrupt):
        relay.drain(
            relay.Tx(app.extensions["db.sessionmaker"]),
            [*handlers, dying],
            app.extensions["outbox.loader"],
            worker="main",
            limit=10,
        )
    assert len(pending(session)) == 4  # nothing was marked done
    assert drain_now(app).batches == 0  # still leased to the dead worker...
    with relay.Tx(app.extensions["db.sessionmaker"]).write() as s:
        assert relay.release(s, "main") == 4  # ...which frees them when it starts again
    drain_now(app)
    assert pending(session) == []
    engine = get_engine(app)
    assert engine.count()["total"] == 4
    assert sorted(titles(engine, "电解液", per_page=50)) == sorted(
        f"宽温域锂离子电池电解液 第{i}代" for i in range(4)
    )


def test_approval_rings_the_worker_and_does_not_drain_itself(app, session, people):

    listener = Listener(bell_path(app.instance_path))
    try:
        c = app.test_client()
        login(c, people["uni"])
        c.post("/results/new", data=RESULT)
        result = session.exec(select(ResearchResult)).first()
        c.post(f"/results/{result.id}/submit")
        admin = app.test_client()
        login(admin, people["admin"])
        listener.wait(0)  # the submit rang too (no outbox entry, but harmless)
        resp = admin.post(f"/admin/review/results/{result.id}", data={"decision": "approve"})
        resp.close()
        assert resp.status_code == 302
        assert listener.wait(2) is True  # the commit woke the worker...
        assert titles(get_engine(app), "电解液") == []  # ...and the request itself relayed nothing
        assert len(pending(session)) == 1
    finally:
        listener.close()


def test_search_api_shape_and_facets(app, session, people, client):
    publish(app, session, people)
    publish(app, session, people, "needs", dict(NEED, is_challenge="y", reward_wan="100"), owner="ent")
    drain_now(app)
    body = client.get("/api/v1/search", query_string={"q": "电池"}).json
    assert body["query"] == "电池" and body["total"] == 2 and body["page"] == 1
    assert {h["kind"] for h in body["hits"]} == {"result", "need"}
    hit = next(h for h in body["hits"] if h["kind"] == "result")
    assert set(hit) >= {"kind", "id", "external_id", "title", "snippet", "field"}
    assert "<mark>" in hit["snippet"] or "<mark>" in hit["title"]
    assert body["facets"]["kind"] == {"result": 1, "need": 1}
    only = client.get("/api/v1/search", query_string={"q": "电池", "kind": "need", "challenge": "1"}).json
    assert only["total"] == 1 and only["hits"][0]["kind"] == "need"
    assert "022-27400000" not in str(body)


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "AND",
        "a OR b NOT c",
        "*",
        "-电池",
        "(((",
        "电池)",
        "col:val",
        "😀🔋",
        "x" * 2000,
        "NEAR(a b)",
        "^电池",
        "'; DROP TABLE x;--",
    ],
)
def test_any_text_is_a_result_or_a_400(client, text):
    resp = client.get("/api/v1/search", query_string={"q": text})
    assert resp.status_code in (200, 400) and resp.is_json
    if resp.status_code == 400:
        assert resp.json["message"]


@pytest.mark.parametrize(
    "args",
    [
        {"kind": "other"},
        {"page": "x"},
        {"per_page": "1000"},
        {"sort": "random"},
        {"challenge": "maybe"},
        {"price_min": "abc"},
    ],
)
def test_bad_parameters_are_400_json(client, args):
    resp = client.get("/api/v1/search", query_string=args)
    assert resp.status_code == 400 and resp.json["message"]


def test_search_page_escapes_and_marks(app, session, people, client):
    publish(app, session, people, data=dict(RESULT, title="<script>alert(1)</script>电池隔膜"))
    drain_now(app)
    page = client.get("/search", query_string={"q": "电池"}).data.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page and "<mark>" in page


def test_search_page_facet_and_page_links_keep_the_search(app):
    """Each facet link switches one value on or off and starts again at page 1; the pager keeps
    every argument. Checked on the helpers with a known query string."""

    def args(url: str) -> dict[str, list[str]]:
        parts = urlsplit(url)
        assert parts.path == "/search"
        return parse_qs(parts.query)

    query = "q=锂电池 储能&region=天津&region=河北&kind=result&challenge=1&page=3"
    with app.test_request_context("/search?" + query.replace(" ", "%20")):
        on, active = toggle_url("field_top", "新能源")
        assert not active and args(on) == {
            "q": ["锂电池 储能"], "region": ["天津", "河北"], "kind": ["result"], "challenge": ["1"],
            "field_top": ["新能源"],
        }  # fmt: skip
        off, active = toggle_url("region", "天津")
        assert active and args(off)["region"] == ["河北"] and "page" not in args(off)
        kind, active = toggle_url("kind", "result")
        assert active and "kind" not in args(kind)
        challenge, active = toggle_url("is_challenge", "true")
        assert active and "challenge" not in args(challenge)
        assert args(toggle_url("is_challenge", "false")[0])["challenge"] == ["0"]
        assert args(page_url(4)) == {
            "q": ["锂电池 储能"], "region": ["天津", "河北"], "kind": ["result"], "challenge": ["1"],
            "page": ["4"],
        }  # fmt: skip
    with app.test_request_context("/search"):
        assert toggle_url("region", "天津") == ("/search?region=%E5%A4%A9%E6%B4%A5", False)


def test_search_page_empty_state_and_fallback(app, session, people, client):
    page = client.get("/search", query_string={"q": "不存在的技术"}).data.decode()
    assert "没有找到" in page
    publish(app, session, people)
    flaky = FlakyEngine(get_engine(app))
    flaky.down = True
    app.extensions["search.engine"] = flaky
    resp = client.get("/search", query_string={"q": "电解液"})
    page = resp.data.decode()
    assert resp.status_code == 200 and "搜索服务暂时不可用" in page and RESULT["title"] in page
    api = client.get("/api/v1/search", query_string={"q": "电解液"}).json
    assert api["degraded"] is True and api["total"] == 1


def test_cli_sync_reindex_status(app, session, people):
    publish(app, session, people)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["search", "status"]).output
    assert "待同步：1" in out
    assert "已同步 1" in runner.invoke(args=["search", "sync"]).output
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "索引已重建" in result.output
    assert "文档：共 1" in runner.invoke(args=["search", "status"]).output


def test_healthz_reports_search(client):
    body = client.get("/healthz").json
    assert body["search"]["ok"] is True and body["search"]["engine"] == "fts5"


def test_changes_relayed_during_a_rebuild_are_replayed(app, session, people):
    """A rebuild swaps in a new index; what the relay wrote to the old one meanwhile is queued again."""

    first = publish(app, session, people)
    drain_now(app)
    engine = get_engine(app)
    real_rebuild = engine.rebuild
    org_id, first_title = people["uni"].organization_id, first.title

    def rebuild_while_a_listing_is_published(docs):

        docs = list(docs)  # the rebuild has read the database...
        with app.extensions["db.sessionmaker"]() as other:
            org = other.get(Organization, org_id)
            late = make_listing(other, kind="result", org=org, title="重建期间发布的钠离子电池正极材料")
            enqueue_listing(other, kind="result", listing_id=late.id)
            other.commit()
        drain_now(app)  # ...and the relay sends the new listing to the old index
        return real_rebuild(docs)

    engine.rebuild = rebuild_while_a_listing_is_published
    session.commit()  # release the test session's savepoint so the rebuild's own can nest cleanly
    try:
        result = sync.reindex(app)
    finally:
        engine.rebuild = real_rebuild
    assert result["requeued"] >= 1
    assert titles(engine, "钠离子") == []  # lost with the old index...
    drain_now(app)
    assert titles(engine, "钠离子") == ["重建期间发布的钠离子电池正极材料"]  # ...and replayed
    assert first_title in titles(engine, "电解液")


def test_a_rebuild_interrupted_after_a_recovery_is_finished_by_the_next_worker(app, session, people):
    """A recovery starts an empty index; if the worker dies before the rebuild ends, the relay fills the
    new index with only the newest changes. The pending mark makes the next worker rebuild it whole."""
    org = session.get(Organization, people["uni"].organization_id)
    for i in range(3):
        make_listing(session, kind="result", org=org, title=f"固态电池电解质第{i}号")
    session.commit()
    sync.reindex(app)
    engine = get_engine(app)
    assert engine.count()["total"] == 3
    sync.rebuild_mark(app).touch()  # as a recovery leaves it
    engine.clear()
    newest = list(sync.published_documents(sync.tx(app).read))[-1:]
    engine.wait(engine.upsert(newest), 10)  # the relay's next batch: only the newest listing
    assert engine.count()["total"] == 1
    with app.app_context():
        message = sync.keep_index(app)
    assert "重建" in message and engine.count()["total"] == 3
    assert not sync.rebuild_mark(app).exists()
    with app.app_context():
        assert sync.keep_index(app) is None  # whole again: nothing to do


def test_a_rebuild_of_an_emptied_index_killed_midway_is_finished_by_the_next_worker(
    app, session, people, monkeypatch
):
    """An index found empty (its file deleted) is rebuilt; a worker killed during that rebuild leaves
    the mark, so the next worker rebuilds even though the relay has put the newest changes in since."""
    org = session.get(Organization, people["uni"].organization_id)
    for i in range(3):
        make_listing(session, kind="result", org=org, title=f"钙钛矿光伏组件第{i}号")
    session.commit()
    engine = get_engine(app)
    engine.clear()

    def killed(_app, **_kw):
        raise SystemExit("worker killed")

    monkeypatch.setattr(sync, "reindex", killed)
    with app.app_context(), pytest.raises(SystemExit):
        sync.keep_index(app)
    monkeypatch.undo()
    assert sync.rebuild_mark(app).exists()
    with pytest.raises(EngineUnavailable):  # taken out of use: searches fall back meanwhile
        engine.count()
    app.extensions["search.engine"] = None  # the next worker is a new process: its engine creates
    engine = get_engine(app)  # an empty file, and the relay's next batch goes into it
    newest = list(sync.published_documents(sync.tx(app).read))[-1:]
    engine.wait(engine.upsert(newest), 10)
    with app.app_context():
        message = sync.keep_index(app)
    assert "重建" in message and engine.count()["total"] == 3
    assert not sync.rebuild_mark(app).exists()


def test_the_next_worker_finishes_an_unfinished_rebuild_before_relaying_anything(app, session, people):
    """The worker's start-up repairs the index first: otherwise its first batches go into an empty file,
    and searches would answer from those few listings as though they were all."""
    org = session.get(Organization, people["uni"].organization_id)
    for i in range(3):
        make_listing(session, kind="result", org=org, title=f"氢燃料电池双极板第{i}号")
    session.commit()
    get_engine(app).discard()  # a rebuild was under way ...
    sync.rebuild_mark(app).touch()  # ... when its worker was killed
    app.extensions["search.engine"] = None  # the next worker: a new process, a new (empty) file
    with app.app_context():
        line = sync.warm(app)
    assert "上次重建未完成" in line and get_engine(app).count()["total"] == 3
    with app.app_context():
        assert sync.warm(app) is None  # a whole index: the start-up only opens it
