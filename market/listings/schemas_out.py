"""Public JSON shapes of listings (contact details are never included)."""

from __future__ import annotations

from typing import Any

from market.accounts.models import Organization
from market.listings.models import Listing
from market.listings.schemas import SCHEMAS
from vocab.taxonomy import field_parent

#: every input field except the protected contact details, plus lifecycle fields
PUBLIC_FIELDS = {
    kind: ("id", "status", "version", *(f for f in schema.model_fields if not f.startswith("contact_")))
    for kind, schema in SCHEMAS.items()
}


def listing_json(listing: Listing, org: Organization | None) -> dict[str, Any]:
    """A listing as the public API shows it."""
    out: dict[str, Any] = {"kind": listing.kind}
    for name in PUBLIC_FIELDS[listing.kind]:
        value = getattr(listing, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    out["field_top"] = field_parent(listing.field)
    out["published_at"] = listing.published_at.isoformat() if listing.published_at else None
    out["updated_at"] = listing.updated_at.isoformat() if listing.updated_at else None
    if org is not None:
        out["organization"] = {
            "id": org.id,
            "name": org.name,
            "kind": org.kind,
            "region": org.region,
            "verified": org.verified,
        }
    return out
