"""The relay: drains the outbox into the search engine and the matcher.

Each entry names a listing; the relay reads the listing's *current* state and hands it to every
handler (search: upsert or delete the document; matching: refresh the listing's matches). Handlers are
idempotent, so an entry that is retried after a crash or a failure can never duplicate anything, and an
entry is marked done only after every handler succeeded. Failures back off exponentially.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, func, select

from market.accounts.models import Organization
from market.db import utcnow
from market.listings.models import KINDS, Listing
from market.outbox.models import OutboxEntry

#: handler(session, kind, listing_id, listing_or_None, org_or_None) -> task uid or None
Handler = Callable[[Session, str, int, "Listing | None", "Organization | None"], "int | None"]
#: checks an asynchronous task: uid -> "succeeded" | "failed" | "enqueued" | "processing" | "canceled"
TaskCheck = Callable[[int], str]

MAX_BACKOFF_SECONDS = 600


@dataclass
class DrainStats:
    processed: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: DrainStats) -> DrainStats:
        self.processed += other.processed
        self.failed += other.failed
        self.waiting += other.waiting
        self.errors.extend(other.errors)
        return self


def register_handler(app: Flask, handler: Handler) -> None:
    """Add a consumer of listing changes (called in registration order)."""
    app.extensions.setdefault("outbox.handlers", []).append(handler)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 10)))


def _claim(session: Session, stmt):
    if session.get_bind().dialect.name == "postgresql":
        # Several relays (worker + web processes) never take the same rows.
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.exec(stmt).all())


def _fail(entries: list[OutboxEntry], error: str, now) -> None:
    for entry in entries:
        entry.attempts += 1
        entry.task_uid = None
        entry.last_error = error[:500]
        entry.next_attempt_at = now + backoff(entry.attempts)


def drain_once(
    session: Session, handlers: list[Handler], task_check: TaskCheck | None = None, *, limit: int = 200
) -> DrainStats:
    """Process one batch of due entries; commits. Returns what happened."""
    stats = DrainStats()
    now = utcnow()
    # 1. Changes whose engine task was still running on the last pass.
    waiting = _claim(
        session,
        select(OutboxEntry)
        .where(OutboxEntry.processed_at.is_(None), OutboxEntry.task_uid.is_not(None))
        .order_by(OutboxEntry.id)
        .limit(limit),
    )
    for entry in waiting:
        status = task_check(entry.task_uid) if task_check else "succeeded"
        if status == "succeeded":
            entry.processed_at = now
            stats.processed += 1
        elif status in ("failed", "canceled"):
            _fail([entry], f"search task {entry.task_uid} {status}", now)
            stats.failed += 1
        else:
            stats.waiting += 1
    # 2. New and due entries, one handler run per listing however many entries it has.
    due = _claim(
        session,
        select(OutboxEntry)
        .where(
            OutboxEntry.processed_at.is_(None),
            OutboxEntry.task_uid.is_(None),
            OutboxEntry.next_attempt_at <= now,
        )
        .order_by(OutboxEntry.id)
        .limit(limit),
    )
    groups: dict[tuple[str, int], list[OutboxEntry]] = {}
    for entry in due:
        groups.setdefault((entry.kind, entry.listing_id), []).append(entry)
    for (kind, listing_id), entries in groups.items():
        listing = session.get(KINDS[kind], listing_id)
        org = session.get(Organization, listing.organization_id) if listing else None
        try:
            with session.begin_nested():
                uids = [h(session, kind, listing_id, listing, org) for h in handlers]
        except Exception as exc:  # any handler failure: retry later, nothing is lost
            _fail(entries, f"{type(exc).__name__}: {exc}", now)
            stats.failed += len(entries)
            stats.errors.append(f"{kind}-{listing_id}: {type(exc).__name__}: {exc}")
            continue
        uid = next((u for u in uids if u is not None), None)
        for entry in entries:
            if uid is None or task_check is None:
                entry.processed_at = now
                stats.processed += 1
            else:
                entry.task_uid = uid
                stats.waiting += 1
    session.commit()
    return stats


def drain(
    session_factory: Callable[[], Session],
    handlers: list[Handler],
    task_check: TaskCheck | None = None,
    *,
    limit: int = 200,
    max_batches: int = 1000,
) -> DrainStats:
    """Drain until nothing is due (or `max_batches`)."""
    total = DrainStats()
    for _ in range(max_batches):
        with session_factory() as session:
            stats = drain_once(session, handlers, task_check, limit=limit)
        total += stats
        if stats.processed + stats.failed == 0:
            break
    return total


def mark_done_up_to(session: Session, last_id: int) -> int:
    """Mark pending entries up to `last_id` done (after a full rebuild already covered them)."""
    from sqlmodel import update

    result = session.exec(
        update(OutboxEntry)
        .where(OutboxEntry.processed_at.is_(None), OutboxEntry.id <= last_id)
        .values(processed_at=utcnow(), task_uid=None)
    )
    return result.rowcount or 0


def requeue_after(session: Session, last_id: int) -> int:
    """Make entries written after `last_id` pending again (a rebuild swapped out the index they went to)."""
    from sqlmodel import update

    result = session.exec(
        update(OutboxEntry)
        .where(OutboxEntry.id > last_id, OutboxEntry.processed_at.is_not(None))
        .values(processed_at=None, task_uid=None, next_attempt_at=utcnow())
    )
    return result.rowcount or 0


def last_entry_id(session: Session) -> int:
    return session.exec(select(func.max(OutboxEntry.id))).one() or 0


def backlog(session: Session) -> dict[str, int]:
    """Pending entries: due now, waiting on an engine task, and backing off after failures."""
    now = utcnow()
    pending = OutboxEntry.processed_at.is_(None)

    def count(*conditions) -> int:
        return session.exec(select(func.count()).select_from(OutboxEntry).where(pending, *conditions)).one()

    return {
        "due": count(OutboxEntry.task_uid.is_(None), OutboxEntry.next_attempt_at <= now),
        "waiting_task": count(OutboxEntry.task_uid.is_not(None)),
        "retrying": count(OutboxEntry.attempts > 0, OutboxEntry.next_attempt_at > now),
    }


def run_forever(
    drain_fn: Callable[[], DrainStats],
    *,
    idle: float = 1.0,
    max_idle: float = 30.0,
    echo: Callable[[str], None] = print,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """The worker loop: drain, then sleep longer while idle or failing (back-off), shorter when busy."""
    delay = idle
    while not stop():
        try:
            stats = drain_fn()
        except sa.exc.OperationalError as exc:  # database unreachable: wait and retry
            echo(f"数据库不可用：{exc.__class__.__name__}，{delay:.0f} 秒后重试")
            stats = DrainStats(failed=1)
        if stats.processed or stats.failed or stats.waiting:
            echo(f"已同步 {stats.processed}，失败 {stats.failed}，等待引擎任务 {stats.waiting}")
        delay = min(max_idle, delay * 2) if (stats.failed or not stats.processed) else idle
        time.sleep(delay)
