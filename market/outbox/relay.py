"""The relay: drains the outbox into the handlers features registered (search, matching).

Each entry names a listing; the relay reads the listing's *current* state and hands a batch of them to
every handler. Transactions are short: one takes a batch (a lease), one read loads the listings, each
handler makes its own short writes, and one marks the batch done. No transaction spans a call to the
search engine or a matcher computation. Handlers are idempotent, so a batch done twice (its worker
died after the handlers ran, and the lease ran out) duplicates nothing. A failing batch of several
listings is retried one listing at a time, so a bad listing delays only itself; failures back off
exponentially.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session, func, or_, select, update

from market.db import WRITE, utcnow
from market.outbox.models import OutboxEntry

MAX_BACKOFF_SECONDS = 600
#: how long a taken batch stays the taker's; longer than any batch should take
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Change:
    """One listing that changed, as it is now (`listing` None when it no longer exists)."""

    kind: str
    listing_id: int
    listing: Any = None
    org: Any = None
    #: the listing is public: index and match it; otherwise remove it everywhere
    published: bool = False


#: loads the changes of some (kind, listing id) keys in one read transaction (a feature provides it)
Loader = Callable[[Session, list[tuple[str, int]]], dict[tuple[str, int], Change]]
#: consumes a batch of changes; does its engine or matcher work first, then short writes through tx
Handler = Callable[[list[Change], "Tx"], None]


class Tx:
    """Short transactions for handlers: `read()` never takes the write lock, `write()` takes it first
    and commits on leaving the block."""

    def __init__(self, sessionmaker: Callable[..., Session]) -> None:
        self._sessionmaker = sessionmaker

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._sessionmaker()
        try:
            yield session
        finally:
            session.close()  # objects read stay usable, detached with what was loaded

    @contextmanager
    def write(self) -> Iterator[Session]:
        session = self._sessionmaker(execution_options={WRITE: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


@dataclass
class DrainStats:
    processed: int = 0
    failed: int = 0
    listings: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __iadd__(self, other: DrainStats) -> DrainStats:
        self.processed += other.processed
        self.failed += other.failed
        self.listings += other.listings
        self.batches += other.batches
        self.errors.extend(other.errors)
        self.seconds += other.seconds
        return self


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 10)))


def _due(now):
    return (OutboxEntry.processed_at.is_(None), OutboxEntry.next_attempt_at <= now)


def claim(session: Session, *, worker: str, limit: int, now=None) -> list[OutboxEntry]:
    """Take up to `limit` due entries (oldest first) under a lease; the caller commits.

    When the oldest due entry is a retry, it is taken alone, with the other entries of its listing."""
    now = now or utcnow()
    stmt = select(OutboxEntry).where(*_due(now)).order_by(OutboxEntry.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Several relays (workers, a command) never take the same rows.
        stmt = stmt.with_for_update(skip_locked=True)
    entries = list(session.exec(stmt).all())
    if entries and entries[0].attempts > 0:
        first = entries[0]
        entries = [e for e in entries if (e.kind, e.listing_id) == (first.kind, first.listing_id)]
    for entry in entries:
        entry.claimed_by = worker
        entry.next_attempt_at = now + LEASE
        session.add(entry)
    session.flush()
    return entries


def drain_once(
    tx: Tx, handlers: list[Handler], loader: Loader, *, worker: str, limit: int = 200
) -> DrainStats:
    """Take one batch, run every handler on it, mark it done (or failed). Returns what happened."""
    started = time.perf_counter()
    stats = DrainStats()
    with tx.write() as session:
        entries = claim(session, worker=worker, limit=limit)
        taken = [(e.id, e.kind, e.listing_id, e.attempts) for e in entries]
    if not taken:
        return stats
    keys = list(dict.fromkeys((kind, listing_id) for _, kind, listing_id, _ in taken))
    ids = [entry_id for entry_id, *_ in taken]
    try:
        with tx.read() as session:
            loaded = loader(session, keys)
        changes = [loaded.get(key) or Change(*key) for key in keys]
        for handler in handlers:
            handler(changes, tx)
    except Exception as exc:  # any failure: retry later, nothing is lost
        error = f"{type(exc).__name__}: {exc}"[:500]
        with tx.write() as session:
            _fail(session, ids, error, alone=len(keys) == 1)
        stats.failed = len(ids)
        stats.errors.append(f"{', '.join(f'{k}-{i}' for k, i in keys[:5])}: {error}")
    else:
        with tx.write() as session:
            session.exec(
                update(OutboxEntry)
                .where(OutboxEntry.id.in_(ids), OutboxEntry.processed_at.is_(None))
                .values(processed_at=utcnow(), claimed_by=None, last_error=None)
            )
        stats.processed = len(ids)
        stats.listings = len(keys)
    stats.batches = 1
    stats.seconds = time.perf_counter() - started
    return stats


def _fail(session: Session, ids: list[int], error: str, *, alone: bool) -> None:
    """Count an attempt; a lone listing backs off, a batch is retried at once one listing at a time."""
    now = utcnow()
    for entry in session.exec(select(OutboxEntry).where(OutboxEntry.id.in_(ids))).all():
        entry.attempts += 1
        entry.claimed_by = None
        entry.last_error = error
        entry.next_attempt_at = now + backoff(entry.attempts) if alone else now
        session.add(entry)


def drain(
    tx: Tx,
    handlers: list[Handler],
    loader: Loader,
    *,
    worker: str,
    limit: int = 200,
    max_batches: int = 1000,
) -> DrainStats:
    """Drain until nothing is due (or `max_batches`)."""
    total = DrainStats()
    for _ in range(max_batches):
        stats = drain_once(tx, handlers, loader, worker=worker, limit=limit)
        total += stats
        if not stats.batches:
            break
    return total


def release(session: Session, worker: str) -> int:
    """Make the entries a worker held due again (it restarted: whatever it was doing did not finish)."""
    result = session.exec(
        update(OutboxEntry)
        .where(OutboxEntry.claimed_by == worker, OutboxEntry.processed_at.is_(None))
        .values(claimed_by=None, next_attempt_at=utcnow())
    )
    return result.rowcount or 0


def mark_done_up_to(session: Session, last_id: int) -> int:
    """Mark pending entries up to `last_id` done (after a full rebuild already covered them)."""
    result = session.exec(
        update(OutboxEntry)
        .where(OutboxEntry.processed_at.is_(None), OutboxEntry.id <= last_id)
        .values(processed_at=utcnow(), claimed_by=None)
    )
    return result.rowcount or 0


def requeue_after(session: Session, last_id: int) -> int:
    """Make entries written after `last_id` pending again (a rebuild swapped out the index they went to)."""
    result = session.exec(
        update(OutboxEntry)
        .where(OutboxEntry.id > last_id, OutboxEntry.processed_at.is_not(None))
        .values(processed_at=None, claimed_by=None, next_attempt_at=utcnow())
    )
    return result.rowcount or 0


def last_entry_id(session: Session) -> int:
    return session.exec(select(func.max(OutboxEntry.id))).one() or 0


def backlog(session: Session) -> dict[str, Any]:
    """Pending entries: due now, taken by a worker, backing off after failures; the oldest one's age."""
    now = utcnow()
    pending = OutboxEntry.processed_at.is_(None)

    def count(*conditions) -> int:
        return session.exec(select(func.count()).select_from(OutboxEntry).where(pending, *conditions)).one()

    oldest = session.exec(select(func.min(OutboxEntry.created_at)).where(pending)).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite returns naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return {
        "due": count(OutboxEntry.next_attempt_at <= now),
        "leased": count(OutboxEntry.claimed_by.is_not(None), OutboxEntry.next_attempt_at > now),
        "retrying": count(
            OutboxEntry.attempts > 0, OutboxEntry.next_attempt_at > now, OutboxEntry.claimed_by.is_(None)
        ),
        "oldest_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "last_error": session.exec(
            select(OutboxEntry.last_error)
            .where(pending, or_(OutboxEntry.last_error.is_not(None)))
            .order_by(OutboxEntry.id.desc())
            .limit(1)
        ).first(),
    }
