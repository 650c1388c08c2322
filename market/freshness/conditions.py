"""Freshness as SQL conditions, for the reads that filter or rank by it: matches (the agents' queue,
a listing's matches, the matches API, related listings) and the database search fallback.

Read-time, from the listing's valid-until day, so a lapse or a re-confirmation counts on the next
read without rewriting any match row or the match store:
- a listing past its valid-until day (待更新) ranks lower: a match involving one has its score
  multiplied by FRESHNESS_MATCH_PENALTY (default 0.5) for ordering;
- past the grace period (FRESHNESS_GRACE_DAYS) it is not offered at all (`offered` is false), until
  its owner re-confirms it.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context

from market.freshness import rules

#: a match involving a lapsed (待更新) listing ranks as if its score were this fraction of it
MATCH_PENALTY = 0.5


def match_penalty() -> float:
    """The factor (setting FRESHNESS_MATCH_PENALTY, in [0, 1]) applied to a lapsed match's score."""
    value = MATCH_PENALTY
    if has_app_context():
        value = float(current_app.config.get("FRESHNESS_MATCH_PENALTY", MATCH_PENALTY))
    return min(max(value, 0.0), 1.0)


def cutoff(on: date | None = None) -> date:
    """The earliest valid-until day still offered: the grace period before `on`."""
    return (on or rules.today()) - timedelta(days=rules.setting("FRESHNESS_GRACE_DAYS"))


def offered(model, *, on: date | None = None):
    """`model`'s rows that are current or within the grace period (the condition of `rules.searchable`)."""
    return sa.or_(model.valid_until.is_(None), model.valid_until >= cutoff(on))


def lapsed(model, *, on: date | None = None):
    """`model`'s rows past their valid-until day (badged 待更新; `rules.is_lapsed` for a row)."""
    return sa.and_(model.valid_until.is_not(None), model.valid_until < (on or rules.today()))


def ranked(score, *models, on: date | None = None):
    """`score` for ordering: times `match_penalty()` when any of `models`' rows has lapsed."""
    return sa.case(
        (sa.or_(*(lapsed(m, on=on) for m in models)), score * match_penalty()),
        else_=score,
    )


def rank_of(score: float, *listings, on: date | None = None) -> float:
    """The same rank for loaded rows (a match's JSON, the board)."""
    if any(rules.stage(getattr(x, "valid_until", None), on=on) != rules.CURRENT for x in listings):
        return score * match_penalty()
    return score
