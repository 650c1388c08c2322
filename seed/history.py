"""A year of demo history (演示历史): listings edited over time, a few lapsed (待更新), and agents working
graded pairs from seed/data/pairs.jsonl through the real services — claims, feedback from the two
sides, introductions, negotiations, declines with reasons, contracts signed and registered — with
the clock set back afterwards so that every chart of the statistics page, the home page's 交易概况
and the agents' boards show twelve months of shape.

Deterministic (one seeded random generator, pairs in file order) and idempotent: skipped once the
marker note exists. Past dates only: nothing is dated after today.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import Flask
from sqlmodel import Session, select, update

from market.accounts.models import Organization, User
from market.db import utcnow
from market.deals.service import record_contract
from market.errors import DomainError
from market.freshness import rules as freshness
from market.listings.models import KINDS, ListingEvent
from market.main.context import demo_mark
from market.matches import service as matches
from market.matches.models import Match, MatchEvent
from market.notifications.models import Notification
from market.trade import registration
from seed.loader import read_jsonl
from seed.trade import demo_uscc
from vocab.taxonomy import ContractType, DeclineReason, ListingStatus, Role, values

#: the note on every worked demo match; its presence means the history is loaded
MARK = "演示历史：首次电话沟通，双方同意进一步交流"
DAYS = 360
#: share of listings edited after publication, and of listings left to lapse (待更新)
EDITED, LAPSED = 0.3, 0.04
#: how the agents share the work (the first has the best record)
AGENT_WEIGHTS = (5, 3, 2, 1)
#: share of the graded pairs (0 poor … 3 excellent) an agent worked, and of the excellent ones signed
WORKED = {0: 0.2, 1: 0.4, 2: 0.5, 3: 0.7}
SIGNED = 0.6
CONTRACT_TYPES = tuple(values(ContractType))
DECLINES = tuple(values(DeclineReason))


@dataclass
class HistoryReport:
    matches: int = 0
    contracts: int = 0
    registered: int = 0
    edited: int = 0
    lapsed: int = 0
    skipped: bool = False


def _at(day: date, rng: random.Random) -> datetime:
    """A working-hours instant of `day` (Tianjin time), as UTC."""
    return datetime.combine(day, time(9 + rng.randint(0, 8), rng.randint(0, 59)), UTC) - timedelta(hours=8)


def _members(session: Session) -> dict[int, User]:
    """One active owner per organisation (university or enterprise role), for feedback."""
    out: dict[int, User] = {}
    for user in session.exec(
        select(User)
        .where(
            User.role.in_([Role.UNIVERSITY, Role.ENTERPRISE]), User.active, User.organization_id.is_not(None)
        )
        .order_by(User.id)
    ):
        out.setdefault(user.organization_id, user)
    return out


def _listings_over_time(session: Session, rng: random.Random, today: date, report: HistoryReport) -> None:
    """History rows dated like the listings (created, published), edits after publication, and a few
    listings past their valid-until day, as a platform a year old has."""
    for kind, model in KINDS.items():
        rows = session.exec(
            select(model).where(model.status == ListingStatus.PUBLISHED).order_by(model.id)
        ).all()
        by_id = {listing.id: listing for listing in rows}
        for event in session.exec(
            select(ListingEvent).where(
                ListingEvent.kind == kind, ListingEvent.action.in_(["create", "publish"])
            )
        ):
            listing = by_id.get(event.listing_id)
            if listing is not None and listing.published_at is not None:
                event.created_at = listing.created_at if event.action == "create" else listing.published_at
                session.add(event)
        for listing in rows:
            if listing.published_at is None:
                continue
            roll = rng.random()
            if roll < LAPSED:
                # published thirteen to fourteen months ago and never re-confirmed
                listing.published_at = _at(today - timedelta(days=rng.randint(375, 425)), rng)
                listing.created_at = listing.published_at - timedelta(days=rng.randint(1, 20))
                freshness.start_validity(listing, on=listing.published_at.date())
                listing.renewal_reminded_at = _at(listing.valid_until - timedelta(days=30), rng)
                listing.stale_stage = freshness.stage(listing.valid_until, on=today)
                report.lapsed += 1
            elif roll < LAPSED + EDITED:
                age = (today - listing.published_at.date()).days
                if age < 10:
                    continue
                edited = _at(listing.published_at.date() + timedelta(days=rng.randint(5, age - 1)), rng)
                listing.updated_at = edited
                session.add(
                    ListingEvent(
                        kind=kind,
                        listing_id=listing.id,
                        action="edit",
                        from_status=listing.status,
                        reason="更新联系人与量化指标",
                        created_at=edited,
                    )
                )
                report.edited += 1
            session.add(listing)
    session.flush()


def _backdate(session: Session, match: Match, since: int, times: list[datetime]) -> None:
    events = session.exec(
        select(MatchEvent)
        .where(MatchEvent.match_id == match.id, MatchEvent.id > since)
        .order_by(MatchEvent.id)
    ).all()
    for event, at in zip(events, times, strict=False):
        event.created_at = at
        session.add(event)


def _work(
    session: Session,
    rng: random.Random,
    *,
    agent: User,
    admin: User | None,
    match: Match,
    grade: int,
    owners: dict[int, User],
    today: date,
    report: HistoryReport,
) -> None:
    """One pair's story, through the services, then dated."""
    result, need = matches.pair(session, match)
    start = today - timedelta(days=rng.randint(14, DAYS))
    day = start
    times: list[datetime] = []

    def step(days_after: tuple[int, int]) -> datetime:
        nonlocal day
        day = min(today, day + timedelta(days=rng.randint(*days_after)))
        at = _at(day, rng)
        times.append(at)
        return at

    since = session.exec(select(MatchEvent.id).order_by(MatchEvent.id.desc())).first() or 0
    match.created_at = _at(start - timedelta(days=rng.randint(1, 10)), rng)
    matches.claim(session, actor=agent, match=match)
    step((0, 0))
    matches.add_note(session, actor=agent, match=match, note=MARK)
    step((1, 3))
    result_owner, need_owner = owners.get(result.organization_id), owners.get(need.organization_id)
    if grade <= 1:
        reason = DECLINES[0] if grade == 0 else rng.choice(DECLINES[1:])
        if need_owner is not None and grade == 1:
            matches.give_feedback(
                session, actor=need_owner, match=match, verdict="not_interested", reason=reason
            )
            step((1, 6))
        matches.decline(session, actor=agent, match=match, reason=reason)
        step((2, 20))
    else:
        for owner in (result_owner, need_owner):
            if owner is not None:
                matches.give_feedback(session, actor=owner, match=match, verdict="interested")
                step((1, 5))
        introduced = step((2, 12))
        matches.introduce(session, actor=agent, match=match)
        match.introduced_at = introduced
        if grade == 3 or rng.random() < 0.5:
            matches.negotiate(session, actor=agent, match=match)
            step((5, 25))
        signed_on = day + timedelta(days=rng.randint(10, 45))
        if grade == 3 and signed_on < today and rng.random() < SIGNED:
            amount = round(rng.choice((30, 50, 80, 120, 200, 300, 500, 800)) * rng.uniform(0.8, 1.3), 1)
            contract = record_contract(
                session,
                actor=agent,
                match=match,
                contract_type=rng.choice(CONTRACT_TYPES),
                amount_wan=amount,
                tech_amount_wan=round(amount * rng.uniform(0.7, 0.95), 1),
                signed_on=signed_on,
            )
            day = signed_on
            times.append(_at(signed_on, rng))
            contract.created_at = times[-1]
            report.contracts += 1
            registered_on = signed_on + timedelta(days=rng.randint(7, 40))
            if admin is not None and registered_on < today and rng.random() < 0.7:
                contract.seller_uscc = demo_uscc(contract.seller_org_id, public_institution=True)
                contract.buyer_uscc = demo_uscc(contract.buyer_org_id, public_institution=False)
                contract.seller_region_code = "120104"
                contract.buyer_region_code = "120116"
                registration.record_registration(
                    session,
                    actor=admin,
                    contract=contract,
                    registration_no=f"12010{contract.id:07d}",
                    registered_on=registered_on,
                )
                report.registered += 1
            session.add(contract)
    match.updated_at = times[-1]
    session.add(match)
    session.flush()
    _backdate(session, match, since, times)
    report.matches += 1


