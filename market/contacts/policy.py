"""The contact policy: the basis on which a viewer may see a listing's contact details, what they
see, and the once-a-day record of it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from market.accounts.models import Organization, User
from market.accounts.permissions import is_admin, is_verified_agent
from market.contacts.models import ContactReveal
from market.db import utcnow
from market.directory.models import BrokerRequest
from market.listings.models import Listing, ResearchResult, TechNeed
from market.matches.models import Match

#: the bases of a reveal, as recorded
BASES = ("owner", "role", "match")


def introduced_between(session: Session, *, org_id: int | None, listing: Listing) -> bool:
    """True when an agent has introduced `org_id`'s listing to `listing` through a match."""
    if org_id is None:
        return False
    if listing.kind == "result":
        stmt = (
            select(Match.id)
            .join(TechNeed, TechNeed.id == Match.need_id)
            .where(Match.result_id == listing.id, Match.introduced_at.is_not(None))
            .where(TechNeed.organization_id == org_id)
        )
    else:
        stmt = (
            select(Match.id)
            .join(ResearchResult, ResearchResult.id == Match.result_id)
            .where(Match.need_id == listing.id, Match.introduced_at.is_not(None))
            .where(ResearchResult.organization_id == org_id)
        )
    return session.exec(stmt.limit(1)).first() is not None


def basis(session: Session, user, listing: Listing) -> str | None:
    """Why `user` may see the listing's contact details ("owner", "role", "match"), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.organization_id is not None and user.organization_id == listing.organization_id:
        return "owner"
    if is_admin(user) or is_verified_agent(user):
        return "role"
    if introduced_between(session, org_id=user.organization_id, listing=listing):
        return "match"
    return None


def reveal(
    session: Session, *, viewer: User | None, listing: Listing
) -> tuple[dict[str, str | None] | None, str | None]:
    """(contact details, basis) when the viewer may see them, else (None, None). The basis is what
    `record_reveal` records; showing an owner their own contact is not recorded."""
    why = basis(session, viewer, listing)
    if why is None:
        return None, None
    contact = {"name": listing.contact_name, "phone": listing.contact_phone, "email": listing.contact_email}
    return contact, why


def record_reveal(session: Session, *, viewer: User, listing: Listing, basis: str) -> ContactReveal | None:
    """Record that `viewer` was shown `listing`'s contact details: once per viewer, listing and basis
    a day (an agent opening a listing ten times is one reveal, and a page view is not ten writes)."""
    if basis == "owner":
        return None
    since = utcnow() - timedelta(days=1)
    seen = session.exec(
        select(ContactReveal.id).where(
            ContactReveal.kind == listing.kind,
            ContactReveal.listing_id == listing.id,
            ContactReveal.viewer_id == viewer.id,
            ContactReveal.basis == basis,
            ContactReveal.created_at >= since,
        )
    ).first()
    if seen is not None:
        return None
    reveal = ContactReveal(kind=listing.kind, listing_id=listing.id, viewer_id=viewer.id, basis=basis)
    session.add(reveal)
    session.flush()
    return reveal


def agency_contact_basis(session: Session, user, org: Organization) -> str | None:
    """Why `user` may see a 技术转移机构's own contact details: its members ("owner"), administrators
    ("role"), or an organisation whose request the agency accepted ("request"); everyone else writes to
    it through the platform."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.organization_id is not None and user.organization_id == org.id:
        return "owner"
    if is_admin(user):
        return "role"
    if user.organization_id is None:
        return None
    accepted = session.exec(
        select(BrokerRequest.id).where(
            BrokerRequest.agency_id == org.id,
            BrokerRequest.sender_org_id == user.organization_id,
            BrokerRequest.status == "已接受",
        )
    ).first()
    return "request" if accepted is not None else None
