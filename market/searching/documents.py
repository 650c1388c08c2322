"""Search documents built from published listings (contact details never included)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from sqlmodel import Session, func, or_, select

from market.accounts.models import Organization
from market.freshness import rules as freshness
from market.listings.models import KINDS, Listing, ResearchResult
from search import document_id, make_document
from vocab.taxonomy import ListingStatus


def listing_document(listing: Listing, org: Organization) -> dict[str, Any]:
    """The search document of one listing."""
    if isinstance(listing, ResearchResult):
        low = high = listing.price_wan
        challenge = False
    else:
        low, high = listing.budget_min_wan, listing.budget_max_wan
        challenge = listing.is_challenge
    return make_document(
        kind=listing.kind,
        db_id=listing.id,
        external_id=listing.external_id,
        title=listing.title,
        body=listing.body,
        keywords=listing.keywords or [],
        org_name=org.name,
        field=listing.field,
        maturity=getattr(listing, "maturity", None),
        modes=listing.modes,
        region=org.region,
        is_challenge=challenge,
        price_low=low,
        price_high=high,
        published_at=int(listing.published_at.timestamp()) if listing.published_at else 0,
        stale=freshness.is_lapsed(listing),
    )


def searchable(listing: Listing) -> bool:
    """Published, and not past the grace period after its valid-until day (freshness)."""
    return listing.status == ListingStatus.PUBLISHED and freshness.searchable(listing)


def doc_id(kind: str, listing_id: int) -> str:
    return document_id(kind, listing_id)


def published_documents(
    read: Callable[[], AbstractContextManager[Session]], *, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Every published listing as a document, streamed in batches, each read in a short transaction
    of its own (`read()`), so a long rebuild never holds one open."""
    for model in KINDS.values():
        last = 0
        while True:
            with read() as session:
                rows = session.exec(
                    select(model, Organization)
                    .join(Organization, Organization.id == model.organization_id)
                    .where(*_in_search(model), model.id > last)
                    .order_by(model.id)
                    .limit(batch)
                ).all()
                docs = [listing_document(listing, org) for listing, org in rows]
            if not rows:
                break
            yield from docs
            last = rows[-1][0].id


def _in_search(model) -> list:
    """Published, and not past the freshness grace period (the condition `searchable` checks)."""
    cutoff = freshness.today() - timedelta(days=freshness.setting("FRESHNESS_GRACE_DAYS"))
    return [
        model.status == ListingStatus.PUBLISHED,
        or_(model.valid_until.is_(None), model.valid_until >= cutoff),
    ]


def published_count(session: Session) -> int:
    """Listings that belong in the search index (published and not past the grace period)."""
    return sum(
        session.exec(select(func.count()).select_from(m).where(*_in_search(m))).one() for m in KINDS.values()
    )
