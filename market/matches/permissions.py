"""Who may see and work matches."""

from __future__ import annotations

from flask import abort
from sqlmodel import Session

from market.listings import permissions as listing_perm
from market.matches.queries import Row, one
from vocab.taxonomy import MatchStatus, Role


def is_broker(user) -> bool:
    """Agents and admins work matches."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.AGENT, Role.ADMIN)


def can_view(user, row: Row) -> bool:
    """Agents and admins see every match; owners see the matches of their own listings."""
    return is_broker(user) or listing_perm.is_owner(user, row.result) or listing_perm.is_owner(user, row.need)


def holds(user, row: Row) -> bool:
    """The claiming agent (or an admin) acts on a claimed match."""
    if not is_broker(user):
        return False
    return user.role == Role.ADMIN or row.match.agent_id == user.id


def can_claim(user, row: Row) -> bool:
    return getattr(user, "role", None) == Role.AGENT and row.match.status == MatchStatus.SUGGESTED


def can_feedback(user, row: Row) -> bool:
    return listing_perm.is_owner(user, row.result) or listing_perm.is_owner(user, row.need)


def load_match(session: Session, match_id: int, user, *, need=can_view) -> Row:
    """The match row, 404 when the user may not know it, 403 when they may see but not act."""
    row = one(session, match_id)
    if row is None or not can_view(user, row):
        abort(404)
    if not need(user, row):
        abort(403)
    return row


def can_view_listing_matches(user, listing) -> bool:
    """Owners see their own listing's matches; agents and admins all."""
    return is_broker(user) or listing_perm.is_owner(user, listing)
