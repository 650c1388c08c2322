"""The harvest feed (OAI-PMH in spirit): changes since a cursor, in order, tombstones for listings that
left the feed, GB/T 30523 core metadata beside the platform's fields, never contacts.

The change log (`FeedEntry`) is kept by an outbox handler, so it follows every listing change the
relay sees, in the relay's order; a page is read in one read transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlmodel import Session, delete, select

from market import links
from market.accounts.models import Organization
from market.db import utcnow
from market.errors import DomainError
from market.federation.crosswalk import core_metadata, global_id, platform_fields
from market.federation.models import FeedEntry, Partner
from market.listings.models import KINDS
from market.outbox import relay
from vocab.taxonomy import ListingStatus

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
TOKEN_PREFIX = "kjfd_"
#: the PostgreSQL advisory lock that orders writers of the change log
FEED_LOCK = 30523_20
PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,19}$")
#: a cursor is the id of the last entry seen: digits only, at most 18 of them
CURSOR_RE = re.compile(r"^[0-9]{1,18}$")


class FeedError(DomainError):
    """A refusal of the feed API, with its HTTP status (answered as structured JSON)."""

    def __init__(self, status: int, field: str | None, reason: str) -> None:
        super().__init__((field, reason))
        self.status = status


def platform(app: Flask | None = None) -> dict[str, str]:
    config = (app or current_app).config
    return {
        "name": str(config.get("FEDERATION_NAME") or "天津科技成果转化交易平台"),
        "prefix": str(config.get("FEDERATION_PREFIX") or "TJ"),
        "url": str(config.get("SITE_URL") or "").rstrip("/"),
    }


# -- the change log -------------------------------------------------------------------------------


def record_changes(session: Session, changes: list[relay.Change]) -> int:
    """Bring the change log in line with a batch of listing changes: a published listing moves to
    the end of the log; one that left (withdrawn, closed, deleted) becomes a tombstone there when it
    had been in the feed. Returns the entries written."""
    if not changes:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        # Writers of the log take turns, so ids are handed out in commit order and a harvester that
        # has read up to id n never misses an entry committed later with a smaller id (SQLite's
        # write transactions are serialised already).
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
    existing = {
        (e.kind, e.listing_id): e
        for kind in KINDS
        for e in session.exec(
            select(FeedEntry).where(
                FeedEntry.kind == kind,
                FeedEntry.listing_id.in_([c.listing_id for c in changes if c.kind == kind] or [-1]),
            )
        ).all()
    }
    written = 0
    seen: set[tuple[str, int]] = set()
    for change in changes:
        key = (change.kind, change.listing_id)
        if key in seen:
            continue
        seen.add(key)
        old = existing.get(key)
        if not change.published and (old is None or old.deleted):
            continue  # never in the feed, or already a tombstone
        if old is not None:
            session.exec(delete(FeedEntry).where(FeedEntry.id == old.id))
        session.add(FeedEntry(kind=change.kind, listing_id=change.listing_id, deleted=not change.published))
        written += 1
    session.flush()
    return written


def feed_handler(_app: Flask) -> relay.Handler:
    def handle(changes: list[relay.Change], batch_tx: relay.Tx) -> None:
        with batch_tx.write() as session:
            record_changes(session, changes)

    return handle


def backfill(session: Session) -> int:
    """Bring the log in line with the listings as they are (the rebuild step, which marks the outbox
    entries it covers done, and `flask federation backfill`): published listings it does not hold
    (older than the feed) are added, changed ones moved to the end, ones that left become tombstones."""
    changes: list[relay.Change] = []
    for kind, model in KINDS.items():
        rows = session.exec(
            select(model.id, model.status, model.updated_at, FeedEntry.deleted, FeedEntry.changed_at)
            .outerjoin(FeedEntry, (FeedEntry.kind == kind) & (FeedEntry.listing_id == model.id))
            .order_by(model.published_at, model.id)
        ).all()
        for listing_id, status, updated_at, deleted, changed_at in rows:
            live = status == ListingStatus.PUBLISHED
            if changed_at is None:
                stale = live
            elif live:
                stale = bool(deleted) or _aware(updated_at) > _aware(changed_at)
            else:
                stale = not deleted
            if stale:
                changes.append(relay.Change(kind, listing_id, published=live))
        gone = session.exec(
            select(FeedEntry.listing_id).where(
                FeedEntry.kind == kind,
                FeedEntry.deleted.is_(False),
                FeedEntry.listing_id.not_in(select(model.id)),
            )
        ).all()
        changes.extend(relay.Change(kind, listing_id) for listing_id in gone)
    return sum(record_changes(session, changes[i : i + 500]) for i in range(0, len(changes), 500))


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


# -- access ----------------------------------------------------------------------------------------


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(session: Session, partner: Partner) -> str:
    """A new feed token for `partner` (replacing any earlier one); the plain token is returned once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    partner.feed_token_hash = _digest(raw)
    partner.feed_token_prefix = raw[: len(TOKEN_PREFIX) + 6]
    session.add(partner)
    session.flush()
    return raw


