"""Faults a real installation meets, on a running site: each gives a clear answer and recovers by itself.

Search index damaged or deleted; the database's disk read-only or full (a real tmpfs, remounted or
filled, when this machine lets the tests mount one); the worker killed in the middle of a batch.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from market.accounts.models import Organization
from market.accounts.models import User as Account
from market.db import new_session
from market.federation.models import LinkedRecord, Partner
from market.listings import service
from market.listings.models import ResearchResult
from market.listings.schemas import SCHEMAS
from market.searching.documents import in_search
from tests.conftest import TEST_DATABASE_URL
from tests.live.seeding import form_fields, live_app
from tests.live_client import User
from tests.live_site import LiveSite, postgres_database

MEMBER = "tju@demo.kjcg.cn"
FAST_CHECKS = {"SEARCH_CHECK_SECONDS": "1", "OUTBOX_POLL_SECONDS": "0.5"}


def wait_until(check, timeout: float = 30, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


def health(site: LiveSite) -> tuple[int, dict]:
    response = User(site.base).get("/healthz")
    return response.status_code, response.json()


def search(site: LiveSite, q: str = "电池") -> dict:
    return User(site.base).get("/api/v1/search", params={"q": q}).json()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    live = LiveSite(tmp_path_factory.mktemp("faults"), server="serve", env=FAST_CHECKS)
    live.migrate().flask("seed", "demo")
    with live.start():
        yield live


@pytest.mark.parametrize(
    "damage",
    [
        "overwritten",
        "deleted",
    ],
)
def test_a_lost_search_index_falls_back_and_is_rebuilt(site, damage):
    before = search(site)
    assert before["engine"] == "fts5" and before["total"] > 0
    index = site.data / "search.sqlite3"
    if damage == "deleted":
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{index}{suffix}")
    else:
        with open(index, "r+b") as fh:  # garbage over the header and the first pages
            fh.write(os.urandom(64 * 1024))
    # Until the worker has rebuilt it: the database answers, and the page says so.
    degraded = wait_until(lambda: search(site)["degraded"] or search(site)["engine"] == "fts5", timeout=10)
    page = User(site.base).get("/search", params={"q": "电池"}).text
    assert degraded and ("搜索服务暂时不可用" in page or search(site)["engine"] == "fts5")

    partial = []

    def rebuilt() -> bool:
        now = search(site)
        if not now["degraded"] and now["total"] != before["total"]:
            partial.append(now["total"])  # an answer from a half-built index, not said to be degraded
        return now["engine"] == "fts5" and not now["degraded"] and now["total"] == before["total"]

    assert wait_until(rebuilt, timeout=60, every=0.05), site.log()
    assert partial == [], "while it is rebuilt, search falls back and says so"
    assert wait_until(lambda: health(site)[1]["search"]["ok"], timeout=10), system_page(site)
    # the worker says so once the rebuild's bookkeeping is done (a moment after the swap searches see)
    assert wait_until(lambda: "已从数据库重建" in site.log("server", tail=None), timeout=30), site.log()
    if damage == "overwritten":
        assert list(index.parent.glob("search.sqlite3.damaged-*")), "the damaged file is kept aside"
        assert _intact(index)


def _intact(path: Path) -> bool:
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        try:
            return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError:
            return False


def system_page(site: LiveSite) -> str:
    """The admin system page as text (what went wrong, for a failure message)."""

    page = User(site.base).login("admin@demo.kjcg.cn").get("/admin/system").text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(site):

    with live_app(site) as (_app, session):
        sources = session.exec(select_published(ResearchResult).limit(150)).all()
        for i, src in enumerate(sources):
            data = {k: getattr(src, k) for k in SCHEMAS["result"].model_fields if k != "external_id"}
            data["title"] = f"{src.title}（批量{i}）"
            org = session.get(Organization, src.organization_id)
            listing = service.create_listing(session, actor=None, kind="result", data=data, organization=org)
            service.publish_directly(session, actor=None, listing=listing, reason="故障测试")
        session.commit()
    worker = wait_until(lambda: worker_pid(site), timeout=10)
    time.sleep(0.3)  # in the middle of the 150 listings
    os.kill(worker, signal.SIGKILL)
    # `flask serve` starts a new worker, which takes over the batch the dead one held.
    assert wait_until(lambda: worker_pid(site) not in (None, worker), timeout=30), site.log()
    with live_app(site):

        def backlog() -> int:
            with new_session(write=False) as reading:  # a read never holds up the worker
                return reading.exec(sa.text("SELECT count(*) FROM outbox WHERE processed_at IS NULL")).one()[
                    0
                ]

        assert wait_until(lambda: backlog() == 0, timeout=90), site.log()
        with new_session(write=False) as reading:
            # published and not past the freshness grace period (the demo's history leaves a few lapsed)
            published = reading.exec(
                sa.select(sa.func.count()).select_from(ResearchResult).where(*in_search(ResearchResult))
            ).one()[0]
            # and the demo partner's results, searchable beside them
            linked = reading.exec(
                sa.select(sa.func.count())
                .select_from(LinkedRecord)
                .join(Partner, Partner.id == LinkedRecord.partner_id)
                .where(LinkedRecord.kind == "result", LinkedRecord.deleted.is_(False), Partner.enabled)
            ).one()[0]
            matches = reading.exec(
                sa.text("SELECT count(*), count(DISTINCT result_id || '-' || need_id) FROM matches")
            ).one()
    docs = search(site, "")["facets"]["kind"]["result"]
    assert linked > 0, "the demo has a partner whose records are in search"
    assert docs == published + linked
    assert matches[0] == matches[1]  # no pair twice
    leftovers = [p.name for p in site.data.iterdir() if ".building-" in p.name or ".tmp" in p.name]
    assert leftovers == []


def select_published(model):

    return select(model).where(model.status == "已发布").order_by(model.id)


def worker_pid(site: LiveSite) -> int | None:
    found = subprocess.run(["pgrep", "-f", "outbox work --parent"], capture_output=True, text=True).stdout
    server = site.procs["server"].pid
    for pid in found.split():
        with contextlib.suppress(OSError):
            if os.getpgid(int(pid)) == os.getpgid(server):
                return int(pid)
    return None


# -- the database's disk ---------------------------------------------------------------------------


@contextlib.contextmanager
def small_disk(path: Path, size: str = "96M"):
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:80]}): disk faults not exercised"
        )
    try:
        yield path
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(path)], capture_output=True)
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def disk_site(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        live = LiveSite(disk / "site", server="serve", env=FAST_CHECKS, logs=tmp_path / "logs")
        live.migrate().flask("seed", "demo")
        with live.start():
            yield live


def member_listing(site: LiveSite) -> int:
    with live_app(site) as (_app, session):
        owner = session.exec(sa.select(Account).where(Account.email == MEMBER)).scalar_one()
        return (
            session.exec(
                select_published(ResearchResult).where(
                    ResearchResult.organization_id == owner.organization_id
                )
            )
            .first()
            .id
        )


def edit(site: LiveSite, user: User, listing_id: int, title: str, fields=None):
    fields = fields or form_fields(user.get(f"/results/{listing_id}/edit").text)
    data = [(k, title if k == "title" else v) for k, v in fields]
    return user.http.post(
        f"{site.base}/results/{listing_id}/edit", data=data, allow_redirects=False, timeout=60
    )


def test_a_read_only_disk_answers_503_and_recovers(disk_site):
    """The disk came up read-only (say, after a failed check at boot): the site starts and says so,
    and carries on by itself once the disk is writable again. (A mount with files open for writing
    cannot be made read-only, so the site is restarted onto it.)"""
    listing_id = member_listing(disk_site)
    disk = disk_site.data.parent
    disk_site.stop()
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    try:
        disk_site.start()
        user = User(disk_site.base)
        response = user.post(
            "/login", {"email": MEMBER, "password": "kejichengguo-demo-2026"}, token_from="/login"
        )
        assert response.status_code == 503, response.text[:500]
        assert response.headers["Retry-After"] and "暂时无法处理" in response.text
        status, body = health(disk_site)
        assert status == 503 and body["database"]["ok"] is False
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
    assert wait_until(lambda: health(disk_site)[0] == 200, timeout=30), health(disk_site)
    user = User(disk_site.base).login(MEMBER)
    assert edit(disk_site, user, listing_id, "恢复后的修改").status_code == 302


def test_a_full_disk_answers_503_and_recovers(disk_site):
    user = User(disk_site.base).login(MEMBER)
    listing_id = member_listing(disk_site)
    fields = form_fields(user.get(f"/results/{listing_id}/edit").text)
    filler = disk_site.data.parent / "filler.bin"
    with open(filler, "wb") as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * (1 << 20))
            fh.flush()
    try:
        response = edit(disk_site, user, listing_id, "磁盘满时的修改", fields)
        assert response.status_code == 503, response.text[:500]
        assert response.headers["Retry-After"] and "存储空间已满" in response.text
        status, body = wait_until(
            lambda: (lambda h: h if h[0] == 503 else None)(health(disk_site)), timeout=10
        )
        assert status == 503 and body["database"]["problem"] == "disk-full"
    finally:
        filler.unlink()
    assert wait_until(lambda: health(disk_site)[0] == 200, timeout=30)
    assert edit(disk_site, user, listing_id, "腾出空间后的修改").status_code == 302


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs a PostgreSQL server (TEST_DATABASE_URL)")
def test_a_read_only_postgresql_answers_503_and_recovers(tmp_path):
    with postgres_database(TEST_DATABASE_URL) as url:
        live = LiveSite(tmp_path / "pg", database_url=url, server="serve", env=FAST_CHECKS)
        live.migrate().flask("seed", "demo")
        name = sa.make_url(url).database
        admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with live.start():
            user = User(live.base).login(MEMBER)
            listing_id = member_listing(live)
            fields = form_fields(user.get(f"/results/{listing_id}/edit").text)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                )
            try:
                response = edit(live, user, listing_id, "只读期间的修改", fields)
                assert response.status_code == 503 and "只读" in response.text
                assert health(live)[0] == 503
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
                    conn.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                        ),
                        {"n": name},
                    )
            assert wait_until(lambda: health(live)[0] == 200, timeout=30)
            assert edit(live, user, listing_id, "恢复后的修改").status_code == 302
        admin.dispose()
