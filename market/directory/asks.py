"""请经纪人: a listing's owner asks an agency or one of its brokers to take the listing on.

A request waits in the brokers' queue (every broker of the agency, or the one asked) with the sender's
note; a broker accepts it or declines with a reason, and the sender may withdraw it while it waits.
Accepting is atomic: of two brokers of the agency accepting at once, exactly one takes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, or_, select, update

from market import links
from market.accounts.models import Organization, User
from market.db import utcnow
from market.directory.models import BrokerRequest
from market.directory.permissions import OWNER_ROLE, PENDING, can_ask
from market.errors import ConflictError, DomainError, NotAllowed
from market.listings.models import KINDS, Listing
from market.notifications.service import notify
from vocab.taxonomy import ListingStatus, OrgKind, Role

ACCEPTED, DECLINED, WITHDRAWN = "已接受", "已婉拒", "已撤回"
#: action -> (allowed from, to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": ((PENDING,), ACCEPTED),
    "decline": ((PENDING,), DECLINED),
    "withdraw": ((PENDING,), WITHDRAWN),
}
DECLINE_REASONS: tuple[str, ...] = ("领域不熟悉", "工作量已满", "信息不足", "已有其他经纪人跟进", "其他")


@dataclass
class RequestRow:
    request: BrokerRequest
    listing: Listing | None
    sender: User
    sender_org: Organization
    agency: Organization
    broker: User | None


def own_listings(session: Session, user) -> list[Listing]:
    """Published listings of the user's organisation that the user may ask a broker about."""
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return []
    out: list[Listing] = []
    for kind, role in OWNER_ROLE.items():
        if user.role != role:
            continue
        model = KINDS[kind]
        out += session.exec(
            select(model)
            .where(model.organization_id == user.organization_id, model.status == ListingStatus.PUBLISHED)
            .order_by(model.published_at.desc())
        ).all()
    return out


def _brokers_asked(session: Session, req: BrokerRequest) -> list[int]:
    if req.broker_id:
        return [req.broker_id]
    return list(
        session.exec(
            select(User.id).where(
                User.organization_id == req.agency_id, User.role == Role.AGENT, User.active.is_(True)
            )
        ).all()
    )


def ask(
    session: Session,
    *,
    actor: User,
    agency: Organization,
    broker: User | None,
    listing_ref: str,
    note: str,
) -> BrokerRequest:
    """Ask `agency` (or `broker`, one of its brokers) to take the listing `listing_ref` ("result:12")."""
    if not can_ask(actor):
        raise NotAllowed((None, "只有成果方或需求方可以请经纪人承接自己的发布"))
    errors: list[tuple[str, str]] = []
    kind, _, raw_id = (listing_ref or "").partition(":")
    listing = None
    if kind in KINDS and raw_id.isdigit() and int(raw_id) < 2**31:
        listing = session.get(KINDS[kind], int(raw_id))
    if listing is None or listing.organization_id != actor.organization_id or OWNER_ROLE[kind] != actor.role:
        errors.append(("listing", "请选择本机构的一项发布"))
    elif listing.status != ListingStatus.PUBLISHED:
        errors.append(("listing", "只有已发布的成果或需求可以请经纪人承接"))
    note = (note or "").strip()
    if not note:
        errors.append(("note", "请写几句说明，告诉经纪人您希望得到什么帮助"))
    elif len(note) > 1000:
        errors.append(("note", "说明不能超过 1000 字"))
    if agency.kind != OrgKind.AGENCY or not agency.verified:
        errors.append((None, "只能请已认证的技术转移机构承接"))
    if broker is not None and (
        broker.role != Role.AGENT or broker.organization_id != agency.id or not broker.active
    ):
        errors.append((None, "该经纪人不属于这家机构"))
    if errors:
        raise DomainError(*errors)
    waiting = session.exec(
        select(BrokerRequest.id).where(
            BrokerRequest.kind == kind,
            BrokerRequest.listing_id == listing.id,
            BrokerRequest.agency_id == agency.id,
            BrokerRequest.status == PENDING,
        )
    ).first()
    if waiting is not None:
        raise DomainError(("listing", "已向这家机构提出过该发布的请求，正在等待答复"))
    req = BrokerRequest(
        kind=kind,
        listing_id=listing.id,
        sender_id=actor.id,
        sender_org_id=actor.organization_id,
        agency_id=agency.id,
        broker_id=broker.id if broker else None,
        note=note,
    )
    session.add(req)
    session.flush()
    sender_org = session.get(Organization, actor.organization_id)
    notify(
        session,
        user_ids=_brokers_asked(session, req),
        message=f"{sender_org.name} 的 {actor.display_name} 请您承接“{listing.title}”：{note[:80]}",
        link=links.broker_requests(),
    )
    return req


