"""Search documents built from published listings (contact details never included)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from sqlmodel import Session, func, or_, select

from market.accounts.models import Organization
from market.federation.models import LinkedRecord, Partner
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


def linked_document(record: LinkedRecord, partner: Partner) -> dict[str, Any]:
    """The search document of a partner platform's record: labelled with the platform, keyed above
    every local listing (`LinkedRecord.search_db_id`), its global identifier as external_id."""
    return make_document(
        kind=record.kind,
        db_id=record.search_db_id,
        external_id=record.identifier,
        title=record.title,
        body=record.summary,
        keywords=record.keywords or [],
        org_name=f"{partner.name}｜{record.provider}",
        field=record.field,
        maturity=record.maturity,
        modes=record.modes or [],
        region=record.region,
        is_challenge=record.is_challenge,
        price_low=record.price_low,
        price_high=record.price_high,
        published_at=int(record.registered_at.timestamp()) if record.registered_at else 0,
    )


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
                    .where(*in_search(model), model.id > last)
                    .order_by(model.id)
                    .limit(batch)
                ).all()
                docs = [listing_document(listing, org) for listing, org in rows]
            if not rows:
                break
            yield from docs
            last = rows[-1][0].id
    yield from linked_documents(read, batch=batch)


def linked_documents(
    read: Callable[[], AbstractContextManager[Session]], *, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Every live record harvested from an enabled partner platform, as a document."""
    last = 0
    while True:
        with read() as session:
            rows = session.exec(
                select(LinkedRecord, Partner)
                .join(Partner, Partner.id == LinkedRecord.partner_id)
                .where(LinkedRecord.deleted.is_(False), Partner.enabled, LinkedRecord.id > last)
                .order_by(LinkedRecord.id)
                .limit(batch)
            ).all()
            docs = [linked_document(record, partner) for record, partner in rows]
        if not rows:
            break
        yield from docs
        last = rows[-1][0].id


def in_search(model) -> list:
    """Published, and not past the freshness grace period (the condition `searchable` checks)."""
    cutoff = freshness.today() - timedelta(days=freshness.setting("FRESHNESS_GRACE_DAYS"))
    return [
        model.status == ListingStatus.PUBLISHED,
        or_(model.valid_until.is_(None), model.valid_until >= cutoff),
    ]


def published_count(session: Session) -> int:
    """The documents the index should hold: listings in search (published, not past the freshness
    grace period) and live linked records."""
    linked = session.exec(
        select(func.count())
        .select_from(LinkedRecord)
        .join(Partner, Partner.id == LinkedRecord.partner_id)
        .where(LinkedRecord.deleted.is_(False), Partner.enabled)
    ).one()
    return linked + sum(
        session.exec(select(func.count()).select_from(m).where(*in_search(m))).one() for m in KINDS.values()
    )
