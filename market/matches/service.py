"""Match rules."""

from __future__ import annotations

from sqlmodel import Session, select

from market.listings.models import Listing, ResearchResult, TechNeed
from market.matches.models import Match


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
