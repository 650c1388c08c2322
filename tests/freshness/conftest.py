"""Freshness fixtures: the people of every role, and a day far enough ahead for a listing to lapse."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from market.freshness import rules


@pytest.fixture
def after(app):
    """The day `days` after a listing's valid-until day, inside the app's settings."""

    def day(listing, days: int) -> date:
        return listing.valid_until + timedelta(days=days)

    return day


@pytest.fixture
def grace(app) -> int:
    return int(app.config.get("FRESHNESS_GRACE_DAYS", rules.DEFAULTS["FRESHNESS_GRACE_DAYS"]))
