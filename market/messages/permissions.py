"""Who may read and write a match's thread: only the members of the two introduced sides; an
administrator reads (never writes) only once a side has reported the thread. Agents do not read it."""

from __future__ import annotations

from market.matches.queries import Row
from vocab.taxonomy import Role


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_open(row: Row) -> bool:
    """A thread exists once an agent introduced the two sides (contacts are protected until then)."""
    return row.match.introduced_at is not None


def side_of(user, row: Row) -> str | None:
    """ "result" or "need" when the user is a member of that side's organisation."""
    if not _signed_in(user) or user.organization_id is None:
        return None
    if user.role == Role.UNIVERSITY and user.organization_id == row.result.organization_id:
        return "result"
    if user.role == Role.ENTERPRISE and user.organization_id == row.need.organization_id:
        return "need"
    return None


def can_write(user, row: Row) -> bool:
    return is_open(row) and side_of(user, row) is not None


def can_read(user, row: Row, *, reported: bool) -> bool:
    if can_write(user, row):
        return True
    return is_open(row) and reported and _signed_in(user) and user.role == Role.ADMIN
