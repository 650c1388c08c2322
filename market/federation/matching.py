"""Partner platforms' records beside a listing's own matches: candidates from the search engine (the
listing's words, the other kind, linked records only), scored by the matcher's live model exactly as it
scores local pairs. Read-only: no match row, no agent claim — an introduction happens on their side."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, url_for
from sqlmodel import Session, select

from market.accounts.models import Organization
from market.federation.models import LinkedRecord, Partner, linked_id_of_doc
from market.listings.models import Listing
from market.matches.engine import MIN_SCORE, scoring_model, stored_reasons
from market.matches.records import linked_record, record_of
from market.searching.engine import get_engine
from matching.matcher import Matcher, score_pairs
from search import EngineUnavailable, SearchQuery

CANDIDATES = 50


@dataclass(frozen=True)
class LinkedMatch:
    record: LinkedRecord
    partner: Partner
    score: float
    reasons: dict


def _candidates(app: Flask, session: Session, listing: Listing) -> list[tuple[LinkedRecord, Partner]]:
    other = "need" if listing.kind == "result" else "result"
    words = " ".join([listing.title, *(listing.keywords or [])])
    try:
        hits = get_engine(app).query(SearchQuery(text=words, kind=other, per_page=CANDIDATES, facets=())).hits
    except EngineUnavailable:
        return []
    ids = [i for i in (linked_id_of_doc(h.db_id) for h in hits) if i is not None]
    if not ids:
        return []
    return list(
        session.exec(
            select(LinkedRecord, Partner)
            .join(Partner, Partner.id == LinkedRecord.partner_id)
            .where(LinkedRecord.id.in_(ids), LinkedRecord.deleted.is_(False), Partner.enabled)
        ).all()
    )


def linked_matches(app: Flask, session: Session, listing: Listing, *, k: int = 5) -> list[LinkedMatch]:
    """The partner records that match `listing` best (at most `k`, each at least MIN_SCORE)."""
    rows = _candidates(app, session, listing)
    if not rows:
        return []
    mine = record_of(listing, session.get(Organization, listing.organization_id))
    theirs = [linked_record(r) for r, _ in rows]
    model = scoring_model(app)
    if model is None:
        fitted = Matcher().fit(*((theirs, [mine]) if listing.kind == "need" else ([mine], theirs)))
        model = (fitted.text, fitted.weights)
    if listing.kind == "result":
        scored = score_pairs(*model, theirs, [mine] * len(theirs))
    else:
        scored = score_pairs(*model, [mine] * len(theirs), theirs)
    out = [
        LinkedMatch(record, partner, s.score, stored_reasons(s.reasons))
        for s, (record, partner) in zip(scored, rows, strict=True)
        if s.score >= MIN_SCORE and s.reasons["text"]["cosine"] > 0
    ]
    return sorted(out, key=lambda m: (-m.score, m.record.id))[:k]


def linked_match_json(match: LinkedMatch) -> dict:
    """A partner's record beside a listing's matches in the JSON API: marked as linked (its source
    platform, global identifier, a link back and when it was harvested), with no match id or status,
    because it is no local match (no agent claims it, the statistics never count it)."""
    record, partner = match.record, match.partner
    return {
        "linked": True,
        "source": {"platform": partner.name, "prefix": partner.prefix},
        "identifier": record.identifier,
        "kind": record.kind,
        "title": record.title,
        "organization": record.provider,
        "url": record.url,
        "page": url_for("federation.linked", record_id=record.id),
        "harvested_at": record.harvested_at.isoformat(),
        "score": round(match.score, 4),
        "reasons": match.reasons,
    }
