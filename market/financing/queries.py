"""Reads for the financing pages: recommendations (推荐项目 / 推荐投资机构) and statistics."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from sqlmodel import Session, select

from market.accounts.models import Organization
from market.financing import fit
from market.financing.models import FinancingRequest, InvestorProfile, PipelineEntry
from vocab.taxonomy import FinancingStage, ListingStatus, OrgKind, PipelineState, values


def ask_of(request: FinancingRequest) -> fit.Ask:
    text = "\n".join(p for p in (request.title, request.summary, request.use_of_funds) if p)
    return fit.Ask(request.id, request.field, request.stage, float(request.amount_wan), text)


def focus_of(profile: InvestorProfile) -> fit.Focus:
    return fit.Focus(
        profile.organization_id,
        tuple(profile.fields or ()),
        tuple(profile.stages or ()),
        profile.ticket_min_wan,
        profile.ticket_max_wan,
        profile.thesis or "",
    )


def recommended_investors(session: Session, request: FinancingRequest, k: int = 8):
    """(organisation, fit) of the verified investors that fit the request best."""
    rows = session.exec(
        select(InvestorProfile, Organization)
        .join(Organization, Organization.id == InvestorProfile.organization_id)
        .where(Organization.kind == OrgKind.INVESTOR, Organization.verified)
    ).all()
    orgs = {o.id: o for _, o in rows}
    fits = fit.rank_focuses(ask_of(request), [focus_of(p) for p, _ in rows], k=k)
    return [(orgs[f.focus_id], f) for f in fits]


def recommended_requests(session: Session, profile: InvestorProfile | None, k: int = 10):
    """(request, fit) of the published requests that fit the investor best."""
    if profile is None:
        return []
    published = session.exec(
        select(FinancingRequest).where(FinancingRequest.status == ListingStatus.PUBLISHED).limit(2000)
    ).all()
    by_id = {r.id: r for r in published}
    fits = fit.rank_asks(focus_of(profile), [ask_of(r) for r in published], k=k)
    return [(by_id[f.ask_id], f) for f in fits]


def statistics(session: Session) -> dict:
    """Financing on the statistics page: requests, amounts sought, stages, converted (已投资)."""
    public = (ListingStatus.PUBLISHED, ListingStatus.CLOSED)
    rows = session.exec(
        select(
            FinancingRequest.stage,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(FinancingRequest.amount_wan), 0),
        )
        .where(FinancingRequest.status.in_(public))
        .group_by(FinancingRequest.stage)
    ).all()
    by_stage = {stage: (int(n), float(total)) for stage, n, total in rows}
    states = Counter(
        dict(
            session.exec(
                select(PipelineEntry.state, sa.func.count(sa.distinct(PipelineEntry.request_id)))
                .join(FinancingRequest, FinancingRequest.id == PipelineEntry.request_id)
                .where(FinancingRequest.status.in_(public))
                .group_by(PipelineEntry.state)
            ).all()
        )
    )
    return {
        "requests": sum(n for n, _ in by_stage.values()),
        "amount_wan": round(sum(t for _, t in by_stage.values()), 2),
        "stages": [
            {"stage": s, "requests": by_stage.get(s, (0, 0.0))[0], "amount_wan": by_stage.get(s, (0, 0.0))[1]}
            for s in values(FinancingStage)
        ],
        "pipeline": {s: int(states.get(s, 0)) for s in values(PipelineState)},
        "converted": int(states.get(PipelineState.INVESTED, 0)),
    }
