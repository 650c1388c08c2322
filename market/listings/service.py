"""Listing rules: create, edit with a version check, the review lifecycle, contact reveals, interest.

Every change records a ListingEvent and an outbox row in the same transaction, so search and matching
follow the database without the request waiting on them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from market import links
from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import ConflictError, DomainError, NotAllowed
from market.freshness import rules as freshness
from market.listings import permissions as perm
from market.listings.labels import heading
from market.listings.lifecycle import TRANSITIONS
from market.listings.models import KINDS, Interest, Listing, ListingEvent, ListingRevision
from market.listings.schemas import SCHEMAS, NeedIn, ResultIn, validate_listing
from market.notifications.service import members_of, notify
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
    if check_permission and listing.status == S.PUBLISHED:
        changes = material_changes(listing, checked)
        # While a revision waits, every edit joins it: approving it must not undo a later edit.
        if changes or pending_revision(session, listing) is not None:
            # The row's version moves on (nothing else of it changes), so an editor who opened the
            # form before this save is refused instead of silently replacing this revision.
            listing.updated_at = utcnow()
            session.add(listing)
            try:
                session.flush()
            except StaleDataError:
                raise ConflictError(
                    ("version", STALE_MESSAGE.format(current="更新的版本", yours=expected_version))
                ) from None
            propose_revision(session, actor=actor, listing=listing, data=checked, changes=changes)
            return listing
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


#: the fields whose change sends a published listing back to review (title, text, price, mode, field)
MATERIAL: dict[str, tuple[str, ...]] = {
    "result": (
        "title", "field", "summary", "problem", "advantage", "transfer_modes",
        "price_negotiable", "price_wan",
    ),
    "need": (
        "title", "field", "description", "requirements", "target_metrics", "cooperation_modes",
        "budget_min_wan", "budget_max_wan", "reward_wan",
    ),
}  # fmt: skip
REVISION_PENDING, REVISION_APPROVED, REVISION_RETURNED = "待审核", "已通过", "已退回"
REVISION_RETRACTED, REVISION_SUPERSEDED = "已撤回", "已取代"


def _shown(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return (a or None) == (b or None)  # "", [] and None are all "not given"


def material_changes(listing: Listing, data: ResultIn | NeedIn) -> list[list[str]]:
    """[[field, label, before, after], …] for the material fields `data` changes."""
    out = []
    for name in MATERIAL[listing.kind]:
        before, after = getattr(listing, name), getattr(data, name)
        if not _same(before, after):
            out.append([name, heading(name), _shown(before), _shown(after)])
    return out


def pending_revision(session: Session, listing: Listing) -> ListingRevision | None:
    return session.exec(
        select(ListingRevision).where(
            ListingRevision.kind == listing.kind,
            ListingRevision.listing_id == listing.id,
            ListingRevision.status == REVISION_PENDING,
        )
    ).first()


def revisions(session: Session, listing: Listing) -> list[ListingRevision]:
    """The listing's revisions, newest first (the history shows their changes)."""
    return list(
        session.exec(
            select(ListingRevision)
            .where(ListingRevision.kind == listing.kind, ListingRevision.listing_id == listing.id)
            .order_by(ListingRevision.created_at.desc(), ListingRevision.id.desc())
        ).all()
    )


def revision_content(revision: ListingRevision) -> ResultIn | NeedIn:
    return SCHEMAS[revision.kind].model_validate(revision.data)


def propose_revision(
    session: Session, *, actor: User | None, listing: Listing, data: ResultIn | NeedIn, changes: list
) -> ListingRevision:
    """Keep a material edit of a published listing for review; the published version stays as it is."""
    earlier = pending_revision(session, listing)
    if earlier is not None:
        earlier.status = REVISION_SUPERSEDED
        session.add(earlier)
    revision = ListingRevision(
        kind=listing.kind,
        listing_id=listing.id,
        data=data.model_dump(mode="json"),
        changes=changes,
        base_version=listing.version,
        submitted_by_id=actor.id if actor else None,
    )
    session.add(revision)
    session.flush()
    labels = "、".join(c[1] for c in changes) or "其他内容"
    record_event(
        session,
        listing=listing,
        actor=actor,
        action="revise",
        from_status=listing.status,
        reason=f"修改待审核：{labels}（审核通过前公开页面仍显示原内容）",
    )
    return revision


def _pending_of(session: Session, revision_id: int) -> tuple[ListingRevision, Listing]:
    revision = session.get(ListingRevision, revision_id)
    if revision is None:
        raise DomainError((None, "找不到该修改"))
    listing = session.get(KINDS[revision.kind], revision.listing_id)
    if revision.status != REVISION_PENDING:
        raise DomainError((None, f"该修改已处理（{revision.status}）"))
    return revision, listing


