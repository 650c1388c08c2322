"""Related listings (the matcher's best published counterparts) and deduplicated view counts (one per
visitor per day; bots excluded by their user agent; recorded after the page's read transaction)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app, request
from flask_login import current_user
from sqlmodel import Session, func, select

from market.db import defer_write, utcnow
from market.discovery.models import ListingView
from market.freshness import conditions as freshness
from market.freshness import rules as freshness_rules
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match
from vocab.taxonomy import ListingStatus

RELATED = 4
LOCAL_TZ = timezone(timedelta(hours=8))
BOTS = re.compile(
    r"bot|crawl|spider|slurp|baidu|bingpreview|yandex|sogou|curl|wget|python-requests|httpx|aiohttp|"
    r"go-http-client|java/|libwww|scrapy|headless|phantomjs|facebookexternalhit|monitor|uptime",
    re.IGNORECASE,
)


def related(session: Session, listing) -> list:
    """The best-scored published counterparts from the matcher (needs for a result, results for a need):
    a lapsed counterpart ranks lower, one past the freshness grace period is left out, and a listing past
    it has none until it is re-confirmed."""
    if freshness_rules.stage(listing.valid_until) == freshness_rules.GONE:
        return []
    if listing.kind == "result":
        other, mine, theirs = TechNeed, Match.result_id, Match.need_id
    else:
        other, mine, theirs = ResearchResult, Match.need_id, Match.result_id
    return list(
        session.exec(
            select(other)
            .join(Match, theirs == other.id)
            .where(
                mine == listing.id,
                Match.stale.is_(False),
                other.status == ListingStatus.PUBLISHED,
                freshness.offered(other),
            )
            .order_by(freshness.ranked(Match.score, other).desc(), other.id)
            .limit(RELATED)
        ).all()
    )


def view_count(session: Session, kind: str, listing_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(ListingView)
        .where(ListingView.kind == kind, ListingView.listing_id == listing_id)
    ).one()


def is_bot(user_agent: str | None) -> bool:
    return not user_agent or BOTS.search(user_agent) is not None


def visitor_key(*, user_id: int | None, address: str | None, user_agent: str | None, day) -> str:
    """A short hash: the user for signed-in visitors, else address + browser (never stored in clear)."""
    secret = str(current_app.config.get("SECRET_KEY") or "")
    raw = f"u:{user_id}" if user_id else f"a:{address}|{user_agent}|{day}"
    return hashlib.sha256(f"{secret}|{raw}".encode()).hexdigest()[:32]


def record(
    session: Session, *, kind: str, listing_id: int, visitor: str, now: datetime | None = None
) -> bool:
    """Count a view once per visitor per day (Tianjin calendar day); True when it was new."""
    day = (now or utcnow()).astimezone(LOCAL_TZ).date()
    exists = session.exec(
        select(ListingView.id).where(
            ListingView.kind == kind,
            ListingView.listing_id == listing_id,
            ListingView.day == day,
            ListingView.visitor == visitor,
        )
    ).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ListingView(kind=kind, listing_id=listing_id, day=day, visitor=visitor))
    except sa.exc.IntegrityError:  # the same visitor in two tabs at once
        return False
    return True


def record_view_of_current_request(listing) -> str:
    """Called by the detail page of a published listing: queue the view (after the page's read) unless
    the visitor is a bot or the listing's owner. Returns "" so a template can call it inline."""
    if listing.status != ListingStatus.PUBLISHED:
        return ""
    agent = request.headers.get("User-Agent")
    if is_bot(agent):
        return ""
    if current_user.is_authenticated and current_user.organization_id == listing.organization_id:
        return ""
    day = utcnow().astimezone(LOCAL_TZ).date()
    visitor = visitor_key(
        user_id=current_user.id if current_user.is_authenticated else None,
        address=request.remote_addr,
        user_agent=agent,
        day=day,
    )
    kind, listing_id = listing.kind, listing.id
    defer_write(lambda session: record(session, kind=kind, listing_id=listing_id, visitor=visitor))
    return ""
