"""Listings as the matching library sees them: plain records, no database rows."""

from __future__ import annotations

from sqlmodel import Session, select

from market.accounts.models import Organization
from market.federation.models import LinkedRecord
from market.listings.models import KINDS, Listing, ResearchResult, TechNeed
from matching.records import NeedRecord, ResultRecord
from vocab.taxonomy import ListingStatus


def result_record(listing: ResearchResult, org: Organization) -> ResultRecord:
    return ResultRecord(
        id=str(listing.id),
        title=listing.title,
        summary=listing.summary or "",
        problem=listing.problem or "",
        advantage=listing.advantage or "",
        keywords=tuple(listing.keywords or ()),
        field=listing.field,
        maturity=listing.maturity,
        transfer_modes=tuple(listing.transfer_modes or ()),
        price=None if listing.price_negotiable else listing.price_wan,
        region=org.region,
    )


def need_record(listing: TechNeed, org: Organization) -> NeedRecord:
    return NeedRecord(
        id=str(listing.id),
        title=listing.title,
        description=listing.description or "",
        requirements=listing.requirements or "",
        target_metrics=listing.target_metrics or "",
        keywords=tuple(listing.keywords or ()),
        field=listing.field,
        cooperation_modes=tuple(listing.cooperation_modes or ()),
        budget_min=listing.budget_min_wan,
        budget_max=listing.budget_max_wan,
        region=org.region,
        is_challenge=listing.is_challenge,
    )


def linked_record(record: LinkedRecord) -> ResultRecord | NeedRecord:
    """A partner platform's harvested record as the matcher sees it (id "linked-<n>": never a match row)."""
    if record.kind == "result":
        return ResultRecord(
            id=f"linked-{record.id}",
            title=record.title,
            summary=record.summary or "",
            keywords=tuple(record.keywords or ()),
            field=record.field,
            maturity=record.maturity,
            transfer_modes=tuple(record.modes or ()),
            price=record.price_low,
            region=record.region,
        )
    return NeedRecord(
        id=f"linked-{record.id}",
        title=record.title,
        description=record.summary or "",
        keywords=tuple(record.keywords or ()),
        field=record.field,
        cooperation_modes=tuple(record.modes or ()),
        budget_min=record.price_low,
        budget_max=record.price_high,
        region=record.region,
        is_challenge=record.is_challenge,
    )


def record_of(listing: Listing, org: Organization) -> ResultRecord | NeedRecord:
    return result_record(listing, org) if listing.kind == "result" else need_record(listing, org)


def published_records(session: Session) -> tuple[list[ResultRecord], list[NeedRecord]]:
    out: dict[str, list] = {"result": [], "need": []}
    for kind, model in KINDS.items():
        rows = session.exec(
            select(model, Organization)
            .join(Organization, Organization.id == model.organization_id)
            .where(model.status == ListingStatus.PUBLISHED)
        ).all()
        out[kind] = [record_of(listing, org) for listing, org in rows]
    return out["result"], out["need"]
