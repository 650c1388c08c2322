"""京津冀 互联互通: the harvest feed's change log, the partner registry and the partners' linked records."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)

#: search documents of linked records use db ids from here up (local listing ids stay below), so the
#: search library needs no new document kind; `linked_id_of_doc` reads them back
LINKED_DOC_BASE = 2**30


class FeedEntry(SQLModel, table=True):
    """A published listing's latest change, or the tombstone of one that left the feed.

    One row per listing: a change deletes the row and inserts a new one, so `id` (never reused:
    AUTOINCREMENT on SQLite, a sequence on PostgreSQL) is the feed's cursor and a listing appears
    once, at its latest change. Listings that were never in the feed get no tombstone."""

    __tablename__ = "feed_entries"
    __table_args__ = (
        sa.UniqueConstraint("kind", "listing_id", name="uq_feed_entries_kind_listing_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    deleted: bool = Field(default=False)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class Partner(SQLModel, table=True):
    """A partner platform: we harvest its feed (with the token it gave us) and/or it harvests ours
    (with the token we issued, stored hashed and shown once)."""

    __tablename__ = "partners"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    base_url: str = Field(default="", max_length=300)
    #: the prefix of the partner's global identifiers ("BJ" for "BJ.result.12")
    prefix: str = Field(max_length=20, sa_column_kwargs={"unique": True})
    #: the token the partner issued to us for its feed (sent as a bearer token; empty: not harvested)
    harvest_token: str | None = Field(default=None, max_length=200)
    #: SHA-256 of the token we issued to the partner for our feed; None: no access
    feed_token_hash: str | None = Field(default=None, max_length=64, index=True)
    feed_token_prefix: str | None = Field(default=None, max_length=20)
    enabled: bool = Field(default=True)
    #: where harvesting goes on: the partner's next cursor
    cursor: str = Field(default="0", max_length=40)
    last_harvest_at: datetime | None = Field(default=None, sa_type=_TS)
    last_error: str | None = Field(default=None, max_length=500)
    last_error_at: datetime | None = Field(default=None, sa_type=_TS)
    #: consecutive failures; the next attempt waits FEDERATION_BACKOFF_SECONDS × 2^(failures−1)
    failures: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=_TS)
    records_live: int = Field(default=0)
    records_deleted: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class LinkedRecord(SQLModel, table=True):
    """A partner's listing as harvested: shown linked (title, summary, field, a link back), never
    reproduced as a local listing, never with contacts, never counted in local statistics."""

    __tablename__ = "linked_records"

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    #: the partner's global identifier (its prefix + kind + its local id)
    identifier: str = Field(max_length=200, sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=10)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_type=sa.Text)
    keywords: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    field: str | None = Field(default=None, max_length=30)
    maturity: str | None = Field(default=None, max_length=30)
    modes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    region: str | None = Field(default=None, max_length=30)
    is_challenge: bool = Field(default=False)
    price_low: float | None = Field(default=None)
    price_high: float | None = Field(default=None)
    provider: str = Field(default="", max_length=200)
    #: the record's page on the partner's platform
    url: str = Field(default="", max_length=500)
    registered_at: datetime | None = Field(default=None, sa_type=_TS)
    #: the GB/T 30523 core metadata as the partner sent it
    core: dict = Field(default_factory=dict, sa_type=sa.JSON)
    deleted: bool = Field(default=False, index=True)
    harvested_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    #: the search index has this state (False after each harvest until the puller indexed it)
    indexed: bool = Field(default=False, index=True)

    @property
    def search_db_id(self) -> int:
        """The db id of the record's search document (above every local listing's)."""
        return LINKED_DOC_BASE + int(self.id or 0)


def linked_id_of_doc(db_id: int) -> int | None:
    """The LinkedRecord id behind a search document's db id; None for a local listing."""
    return db_id - LINKED_DOC_BASE if db_id > LINKED_DOC_BASE else None


#: where an introduction asked of a partner stands (the sending side)
INTRO_QUEUED = "待发送"
INTRO_DELIVERED = "已送达"
INTRO_ACCEPTED = "对方已接受"
INTRO_DECLINED = "已拒绝"
INTRO_UNDELIVERABLE = "未能送达"
#: where an introduction a partner asked of us stands (the receiving side), and its API word
INCOMING_OPEN, INCOMING_ACCEPTED, INCOMING_DECLINED = "待处理", "已接受", "已拒绝"
INCOMING_API_STATUS = {
    INCOMING_OPEN: "received",
    INCOMING_ACCEPTED: "accepted",
    INCOMING_DECLINED: "declined",
}


class IntroductionRequest(SQLModel, table=True):
    """An introduction an agent asks of a partner platform for one of its records, about one local
    listing. The row is its own queue entry: the worker delivers it to the partner (retried with
    back-off; `request_id` makes a repeated delivery a no-op there), then polls the partner for the
    answer. Contacts never travel: the partner's side decides and the two sides meet there."""

    __tablename__ = "introduction_requests"

    id: int | None = Field(default=None, primary_key=True)
    #: the idempotency key the partner deduplicates on
    request_id: str = Field(max_length=36, sa_column_kwargs={"unique": True})
    partner_id: int = Field(foreign_key="partners.id", index=True)
    linked_record_id: int = Field(foreign_key="linked_records.id", index=True)
    #: the partner's global identifier of the record (kept should the record be harvested away)
    identifier: str = Field(max_length=200)
    listing_kind: str = Field(max_length=10)
    listing_id: int
    sender_id: int = Field(foreign_key="users.id", index=True)
    message: str = Field(sa_type=sa.Text)
    status: str = Field(default=INTRO_QUEUED, max_length=10, index=True)
    attempts: int = Field(default=0)
    #: the next delivery attempt (while 待发送) or the next poll for the answer (while 已送达)
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=_TS, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_type=_TS)
    answered_at: datetime | None = Field(default=None, sa_type=_TS)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class IncomingIntroduction(SQLModel, table=True):
    """An introduction a partner platform asked of us for one of our published listings; the
    listing's owner, administrators and agents accept or decline it. One row per (partner,
    request id), however often the partner delivers it."""

    __tablename__ = "incoming_introductions"
    __table_args__ = (
        sa.UniqueConstraint("partner_id", "request_id", name="uq_incoming_introductions_partner_request"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    request_id: str = Field(max_length=36)
    kind: str = Field(max_length=10)
    listing_id: int = Field(index=True)
    #: the partner's listing the request is about, as the partner described it (no contacts)
    from_identifier: str = Field(max_length=200)
    from_title: str = Field(max_length=200)
    from_url: str = Field(default="", max_length=500)
    from_organization: str = Field(default="", max_length=200)
    #: the agency of the agent who asked, on the partner's side
    agency: str = Field(default="", max_length=200)
    message: str = Field(sa_type=sa.Text)
    status: str = Field(default=INCOMING_OPEN, max_length=10, index=True)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_type=_TS)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
