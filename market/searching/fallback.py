"""When the search engine is down: a plain database search, so the page degrades instead of failing.

Freshness as the engine has it: listings past the grace period after their valid-until day are left
out (`documents.in_search`), lapsed ones (待更新) come after the current ones, each group newest first."""

from __future__ import annotations

import html

import sqlalchemy as sa
from sqlmodel import Session, func, or_, select

from market.accounts.models import Organization
from market.freshness import conditions as freshness
from market.freshness import rules as freshness_rules
from market.listings.models import KINDS, ResearchResult, TechNeed
from market.listings.queries import json_list_contains
from market.searching.documents import in_search
from search import Hit, SearchQuery, SearchResults, document_id
from vocab.taxonomy import FIELDS


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def fallback_search(session: Session, q: SearchQuery) -> SearchResults:
    """Substring search on title and text with the same filters (no facets; current listings before
    lapsed ones, newest first; none past the freshness grace period)."""
    words = [w for w in q.text.split() if w][:5]
    hits: list[Hit] = []
    total = 0
    kinds = ("result", "need") if q.kind == "all" else (q.kind,)
    per_kind = q.page * q.per_page
    for kind in kinds:
        model = KINDS[kind]
        body = ResearchResult.summary if model is ResearchResult else TechNeed.description
        stmt = (
            select(model, Organization)
            .join(Organization, Organization.id == model.organization_id)
            .where(*in_search(model))
        )
        for w in words:
            stmt = stmt.where(or_(model.title.like(_like(w), escape="\\"), body.like(_like(w), escape="\\")))
        filters = q.filters
        if filters.get("field"):
            stmt = stmt.where(model.field.in_(filters["field"]))
        if filters.get("field_top"):
            subs = [s for top in filters["field_top"] for s in FIELDS.get(top, ())]
            stmt = stmt.where(model.field.in_(subs))
        if filters.get("region"):
            stmt = stmt.where(Organization.region.in_(filters["region"]))
        if filters.get("maturity"):
            if model is not ResearchResult:
                continue
            stmt = stmt.where(ResearchResult.maturity.in_(filters["maturity"]))
        if filters.get("modes"):
            column = ResearchResult.transfer_modes if model is ResearchResult else TechNeed.cooperation_modes
            stmt = stmt.where(or_(*(json_list_contains(column, m) for m in filters["modes"])))
        if q.challenge is not None:
            if model is ResearchResult:
                if q.challenge:
                    continue
            else:
                stmt = stmt.where(TechNeed.is_challenge == q.challenge)
        total += session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
        lapsed_last = sa.case((freshness.lapsed(model), 1), else_=0)
        rows = session.exec(
            stmt.order_by(lapsed_last, model.published_at.desc(), model.id.desc()).limit(per_kind)
        ).all()
        for listing, org in rows:
            hits.append(
                Hit(
                    id=document_id(kind, listing.id),
                    kind=kind,
                    db_id=listing.id,
                    external_id=listing.external_id,
                    title=html.escape(listing.title),
                    snippet=html.escape((listing.body or "")[:160]),
                    field=listing.field,
                    score=0.0,
                    fields={
                        "org_name": org.name,
                        "region": org.region,
                        "published_at": listing.published_at,
                        "stale": freshness_rules.is_lapsed(listing),
                    },
                )
            )
    hits.sort(
        key=lambda h: (
            h.fields["stale"],
            -(h.fields["published_at"].timestamp() if h.fields["published_at"] else 0),
        )
    )
    start = (q.page - 1) * q.per_page
    return SearchResults(
        total=total,
        hits=hits[start : start + q.per_page],
        facets={},
        page=q.page,
        per_page=q.per_page,
        engine="database-fallback",
    )
