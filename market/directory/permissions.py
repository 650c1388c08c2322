"""Who may edit which directory profile, ask for a broker, and answer a request."""

from __future__ import annotations

from market.accounts.permissions import is_admin
from market.directory.models import BrokerRequest
from vocab.taxonomy import Role

#: which role owns which kind of listing (and so may ask a broker to take it)
OWNER_ROLE = {"result": Role.UNIVERSITY, "need": Role.ENTERPRISE}
PENDING = "待处理"


def can_edit_agency(user, org) -> bool:
    """The agency's own brokers and administrators describe the agency."""
    if is_admin(user):
        return True
    return (
        getattr(user, "is_authenticated", False)
        and user.role == Role.AGENT
        and user.organization_id == getattr(org, "id", None)
    )


def can_edit_broker(user, broker_user) -> bool:
    """A broker edits their own profile (never their figures: those are counted)."""
    return getattr(user, "is_authenticated", False) and user.role == Role.AGENT and user.id == broker_user.id


def can_ask(user) -> bool:
    """Universities and enterprises ask a broker to take one of their listings."""
    return getattr(user, "is_authenticated", False) and user.role in OWNER_ROLE.values()


def can_answer(user, req: BrokerRequest) -> bool:
    """A broker of the agency asked (or the one broker asked) answers a waiting request."""
    return (
        getattr(user, "is_authenticated", False)
        and user.role == Role.AGENT
        and req.status == PENDING
        and user.organization_id == req.agency_id
        and req.broker_id in (None, user.id)
    )


def can_withdraw(user, req: BrokerRequest) -> bool:
    return getattr(user, "is_authenticated", False) and req.status == PENDING and user.id == req.sender_id
