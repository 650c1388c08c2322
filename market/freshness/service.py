"""Freshness (有效期): reminding owners before a listing lapses, one-click re-confirmation, telling
search when a listing lapses or leaves it, and the operators' report of stale listings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask
from sqlmodel import Session, select

from market import links
from market.accounts.models import Organization, User
from market.db import new_session, utcnow
from market.errors import NotAllowed
from market.freshness import permissions as perm
from market.freshness import rules
from market.listings.models import KINDS, Listing
from market.listings.service import record_event
from market.notifications.service import members_of, notify
from market.outbox.service import enqueue_listing
from vocab.taxonomy import ListingStatus as S

#: listings looked at per job run and kind (the next run takes the rest)
BATCH = 200


def reconfirm(session: Session, *, actor: User, listing: Listing) -> Listing:
    """The owner confirms the listing is still current (一键确认仍有效): a new validity period."""
    if not perm.can_reconfirm(actor, listing):
        raise NotAllowed((None, "只有发布方可以确认已发布内容仍然有效"))
    before = listing.valid_until
    rules.start_validity(listing)
    listing.updated_at = utcnow()
    session.add(listing)
    session.flush()
    record_event(
        session,
        listing=listing,
        actor=actor,
        action="reconfirm",
        from_status=listing.status,
        reason=f"确认仍有效，有效期由 {before or '未设'} 延至 {listing.valid_until}",
    )
    enqueue_listing(session, kind=listing.kind, listing_id=listing.id)  # back to full rank in search
    return listing


def _owners(session: Session, listing: Listing) -> list[int]:
    if listing.created_by_id is not None:
        user = session.get(User, listing.created_by_id)
        if user is not None and user.active and user.organization_id == listing.organization_id:
            return [user.id]
    return members_of(session, listing.organization_id)


def remind(session: Session, listing: Listing, *, now=None) -> bool:
    """Tell the owner once per validity period that the listing lapses soon (in-site and mail)."""
    if (
        listing.status != S.PUBLISHED
        or listing.renewal_reminded_at is not None
        or listing.valid_until is None
    ):
        return False
    listing.renewal_reminded_at = now or utcnow()
    session.add(listing)
    session.flush()
    notify(
        session,
        user_ids=_owners(session, listing),
        message=f"您发布的{listing.label}“{listing.title}”有效期至 {listing.valid_until}，"
        "到期后将标记为“待更新”并降低检索排序。如内容仍然有效，请打开页面点击“确认仍有效”。",
        link=links.listing(listing.kind, listing.id),
    )
    return True


def _due_ids(session: Session, model, *, on: date) -> tuple[list[int], list[tuple[int, int]]]:
    """(ids to remind, (id, stage) whose freshness stage search has not been told of)."""
    soon = on + timedelta(days=rules.setting("FRESHNESS_REMIND_DAYS"))
    published = (model.status == S.PUBLISHED, model.valid_until.is_not(None))
    remind_ids = session.exec(
        select(model.id)
        .where(*published, model.valid_until <= soon, model.renewal_reminded_at.is_(None))
        .order_by(model.valid_until, model.id)
        .limit(BATCH)
    ).all()
    lapsed = session.exec(
        select(model.id, model.valid_until, model.stale_stage)
        .where(*published, model.valid_until < on, model.stale_stage < rules.GONE)
        .order_by(model.valid_until, model.id)
        .limit(BATCH)
    ).all()
    moved = [(i, rules.stage(v, on=on)) for i, v, old in lapsed if rules.stage(v, on=on) > old]
    return list(remind_ids), moved


def run_due(app: Flask, *, on: date | None = None) -> str | None:
    """The worker's job: remind owners of listings that lapse soon, and re-index the listings whose
    freshness stage changed (lapsed: ranked lower; past the grace period: out of search). Looks in a
    read transaction first; each listing is written in a short transaction of its own."""
    on = on or rules.today()
    with app.app_context():
        due = {}
        with new_session(write=False) as read:
            for kind, model in KINDS.items():
                due[kind] = _due_ids(read, model, on=on)
        reminded = moved = 0
        for kind, (remind_ids, stages) in due.items():
            model = KINDS[kind]
            for listing_id in remind_ids:
                with new_session(write=True) as session:
                    listing = session.get(model, listing_id)
                    if listing is not None and remind(session, listing):
                        reminded += 1
                    session.commit()
            for listing_id, new_stage in stages:
                with new_session(write=True) as session:
                    listing = session.get(model, listing_id)
                    if listing is not None and listing.stale_stage < new_stage:
                        listing.stale_stage = new_stage
                        session.add(listing)
                        enqueue_listing(session, kind=kind, listing_id=listing_id)
                        moved += 1
                    session.commit()
    if not (reminded or moved):
        return None
    return f"有效期：提醒 {reminded} 条，检索状态更新 {moved} 条"


@dataclass
class StaleRow:
    """One organisation's line in the stale-listings report (过期信息统计)."""

    organization: Organization
    lapsed: int = 0
    gone: int = 0
    due_soon: int = 0
    oldest: date | None = None

    @property
    def total(self) -> int:
        return self.lapsed + self.gone


def stale_report(session: Session, *, on: date | None = None) -> list[StaleRow]:
    """Published listings past their valid-until day, or lapsing within the reminder window, counted
    per organisation, the most stale first."""
    on = on or rules.today()
    soon = on + timedelta(days=rules.setting("FRESHNESS_REMIND_DAYS"))
    rows: dict[int, StaleRow] = {}
    for model in KINDS.values():
        found = session.exec(
            select(model.valid_until, Organization)
            .join(Organization, Organization.id == model.organization_id)
            .where(model.status == S.PUBLISHED, model.valid_until.is_not(None), model.valid_until <= soon)
        ).all()
        for valid_until, org in found:
            row = rows.setdefault(org.id, StaleRow(org))
            stage = rules.stage(valid_until, on=on)
            if stage == rules.CURRENT:
                row.due_soon += 1
                continue
            if stage == rules.GONE:
                row.gone += 1
            else:
                row.lapsed += 1
            row.oldest = min(filter(None, (row.oldest, valid_until)))
    return sorted(rows.values(), key=lambda r: (-r.total, -r.due_soon, r.organization.name))


def stale_listings(session: Session, organization_id: int, *, on: date | None = None) -> list[Listing]:
    """An organisation's published listings past their valid-until day, the oldest first."""
    on = on or rules.today()
    out: list[Listing] = []
    for model in KINDS.values():
        out.extend(
            session.exec(
                select(model).where(
                    model.organization_id == organization_id,
                    model.status == S.PUBLISHED,
                    model.valid_until < on,
                )
            ).all()
        )
    return sorted(out, key=lambda lst: (lst.valid_until, lst.kind, lst.id))