def _require_answerer(session: Session, actor: User, req: BrokerRequest) -> None:
    if req.status != PENDING:
        raise ConflictError((None, f"该请求已处理（当前状态：{req.status}）"))
    if not _may_answer(session, actor, req):
        raise NotAllowed((None, "只有被邀请的经纪人可以答复该请求"))


def _may_answer(session: Session, actor: User, req: BrokerRequest) -> bool:
    if actor.role != Role.AGENT or actor.organization_id != req.agency_id:
        return False
    org = session.get(Organization, req.agency_id)
    return bool(org and org.verified) and (req.broker_id is None or req.broker_id == actor.id)


def _move(session: Session, *, req: BrokerRequest, actor: User, action: str, **values) -> BrokerRequest:
    allowed, to = TRANSITIONS[action]
    won = session.exec(
        update(BrokerRequest)
        .where(BrokerRequest.id == req.id, BrokerRequest.status.in_(allowed))
        .values(status=to, responder_id=actor.id, responded_at=utcnow(), **values)
    ).rowcount
    session.refresh(req)
    if won != 1:
        raise ConflictError((None, f"该请求已处理（当前状态：{req.status}）"))
    return req


def accept(session: Session, *, actor: User, req: BrokerRequest, note: str | None = None) -> BrokerRequest:
    """A broker takes the listing on; the sender is told who."""
    _require_answerer(session, actor, req)
    note = (note or "").strip()[:1000] or None
    _move(session, req=req, actor=actor, action="accept", response_note=note, broker_id=actor.id)
    notify(
        session,
        user_ids=[req.sender_id],
        message=f"技术经纪人 {actor.display_name} 已接受您的请求，将跟进您的发布"
        + (f"：{note}" if note else ""),
        link=links.broker(actor.id),
    )
    return req


def decline(
    session: Session, *, actor: User, req: BrokerRequest, reason: str, note: str | None = None
) -> BrokerRequest:
    """A broker declines, with one of DECLINE_REASONS (and a note for 其他)."""
    _require_answerer(session, actor, req)
    note = (note or "").strip()[:1000] or None
    if reason not in DECLINE_REASONS:
        raise DomainError(("reason", "请选择婉拒的原因"))
    if reason == "其他" and not note:
        raise DomainError(("note", "选择“其他”时请写明原因"))
    _move(session, req=req, actor=actor, action="decline", decline_reason=reason, response_note=note)
    notify(
        session,
        user_ids=[req.sender_id],
        message=f"技术经纪人 {actor.display_name} 婉拒了您的请求（{reason}）" + (f"：{note}" if note else ""),
        link=links.broker_requests(),
    )
    return req


def withdraw(session: Session, *, actor: User, req: BrokerRequest) -> BrokerRequest:
    """The sender takes a waiting request back."""
    if actor.id != req.sender_id:
        raise NotAllowed((None, "只有提出请求的人可以撤回"))
    return _move(session, req=req, actor=actor, action="withdraw")


def _rows(session: Session, stmt) -> list[RequestRow]:
    out = []
    for req in session.exec(stmt.order_by(BrokerRequest.created_at.desc(), BrokerRequest.id.desc())).all():
        out.append(
            RequestRow(
                request=req,
                listing=session.get(KINDS[req.kind], req.listing_id),
                sender=session.get(User, req.sender_id),
                sender_org=session.get(Organization, req.sender_org_id),
                agency=session.get(Organization, req.agency_id),
                broker=session.get(User, req.broker_id) if req.broker_id else None,
            )
        )
    return out


def received(session: Session, user, *, pending_only: bool = False) -> list[RequestRow]:
    """Requests a broker may answer (pending) or answered, newest first."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.AGENT:
        return []
    stmt = select(BrokerRequest).where(
        BrokerRequest.agency_id == user.organization_id,
        or_(BrokerRequest.broker_id.is_(None), BrokerRequest.broker_id == user.id),
    )
    if pending_only:
        stmt = stmt.where(BrokerRequest.status == PENDING)
    return _rows(session, stmt.limit(200))


def sent(session: Session, user) -> list[RequestRow]:
    """Requests from the user's organisation, newest first."""
    if not getattr(user, "is_authenticated", False) or user.organization_id is None:
        return []
    return _rows(
        session, select(BrokerRequest).where(BrokerRequest.sender_org_id == user.organization_id).limit(200)
    )


def queue_section(session: Session, user) -> list[RequestRow]:
    """The queue's 委托请求 section: the broker's waiting requests."""
    return received(session, user, pending_only=True)
