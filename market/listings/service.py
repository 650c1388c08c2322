"""Listing rules: create, edit with a version check, the review lifecycle, contact reveals, interest.

Every change records a ListingEvent and an outbox row in the same transaction, so search and matching
follow the database without the request waiting on them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import ConflictError, DomainError, NotAllowed
from market.freshness import rules as freshness
from market.listings import permissions as perm
from market.listings.lifecycle import TRANSITIONS
from market.listings.models import KINDS, Interest, Listing, ListingEvent
from market.listings.schemas import NeedIn, ResultIn, validate_listing
from market.outbox.relay import Change
from market.outbox.service import enqueue_listing
from market.signals import interest_expressed
from vocab.taxonomy import SUBFIELDS, Role
from vocab.taxonomy import ListingStatus as S

STALE_MESSAGE = (
    "您打开编辑页之后，这条内容已有新的保存（当前版本 {current}，您编辑的是版本 {yours}；可能是您在其他"
    "窗口的保存，或同事的修改）。您这次的修改没有保存，请刷新查看最新内容后重新编辑。"
)


def record_event(
    session: Session,
    *,
    listing: Listing,
    actor: User | None,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
) -> ListingEvent:
    """Append a step to the listing's history."""
    event = ListingEvent(
        kind=listing.kind,
        listing_id=listing.id,
        actor_id=actor.id if actor else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    session.add(event)
    return event


def _apply(listing: Listing, data: ResultIn | NeedIn, *, field_inferred: bool = False) -> None:
    for name, value in data.model_dump().items():
        setattr(listing, name, value)
    listing.field_inferred = field_inferred and bool(listing.field)
    if not listing.field_inferred:
        listing.field_confidence = None  # a person gave the field
    listing.updated_at = utcnow()


def create_listing(
    session: Session,
    *,
    actor: User | None,
    kind: str,
    data: dict[str, Any] | ResultIn | NeedIn,
    organization: Organization | None = None,
    field_inferred: bool = False,
) -> Listing:
    """Create a draft listing owned by the actor's organisation (or `organization`, for imports)."""
    if actor is not None and organization is None and not perm.can_create(actor, kind):
        raise NotAllowed((None, "只有成果方可以发布科技成果，只有需求方可以发布技术需求"))
    checked = data if isinstance(data, ResultIn | NeedIn) else validate_listing(kind, data)
    org_id = organization.id if organization is not None else actor.organization_id
    listing = KINDS[kind](
        organization_id=org_id,
        created_by_id=actor.id if actor else None,
        **checked.model_dump(),
    )
    listing.field_inferred = field_inferred and bool(listing.field)
    session.add(listing)
    session.flush()
    record_event(session, listing=listing, actor=actor, action="create", to_status=listing.status)
    return listing


def update_listing(
    session: Session,
    *,
    actor: User | None,
    listing: Listing,
    data: dict[str, Any] | ResultIn | NeedIn,
    expected_version: int | None,
    field_inferred: bool = False,
    check_permission: bool = True,
) -> Listing:
    """Save an edit made on `expected_version`; refuses (and changes nothing) when someone saved since."""
    if check_permission and not perm.can_edit(actor, listing):
        raise NotAllowed((None, "当前状态下不能编辑（待审核或已成交的内容不能修改）"))
    if expected_version is not None and expected_version != listing.version:
        raise ConflictError(
            ("version", STALE_MESSAGE.format(current=listing.version, yours=expected_version))
        )
    checked = data if isinstance(data, ResultIn | NeedIn) else validate_listing(listing.kind, data)
    _apply(listing, checked, field_inferred=field_inferred)
    session.add(listing)
    try:
        session.flush()  # the version column makes a save that raced past the check fail here
    except StaleDataError:
        raise ConflictError(
            ("version", STALE_MESSAGE.format(current="更新的版本", yours=expected_version))
        ) from None
    record_event(session, listing=listing, actor=actor, action="edit", from_status=listing.status)
    if listing.status == S.PUBLISHED:
        enqueue_listing(session, kind=listing.kind, listing_id=listing.id)
    return listing


def confirm_field(session: Session, *, actor: User, listing: Listing, field: str) -> Listing:
    """The reviewer confirms a field the system inferred (系统推断), or replaces it (one click)."""
    if actor.role != Role.ADMIN:
        raise NotAllowed((None, "只有平台运营可以确认技术领域"))
    if field not in SUBFIELDS:
        raise DomainError(("field", f"技术领域“{field}”不在分类中"))
    before = listing.field
    listing.field = field
    listing.field_inferred = False
    listing.field_confidence = None
    listing.updated_at = utcnow()
    session.add(listing)
    session.flush()
    note = f"确认技术领域“{field}”" if before == field else f"技术领域由“{before or '未填'}”改为“{field}”"
    record_event(
        session, listing=listing, actor=actor, action="field", from_status=listing.status, reason=note
    )
    if listing.status == S.PUBLISHED and before != field:
        enqueue_listing(session, kind=listing.kind, listing_id=listing.id)
    return listing


def _move(
    session: Session, *, listing: Listing, actor: User | None, action: str, reason: str | None = None
) -> Listing:
    """Move `listing` by `action` of the lifecycle table; any other starting state is refused."""
    allowed, to = TRANSITIONS[action]
    if listing.status not in allowed:
        raise DomainError((None, f"当前状态“{listing.status}”不能执行该操作"))
    before = listing.status
    listing.status = to
    listing.updated_at = utcnow()
    if to == S.PUBLISHED and listing.published_at is None:
        listing.published_at = utcnow()
    if to == S.PUBLISHED:
        freshness.start_validity(listing)  # a (re-)publication starts a new validity period
    if action == "reject":
        listing.review_note = reason
    elif to == S.PUBLISHED:
        listing.review_note = None
    session.add(listing)
    session.flush()
    record_event(
        session, listing=listing, actor=actor, action=action, from_status=before, to_status=to, reason=reason
    )
    if S.PUBLISHED in (before, to):
        enqueue_listing(session, kind=listing.kind, listing_id=listing.id)
    return listing


def _org(session: Session, listing: Listing) -> Organization:
    return session.get(Organization, listing.organization_id)


def submit(session: Session, *, actor: User, listing: Listing) -> Listing:
    """草稿/已下架 → 待审核. The organisation must be verified."""
    if not perm.can_submit(actor, listing):
        raise NotAllowed((None, "只有所属机构成员可以提交草稿或已下架的内容"))
    if not _org(session, listing).verified:
        raise DomainError((None, "所属机构尚未通过平台认证，认证后才能提交发布。请联系平台运营。"))
    if listing.kind == "need" and not listing.no_secret_confirmed:
        raise DomainError(("no_secret_confirmed", "请先确认需求内容不含商业秘密"))
    return _move(session, listing=listing, actor=actor, action="submit")


def approve(session: Session, *, actor: User, listing: Listing) -> Listing:
    """待审核 → 已发布 (admin)."""
    if not perm.can_review(actor, listing):
        raise NotAllowed((None, "只有平台运营可以审核待审核的内容"))
    return _move(session, listing=listing, actor=actor, action="approve")


def reject(session: Session, *, actor: User, listing: Listing, reason: str) -> Listing:
    """待审核 → 草稿 with the admin's reason, so the owner knows what to fix."""
    if not perm.can_review(actor, listing):
        raise NotAllowed((None, "只有平台运营可以审核待审核的内容"))
    reason = " ".join((reason or "").split())
    if len(reason) < 4:
        raise DomainError(("reason", "退回时请写明原因（至少 4 个字），方便发布方修改"))
    return _move(session, listing=listing, actor=actor, action="reject", reason=reason[:500])


def withdraw(session: Session, *, actor: User, listing: Listing, reason: str | None = None) -> Listing:
    """已发布 → 已下架 (owner or admin)."""
    if not perm.can_withdraw(actor, listing):
        raise NotAllowed((None, "只有已发布的内容可以下架"))
    return _move(session, listing=listing, actor=actor, action="withdraw", reason=reason)


def close(session: Session, *, actor: User | None, listing: Listing, reason: str | None = None) -> Listing:
    """已发布 → 已成交 (owner or admin, or a signed contract)."""
    if actor is not None and not perm.can_close(actor, listing):
        raise NotAllowed((None, "只有已发布的内容可以标记为已成交"))
    return _move(session, listing=listing, actor=actor, action="close", reason=reason)


def publish_directly(session: Session, *, actor: User | None, listing: Listing, reason: str) -> Listing:
    """Publish without the review queue (administrators' bulk import)."""
    if listing.status == S.PUBLISHED:
        return listing
    return _move(session, listing=listing, actor=actor, action="publish", reason=reason)


def history(session: Session, listing: Listing) -> list[tuple[ListingEvent, User | None]]:
    """The listing's events, oldest first, with their actors."""
    stmt = (
        select(ListingEvent, User)
        .join(User, User.id == ListingEvent.actor_id, isouter=True)
        .where(ListingEvent.kind == listing.kind, ListingEvent.listing_id == listing.id)
        .order_by(ListingEvent.created_at, ListingEvent.id)
    )
    return list(session.exec(stmt).all())


def express_interest(
    session: Session, *, user: User, listing: Listing, message: str | None = None
) -> Interest:
    """Record interest in a listing (once per user); agents see it and can turn it into a match."""
    if not perm.can_express_interest(user, listing):
        raise NotAllowed((None, "企业用户可对科技成果表达意向，成果方可对技术需求表达意向"))
    existing = session.exec(
        select(Interest).where(
            Interest.kind == listing.kind, Interest.listing_id == listing.id, Interest.user_id == user.id
        )
    ).first()
    if existing is not None:
        return existing
    interest = Interest(
        kind=listing.kind,
        listing_id=listing.id,
        user_id=user.id,
        message=(message or "").strip()[:500] or None,
    )
    session.add(interest)
    session.flush()
    interest_expressed.send(session, interest=interest, listing=listing, user=user)
    return interest


def load_changes(session: Session, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Change]:
    """The outbox loader: each changed listing with its organisation, as it is now."""
    out: dict[tuple[str, int], Change] = {}
    for kind, model in KINDS.items():
        ids = [listing_id for k, listing_id in keys if k == kind]
        if not ids:
            continue
        rows = session.exec(
            select(model, Organization)
            .join(Organization, Organization.id == model.organization_id)
            .where(model.id.in_(ids))
        ).all()
        for listing, org in rows:
            out[(kind, listing.id)] = Change(kind, listing.id, listing, org, listing.status == S.PUBLISHED)
    return out