def partner_for(session: Session, authorization: str) -> Partner:
    """The enabled partner whose feed token the header carries; FeedError 401 / 403 otherwise."""
    if not authorization.startswith("Bearer ") or not authorization[7:].strip():
        raise FeedError(
            401, None, "需要合作平台访问令牌：请求头 Authorization: Bearer <令牌>（由平台运营签发）"
        )
    raw = authorization[7:].strip()
    partner = session.exec(select(Partner).where(Partner.feed_token_hash == _digest(raw))).first()
    if partner is None:
        raise FeedError(401, None, "访问令牌无效或已被更换")
    if not partner.enabled:
        raise FeedError(403, None, "该合作平台的访问已停用")
    return partner


# -- pages -----------------------------------------------------------------------------------------


def parse_args(args) -> tuple[int, int]:
    """(since, limit) from the query; FeedError 400 naming the parameter otherwise."""
    for name in args:
        if name not in ("since", "limit"):
            raise FeedError(400, name, f"未知参数：{name[:40]}（只接受 since 与 limit）")
        if len(args.getlist(name)) > 1:
            raise FeedError(400, name, f"参数 {name} 只能出现一次")
    since_raw = args.get("since", "0")
    if not CURSOR_RE.match(since_raw):
        raise FeedError(400, "since", "since 应为上一页返回的 next 游标（非负整数，首次为 0）")
    limit_raw = args.get("limit", str(DEFAULT_LIMIT))
    if not re.fullmatch(r"[0-9]{1,4}", limit_raw) or not 1 <= int(limit_raw) <= MAX_LIMIT:
        raise FeedError(400, "limit", f"limit 应为 1–{MAX_LIMIT} 的整数")
    return int(since_raw), int(limit_raw)


def _record(entry: FeedEntry, listing, org, site: dict[str, str]) -> dict[str, Any]:
    base = {
        "identifier": global_id(site["prefix"], entry.kind, entry.listing_id),
        "kind": entry.kind,
        "local_id": entry.listing_id,
        "seq": entry.id,
        "changed_at": entry.changed_at.isoformat(),
    }
    if listing is None or listing.status != ListingStatus.PUBLISHED:
        return {**base, "deleted": True}
    url = site["url"] + links.listing(entry.kind, entry.listing_id)
    return {
        **base,
        "deleted": False,
        "provenance": {"platform": site["name"], "prefix": site["prefix"], "url": url},
        "core": core_metadata(listing, org, prefix=site["prefix"], url=url),
        "fields": platform_fields(listing, org),
    }


def feed_page(session: Session, *, since: int, limit: int, site: dict[str, str]) -> dict[str, Any]:
    """The entries after `since` (at most `limit`), each as a record or a tombstone as the listing is
    now, and the cursor to ask from next."""
    entries = session.exec(
        # ids are 32-bit keys: a cursor past them (it can only be made up) has nothing after it
        select(FeedEntry).where(FeedEntry.id > min(since, 2**31 - 1)).order_by(FeedEntry.id).limit(limit + 1)
    ).all()
    more = len(entries) > limit
    entries = entries[:limit]
    current: dict[tuple[str, int], tuple[Any, Any]] = {}
    for kind, model in KINDS.items():
        ids = [e.listing_id for e in entries if e.kind == kind]
        if not ids:
            continue
        rows = session.exec(
            select(model, Organization)
            .join(Organization, Organization.id == model.organization_id)
            .where(model.id.in_(ids))
        ).all()
        current.update({(kind, listing.id): (listing, org) for listing, org in rows})
    records = [_record(e, *current.get((e.kind, e.listing_id), (None, None)), site) for e in entries]
    return {
        "platform": site,
        "since": str(since),
        "next": str(entries[-1].id if entries else since),
        "more": more,
        "count": len(records),
        "generated_at": utcnow().isoformat(),
        "records": records,
    }
