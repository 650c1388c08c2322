"""Freshness rules (有效期) as plain functions: no database, no listings import, so the listing
service can start a validity period without importing the freshness feature's service."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from flask import current_app, has_app_context

from market.db import utcnow
from vocab.taxonomy import ListingStatus

#: defaults of the settings `init_app` declares (also used outside an app context)
DEFAULTS = {"FRESHNESS_VALID_MONTHS": 12, "FRESHNESS_REMIND_DAYS": 30, "FRESHNESS_GRACE_DAYS": 30}

CURRENT, LAPSED, GONE = 0, 1, 2
LABELS = {CURRENT: "有效", LAPSED: "待更新", GONE: "待更新（已移出检索）"}


def setting(name: str) -> int:
    if has_app_context():
        return int(current_app.config.get(name, DEFAULTS[name]))
    return DEFAULTS[name]


def today() -> date:
    return utcnow().date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def start_validity(listing, *, on: date | None = None) -> None:
    """Begin a new validity period (publication or re-confirmation): valid for the set months, not
    yet reminded, current in search."""
    listing.valid_until = add_months(on or today(), setting("FRESHNESS_VALID_MONTHS"))
    listing.renewal_reminded_at = None
    listing.stale_stage = CURRENT


def stage(valid_until: date | None, *, on: date | None = None) -> int:
    """CURRENT until `valid_until`, LAPSED (待更新) after it, GONE once the grace period has passed too."""
    if valid_until is None:
        return CURRENT
    on = on or today()
    if on <= valid_until:
        return CURRENT
    if on <= valid_until + timedelta(days=setting("FRESHNESS_GRACE_DAYS")):
        return LAPSED
    return GONE


def is_lapsed(listing, *, on: date | None = None) -> bool:
    """A published listing past its valid-until day: badged 待更新 on every page."""
    return (
        getattr(listing, "status", None) == ListingStatus.PUBLISHED
        and stage(listing.valid_until, on=on) != CURRENT
    )


def searchable(listing, *, on: date | None = None) -> bool:
    """Still in search: current, or lapsed within the grace period (ranked after current ones)."""
    return stage(listing.valid_until, on=on) != GONE