def mark_demo(app: Flask) -> None:
    """Leave the mark the footer reads (演示数据); a read-only instance folder just goes unmarked."""
    with contextlib.suppress(OSError):
        demo_mark(app).touch()


def load_history(session: Session, *, data_dir: Path, today: date | None = None) -> HistoryReport:
    """Load the year of history once (skipped when the marker note exists)."""
    report = HistoryReport()
    if session.exec(select(MatchEvent.id).where(MatchEvent.note == MARK).limit(1)).first() is not None:
        report.skipped = True
        return report
    today = today or date.today()
    rng = random.Random(19)
    last_note = session.exec(select(Notification.id).order_by(Notification.id.desc())).first() or 0
    _listings_over_time(session, rng, today, report)
    agents = [
        user
        for user in session.exec(select(User).where(User.role == Role.AGENT, User.active).order_by(User.id))
        if user.organization_id and session.get(Organization, user.organization_id).verified
    ]
    if not agents:
        return report
    weights = list(AGENT_WEIGHTS[: len(agents)]) + [1] * max(0, len(agents) - len(AGENT_WEIGHTS))
    admin = session.exec(select(User).where(User.role == Role.ADMIN).order_by(User.id)).first()
    owners = _members(session)
    ids = {}
    for kind, model in KINDS.items():
        ids[kind] = dict(
            session.exec(
                select(model.external_id, model.id).where(
                    model.status == ListingStatus.PUBLISHED, model.external_id.is_not(None)
                )
            ).all()
        )
    taken = set(session.exec(select(Match.result_id, Match.need_id)).all())
    for row in read_jsonl(data_dir / "pairs.jsonl"):
        result_id, need_id = ids["result"].get(row["result_id"]), ids["need"].get(row["need_id"])
        if result_id is None or need_id is None or (result_id, need_id) in taken:
            continue
        if rng.random() > WORKED.get(row["grade"], 0.5):
            continue  # not every recommendation is worked; most poor ones never are
        taken.add((result_id, need_id))
        agent = rng.choices(agents, weights=weights)[0]
        try:
            with session.begin_nested():
                match = Match(result_id=result_id, need_id=need_id, origin="agent", score=0.0, reasons={})
                session.add(match)
                session.flush()
                _work(
                    session,
                    rng,
                    agent=agent,
                    admin=admin,
                    match=match,
                    grade=row["grade"],
                    owners=owners,
                    today=today,
                    report=report,
                )
        except DomainError:
            continue  # e.g. a pair whose sides belong to one organisation
    # The history's notifications are old news: shown as read, not as a hundred unread messages.
    session.exec(update(Notification).where(Notification.id > last_note).values(read_at=utcnow()))
    session.flush()
    return report
