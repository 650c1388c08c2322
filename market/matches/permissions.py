"""Who may see and work matches."""

from __future__ import annotations

from flask import abort
from sqlmodel import Session

from market.accounts.permissions import is_admin, is_verified_agent
from market.listings import permissions as listing_perm
from market.matches.queries import Row, one
from vocab.taxonomy import ListingStatus, MatchStatus, Role

#: the states in which the holding agent works a match
OPEN = (MatchStatus.CLAIMED, MatchStatus.INTRODUCED, MatchStatus.NEGOTIATING)


def is_broker(user) -> bool:
    """Admins, and agents of a verified technology-transfer agency, work matches."""
    return is_admin(user) or is_verified_agent(user)


def can_view(user, row: Row) -> bool:
    """Brokers see every match; owners see their own listing's matches while the other side is public."""
    if is_broker(user):
        return True
    public = (ListingStatus.PUBLISHED, ListingStatus.CLOSED)
    return (listing_perm.is_owner(user, row.result) and row.need.status in public) or (
        listing_perm.is_owner(user, row.need) and row.result.status in public
    )


def holds(user, row: Row) -> bool:
    """The claiming agent (or an admin) acts on a claimed match."""
    if not is_broker(user):
        return False
    return user.role == Role.ADMIN or row.match.agent_id == user.id


def can_claim(user, row: Row) -> bool:
    return is_verified_agent(user) and row.match.status == MatchStatus.SUGGESTED


def can_feedback(user, row: Row) -> bool:
    """Members of either owner may say whether the match interests them."""
    return listing_perm.is_owner(user, row.result) or listing_perm.is_owner(user, row.need)


def offers_feedback(user, row: Row) -> bool:
    """The feedback form is offered while the match is still open (not signed or declined)."""
    return can_feedback(user, row) and row.match.status not in (MatchStatus.SIGNED, MatchStatus.DECLINED)


def can_work(user, row: Row) -> bool:
    """The holder may note, decline or move a match it holds while it is in work."""
    return holds(user, row) and row.match.status in OPEN


def can_claim_from_queue(user) -> bool:
    """Verified agents claim from the queue (admins see it without claiming)."""
    return is_verified_agent(user)


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
