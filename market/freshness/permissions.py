"""Who may re-confirm a listing and read the stale-listings report."""

from __future__ import annotations

from market.listings.permissions import is_owner
from vocab.taxonomy import ListingStatus, Role


def can_reconfirm(user, listing) -> bool:
    """The owners of a published listing confirm that it is still current."""
    return is_owner(user, listing) and listing.status == ListingStatus.PUBLISHED


def can_read_report(user) -> bool:
    """Platform operators read the stale-listings report."""
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.ADMIN