def approve_revision(session: Session, *, actor: User, revision_id: int) -> Listing:
    """The reviewer accepts a revision: the listing takes its content (search and matching follow)."""
    if actor.role != Role.ADMIN:
        raise NotAllowed((None, "只有平台运营可以审核修改"))
    revision, listing = _pending_of(session, revision_id)
    _apply(listing, revision_content(revision))
    session.add(listing)
    revision.status = REVISION_APPROVED
    revision.decided_by_id, revision.decided_at = actor.id, utcnow()
    session.add(revision)
    session.flush()
    labels = "、".join(c[1] for c in revision.changes) or "其他内容"
    record_event(
        session,
        listing=listing,
        actor=actor,
        action="revision_approve",
        from_status=listing.status,
        to_status=listing.status,
        reason=f"修改通过：{labels}",
    )
    if listing.status == S.PUBLISHED:
        enqueue_listing(session, kind=listing.kind, listing_id=listing.id)
    tell_owners(session, listing, f"您对{listing.label}“{listing.title}”的修改已审核通过，公开页面已更新。")
    return listing


def reject_revision(session: Session, *, actor: User, revision_id: int, reason: str) -> Listing:
    """The reviewer returns a revision with a reason; the published version stays."""
    if actor.role != Role.ADMIN:
        raise NotAllowed((None, "只有平台运营可以审核修改"))
    reason = _reason(reason)
    revision, listing = _pending_of(session, revision_id)
    revision.status = REVISION_RETURNED
    revision.decided_by_id, revision.decided_at, revision.reason = actor.id, utcnow(), reason
    session.add(revision)
    record_event(
        session,
        listing=listing,
        actor=actor,
        action="revision_reject",
        from_status=listing.status,
        reason=reason,
    )
    tell_owners(
        session,
        listing,
        f"您对{listing.label}“{listing.title}”的修改被退回，公开页面仍为原内容。审核意见：{reason}",
    )
    return listing


def retract_revision(session: Session, *, actor: User, listing: Listing) -> ListingRevision:
    """The owner takes a pending revision back."""
    revision = pending_revision(session, listing)
    if not perm.is_owner(actor, listing) or revision is None:
        raise NotAllowed((None, "没有可撤回的待审核修改"))
    revision.status = REVISION_RETRACTED
    session.add(revision)
    record_event(session, listing=listing, actor=actor, action="revision_retract", from_status=listing.status)
    return revision


def pending_revisions(session: Session) -> list[tuple[ListingRevision, Listing, Organization]]:
    """Revisions waiting for review, oldest first, with their listing and organisation."""
    out = []
    rows = session.exec(
        select(ListingRevision)
        .where(ListingRevision.status == REVISION_PENDING)
        .order_by(ListingRevision.created_at, ListingRevision.id)
    ).all()
    for revision in rows:
        listing = session.get(KINDS[revision.kind], revision.listing_id)
        if listing is not None:
            out.append((revision, listing, session.get(Organization, listing.organization_id)))
    return out


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
    """草稿/已退回/已下架 → 待审核. The organisation must be verified."""
    if not perm.can_submit(actor, listing):
        raise NotAllowed((None, "只有所属机构成员可以提交草稿或已下架的内容"))
    if not _org(session, listing).verified:
        raise DomainError(
            (
                None,
                "所属机构尚未通过平台认证，认证后才能提交发布。请在“机构认证”页面提交统一社会信用代码和证件。",
            )
        )
    if listing.kind == "need" and not listing.no_secret_confirmed:
        raise DomainError(("no_secret_confirmed", "请先确认需求内容不含商业秘密"))
    return _move(session, listing=listing, actor=actor, action="submit")


def tell_owners(session: Session, listing: Listing, message: str) -> None:
    """The owning organisation's members hear about a review decision (in-site, and by mail when
    MAIL_URL is set)."""
    notify(
        session,
        user_ids=members_of(session, listing.organization_id),
        message=message,
        link=links.listing(listing.kind, listing.id),
    )


def approve(session: Session, *, actor: User, listing: Listing) -> Listing:
    """待审核 → 已发布 (admin); the owners are told."""
    if not perm.can_review(actor, listing):
        raise NotAllowed((None, "只有平台运营可以审核待审核的内容"))
    _move(session, listing=listing, actor=actor, action="approve")
    tell_owners(session, listing, f"您的{listing.label}“{listing.title}”已审核通过，现已公开发布。")
    return listing


def _reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < 4:
        raise DomainError(("reason", "退回时请写明原因（至少 4 个字），方便发布方修改"))
    return reason[:500]


def reject(session: Session, *, actor: User, listing: Listing, reason: str) -> Listing:
    """待审核 → 已退回 with the admin's reason, so the owner knows what to fix; the owners are told."""
    if not perm.can_review(actor, listing):
        raise NotAllowed((None, "只有平台运营可以审核待审核的内容"))
    reason = _reason(reason)
    _move(session, listing=listing, actor=actor, action="reject", reason=reason)
    tell_owners(session, listing, f"您的{listing.label}“{listing.title}”被退回修改。审核意见：{reason}")
    return listing


def retract(session: Session, *, actor: User, listing: Listing) -> Listing:
    """待审核 → 草稿: the owner takes the submission back before the reviewer decides."""
    if not perm.can_retract(actor, listing):
        raise NotAllowed((None, "只有所属机构成员可以撤回待审核的内容"))
    return _move(session, listing=listing, actor=actor, action="retract")


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
