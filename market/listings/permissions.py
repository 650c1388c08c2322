"""Who may see, edit, submit, review and contact; and the one loader that turns a refusal into 404/403."""

from __future__ import annotations

from flask import abort
from sqlmodel import Session

from market.listings.lifecycle import EDITABLE, PUBLIC, allows
from market.listings.models import KINDS, Listing
from vocab.taxonomy import ListingStatus, Role

#: the role whose members own listings of each kind
OWNER_ROLE = {"result": Role.UNIVERSITY, "need": Role.ENTERPRISE}


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_owner(user, listing: Listing) -> bool:
    """A member of the organisation that owns the listing (with the role that lists this kind)."""
    return (
        _signed_in(user)
        and user.organization_id == listing.organization_id
        and user.role == OWNER_ROLE[listing.kind]
    )


def can_view(user, listing: Listing) -> bool:
    """Published listings are public; others only to their owners and admins."""
    if listing.status in PUBLIC:
        return True
    return is_owner(user, listing) or (_signed_in(user) and user.role == Role.ADMIN)


def can_create(user, kind: str) -> bool:
    """University members list results; enterprise members post needs."""
    return _signed_in(user) and user.role == OWNER_ROLE[kind] and user.organization_id is not None


def can_edit(user, listing: Listing) -> bool:
    """Owners edit drafts, published and withdrawn listings; pending ones wait for review."""
    return is_owner(user, listing) and listing.status in EDITABLE


def can_submit(user, listing: Listing) -> bool:
    """Owners submit drafts, returned and withdrawn listings (the service also requires a verified
    organisation)."""
    return is_owner(user, listing) and allows("submit", listing.status)


def can_retract(user, listing: Listing) -> bool:
    """Owners take a pending submission back before the reviewer decides."""
    return is_owner(user, listing) and allows("retract", listing.status)


def can_review(user, listing: Listing) -> bool:
    """Admins approve or return pending listings."""
    return _signed_in(user) and user.role == Role.ADMIN and allows("approve", listing.status)


def can_withdraw(user, listing: Listing) -> bool:
    """Owners and admins take a published listing down."""
    return (is_owner(user, listing) or (_signed_in(user) and user.role == Role.ADMIN)) and allows(
        "withdraw", listing.status
    )


def can_close(user, listing: Listing) -> bool:
    """Owners and admins mark a published listing 已成交."""
    return (is_owner(user, listing) or (_signed_in(user) and user.role == Role.ADMIN)) and allows(
        "close", listing.status
    )


def can_express_interest(user, listing: Listing) -> bool:
    """The counterpart side (enterprise for results, university for needs) may express interest."""
    other = OWNER_ROLE["need" if listing.kind == "result" else "result"]
    return _signed_in(user) and user.role == other and listing.status == ListingStatus.PUBLISHED


def load_listing(session: Session, kind: str, listing_id: int, user, *, need=can_view) -> Listing:
    """The listing, or 404 when the user may not even know it exists, or 403 when they may see but not act."""
    model = KINDS.get(kind)
    listing = session.get(model, listing_id) if model else None
    if listing is None or not can_view(user, listing):
        abort(404)
    if not need(user, listing):
        abort(403)
    return listing
