"""Agents' and owners' decisions as graded labels for `python -m matching evaluate`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from sqlmodel import Session, select

from market.accounts.models import Organization
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match
from market.matches.records import record_of
from vocab.taxonomy import DeclineReason, MatchStatus

#: declines that say the technology itself did not fit (grade 0); other reasons are commercial (grade 1)
TECHNICAL_DECLINES = (DeclineReason.TECH_MISMATCH, DeclineReason.IMMATURE)


def grade(match: Match) -> int | None:
    """3 signed; 2 introduced / negotiating / both sides interested; 1 one side interested or a
    commercial decline; 0 a technical decline or an owner not interested; None when nobody decided."""
    feedback = [f for f in (match.result_feedback, match.need_feedback) if f]
    if match.status == MatchStatus.SIGNED:
        return 3
    if match.status == MatchStatus.DECLINED:
        return 0 if match.decline_reason in TECHNICAL_DECLINES else 1
    if any(f.startswith("not_interested:" + r) for f in feedback for r in TECHNICAL_DECLINES):
        return 0
    if match.status in (MatchStatus.INTRODUCED, MatchStatus.NEGOTIATING) or feedback.count("interested") == 2:
        return 2
    if "interested" in feedback:
        return 1
    if feedback:
        return 0
    return None


def listing_id(listing) -> str:
    """The id labels use: the listing's 编号 when it has one (as in seed/), else its database id."""
    return listing.external_id or f"{listing.kind}-{listing.id}"


def labels(session: Session) -> Iterator[dict]:
    rows = session.exec(
        select(Match, ResearchResult, TechNeed)
        .join(ResearchResult, ResearchResult.id == Match.result_id)
        .join(TechNeed, TechNeed.id == Match.need_id)
        .order_by(Match.id)
    ).all()
    for match, result, need in rows:
        g = grade(match)
        if g is not None:
            yield {"need_id": listing_id(need), "result_id": listing_id(result), "grade": g}


def export(session: Session, out: Path, listings_dir: Path | None = None) -> int:
    """Write label lines to `out` (and, optionally, the listings as results.jsonl / needs.jsonl)."""
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        for line in labels(session):
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
    if listings_dir is not None:
        listings_dir.mkdir(parents=True, exist_ok=True)
        for model, name in ((ResearchResult, "results.jsonl"), (TechNeed, "needs.jsonl")):
            with (listings_dir / name).open("w", encoding="utf-8") as fh:
                for listing, org in session.exec(
                    select(model, Organization).join(Organization, Organization.id == model.organization_id)
                ):
                    record = record_of(listing, org).__dict__ | {"id": listing_id(listing)}
                    fh.write(json.dumps(record, ensure_ascii=False, default=list) + "\n")
    return count
