"""Who may ask a partner platform for an introduction, and who answers one a partner asked of us.

Introductions are the agents' work (DOMAIN.md: agents "introduce the two sides, follow up"), and a
partner's record has no match row an owner could act on, so a verified agent files the request, about
one of our published listings; owners who want help ask an agency (the directory's broker request).
On the receiving side the listing's owner decides, and so may administrators and verified agents.
"""

from __future__ import annotations

from market.accounts.permissions import is_admin, is_verified_agent
from market.listings import permissions as listing_perm


def can_request_introduction(user) -> bool:
    return is_verified_agent(user)


def can_see_outgoing(user) -> bool:
    """Agents and administrators see the introductions asked of partners (the page and the list)."""
    return is_verified_agent(user) or is_admin(user)


def can_see_incoming_all(user) -> bool:
    return is_verified_agent(user) or is_admin(user)


def can_decide_incoming(user, listing) -> bool:
    """The target listing's owner, administrators and verified agents accept or decline."""
    return can_see_incoming_all(user) or (listing is not None and listing_perm.is_owner(user, listing))
