"""The investor pipeline on a financing request: 关注 → 尽调 → 投资意向 → 已投资 / 放弃.

投资意向 is not binding; 已投资 records what the two sides report, the platform holds no money.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from market import links
from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import ConflictError, DomainError, NotAllowed
from market.financing import permissions as perm
from market.financing.models import FinancingRequest, PipelineEntry, PipelineStep
from market.notifications.service import members_of, notify
from vocab.taxonomy import PipelineState as P

#: action -> (allowed from-states (None: no entry yet), to-state)
TRANSITIONS: dict[str, tuple[tuple[str | None, ...], str]] = {
    "watch": ((None, P.DROPPED), P.WATCHING),
    "diligence": ((P.WATCHING,), P.DUE_DILIGENCE),
    "intent": ((P.DUE_DILIGENCE,), P.INTENT),
    "invest": ((P.INTENT,), P.INVESTED),
    "drop": ((P.WATCHING, P.DUE_DILIGENCE, P.INTENT), P.DROPPED),
}
LABELS = {
    "watch": "关注",
    "diligence": "进入尽调",
    "intent": "表达投资意向",
    "invest": "已投资",
    "drop": "放弃",
}
ORDER = (P.WATCHING, P.DUE_DILIGENCE, P.INTENT, P.INVESTED, P.DROPPED)


def entry_for(session: Session, request_id: int, org_id: int) -> PipelineEntry | None:
    return session.exec(
        select(PipelineEntry).where(
            PipelineEntry.request_id == request_id, PipelineEntry.investor_org_id == org_id
        )
    ).first()


def actions_from(state: str | None) -> list[str]:
    return [a for a, (sources, _) in TRANSITIONS.items() if state in sources]


def move(
    session: Session,
    *,
    actor: User,
    request: FinancingRequest,
    action: str,
    note: str | None = None,
    on_date: date | None = None,
) -> PipelineEntry:
    """Move the actor's investor organisation's entry on `request` (one `_move` for every step)."""
    org = perm.verified_investor(session, actor)
    if org is None or not perm.can_work_pipeline(session, actor, request):
        raise NotAllowed((None, "只有经认证的投资机构可以跟进已发布的融资需求"))
    if action not in TRANSITIONS:
        raise DomainError((None, "未知操作"))
    sources, target = TRANSITIONS[action]
    entry = entry_for(session, request.id, org.id)
    state = entry.state if entry else None
    if state not in sources:
        raise ConflictError((None, f"当前状态为“{state or '未跟进'}”，不能{LABELS[action]}"))
    on_date = on_date or date.today()
    if on_date > date.today():
        raise DomainError(("on_date", "日期不能晚于今天"))
    if entry is None:
        entry = PipelineEntry(request_id=request.id, investor_org_id=org.id, state=target)
    entry.state, entry.updated_at = target, utcnow()
    session.add(entry)
    session.flush()
    session.add(
        PipelineStep(
            entry_id=entry.id,
            actor_id=actor.id,
            from_state=state,
            to_state=target,
            note=(note or "").strip()[:2000] or None,
            on_date=on_date,
        )
    )
    session.flush()
    if target in (P.DUE_DILIGENCE, P.INTENT, P.INVESTED):
        notify(
            session,
            user_ids=members_of(session, request.organization_id),
            message=f"{org.name} 对“{request.title}”：{target}",
            link=links.financing(request.id),
        )
    return entry


def add_note(session: Session, *, actor: User, request: FinancingRequest, note: str) -> PipelineStep:
    org = perm.verified_investor(session, actor)
    entry = entry_for(session, request.id, org.id) if org else None
    if entry is None:
        raise NotAllowed((None, "请先关注该项目"))
    note = (note or "").strip()
    if not note:
        raise DomainError(("note", "请填写备注"))
    step = PipelineStep(entry_id=entry.id, actor_id=actor.id, note=note[:2000])
    session.add(step)
    session.flush()
    return step


def steps(session: Session, entry: PipelineEntry) -> list[PipelineStep]:
    return list(
        session.exec(
            select(PipelineStep).where(PipelineStep.entry_id == entry.id).order_by(PipelineStep.id)
        ).all()
    )


def board(session: Session, org_id: int) -> dict[str, list[tuple[PipelineEntry, FinancingRequest]]]:
    """The investor's entries by state."""
    rows = session.exec(
        select(PipelineEntry, FinancingRequest)
        .join(FinancingRequest, FinancingRequest.id == PipelineEntry.request_id)
        .where(PipelineEntry.investor_org_id == org_id)
        .order_by(PipelineEntry.updated_at.desc())
    ).all()
    out: dict[str, list] = {s.value: [] for s in ORDER}
    for entry, request in rows:
        out[entry.state].append((entry, request))
    return out


def investors_on(session: Session, request: FinancingRequest) -> list[tuple[PipelineEntry, str]]:
    """The owner's view: which investors follow the request, and how far."""
    rows = session.exec(
        select(PipelineEntry, Organization.name)
        .join(Organization, Organization.id == PipelineEntry.investor_org_id)
        .where(PipelineEntry.request_id == request.id)
        .order_by(PipelineEntry.updated_at.desc())
    ).all()
    return list(rows)
