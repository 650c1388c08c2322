"""Public JSON shapes of listings (contact details are never included)."""

from __future__ import annotations

from typing import Any

from market.accounts.models import Organization
from market.listings.models import Listing

_COMMON = ("id", "external_id", "title", "field", "keywords", "status", "version")
_RESULT = (
    "summary",
    "problem",
    "advantage",
    "maturity",
    "trl",
    "ip_type",
    "patent_numbers",
    "transfer_modes",
    "price_negotiable",
    "price_wan",
    "appraised_wan",
    "inventors",
    "rights_note",
)
_NEED = (
    "description",
    "requirements",
    "target_metrics",
    "cooperation_modes",
    "budget_min_wan",
    "budget_max_wan",
    "deadline",
    "is_challenge",
    "reward_wan",
    "eligibility",
)


def listing_json(listing: Listing, org: Organization | None) -> dict[str, Any]:
    """A listing as the public API shows it."""
    names = _COMMON + (_RESULT if listing.kind == "result" else _NEED)
    out: dict[str, Any] = {"kind": listing.kind}
    for name in names:
        value = getattr(listing, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    from vocab.taxonomy import field_parent

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
