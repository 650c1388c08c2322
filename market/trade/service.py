"""展示交易 rules with the database: 公示 and 异议, 挂牌 and 意向受让方, 竞价 and its bid log.

Services take keyword-only arguments, flush, and raise `DomainError` with (field, reason) pairs; the
request (or the worker's job) commits once. Time comes from the server's clock (`now` is a parameter
only so that tests can move it).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, func, select

from market import links
from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import DomainError, NotAllowed
from market.listings.models import ResearchResult
from market.notifications.service import members_of, notify
from market.trade import rules
from market.trade.models import (
    PRICE_KINDS,
    SALE_MODES,
    Auction,
    AuctionStatus,
    Bid,
    BuyerRegistration,
    BuyerStatus,
    ListingSaleStatus,
    Objection,
    ObjectionRuling,
    Publicity,
    PublicityStatus,
    SaleListing,
    TradeDeal,
    TradeEvent,
)
from vocab.taxonomy import ListingStatus, Role
from vocab.values import MAX_WAN, format_wan

LICENCE_MODES = ("普通许可", "排他许可", "独占许可")


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for aware columns; they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.ADMIN


def log(
    session: Session, subject: str, subject_id: int, action: str, *, actor=None, note=None, at=None
) -> None:
    """Append a step to the trail, at the server's time (`at`: the time the service decided with)."""
    session.add(
        TradeEvent(
            subject=subject,
            subject_id=subject_id,
            action=action,
            actor_id=getattr(actor, "id", None),
            note=(note or None) and str(note)[:2000],
            at=at or utcnow(),
        )
    )


def events(session: Session, subject: str, subject_id: int) -> list[TradeEvent]:
    return list(
        session.exec(
            select(TradeEvent)
            .where(TradeEvent.subject == subject, TradeEvent.subject_id == subject_id)
            .order_by(TradeEvent.id)
        ).all()
    )


def _money(value, field: str, label: str, *, allow_zero: bool = False) -> float:
    try:
        units = rules.to_units(value)
    except ValueError:
        raise DomainError((field, f"请填写{label}（万元，数字）")) from None
    if units < 0 or (units == 0 and not allow_zero) or units > 1_000_000_000:
        raise DomainError((field, f"{label}应大于 0 且不超过 {format_wan(MAX_WAN)}"))
    return rules.from_units(units)


def _text(value, field: str, label: str, *, min_len: int = 1, max_len: int = 500) -> str:
    text = (value or "").strip()
    if len(text) < min_len:
        raise DomainError((field, f"请填写{label}" + (f"（至少 {min_len} 个字）" if min_len > 1 else "")))
    if len(text) > max_len:
        raise DomainError((field, f"{label}不能超过 {max_len} 个字"))
    return text


def _collect(*checks) -> list:
    """Run field checks, gathering every (field, reason) instead of stopping at the first."""
    values, errors = [], []
    for check in checks:
        try:
            values.append(check())
        except DomainError as exc:
            values.append(None)
            errors.extend(exc.errors)
    if errors:
        raise DomainError(*errors)
    return values


def own_result(session: Session, *, actor: User, result_id) -> ResearchResult:
    """A published result of the actor's organisation (what a seller may publicise or list)."""
    try:
        key = int(result_id)
    except (TypeError, ValueError):
        key = 0
    result = session.get(ResearchResult, key) if 0 < key < 2**31 else None
    if result is None or result.organization_id != actor.organization_id:
        raise DomainError(("result_id", "请选择本机构的一项科技成果"))
    if result.status != ListingStatus.PUBLISHED:
        raise DomainError(("result_id", "只有已发布的科技成果可以公示或挂牌"))
    return result


def sellable_results(session: Session, user) -> list[ResearchResult]:
    if not getattr(user, "organization_id", None):
        return []
    return list(
        session.exec(
            select(ResearchResult)
            .where(
                ResearchResult.organization_id == user.organization_id,
                ResearchResult.status == ListingStatus.PUBLISHED,
            )
            .order_by(ResearchResult.id.desc())
            .limit(500)
        ).all()
    )


def can_sell(user) -> bool:
    """Members of a verified university / institute / R&D institution list and publicise results."""
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.UNIVERSITY


def _seller_check(session: Session, actor: User) -> Organization:
    org = session.get(Organization, actor.organization_id) if actor.organization_id else None
    if not can_sell(actor) or org is None:
        raise NotAllowed((None, "只有成果方机构成员可以发起公示或挂牌"))
    if not org.verified:
        raise NotAllowed((None, "机构通过认证后才能发起公示或挂牌"))
    return org


# -- 公示 (协议定价) -------------------------------------------------------------------------------


def create_publicity(
    session: Session,
    *,
    actor: User,
    result_id,
    price_wan,
    mode: str,
    buyer_name: str,
    team: str,
    note: str | None = None,
    days: int = 15,
    now: datetime | None = None,
) -> Publicity:
    """Post an agreed price for publicity (协议定价公示) for `days` days."""
    _seller_check(session, actor)
    now = now or utcnow()

    def buyer() -> Organization:
        name = _text(buyer_name, "buyer_name", "拟受让方", max_len=120)
        org = session.exec(select(Organization).where(Organization.name == name)).first()
        if org is None:
            raise DomainError(("buyer_name", "拟受让方须为已在平台注册的机构（请填写机构全称）"))
        if org.id == actor.organization_id:
            raise DomainError(("buyer_name", "拟受让方不能是本机构"))
        return org

    def mode_ok() -> str:
        if mode not in SALE_MODES:
            raise DomainError(("mode", "请选择转化方式（转让、普通/排他/独占许可、作价投资）"))
        return mode

    result, price, mode_v, buyer_org, team_v = _collect(
        lambda: own_result(session, actor=actor, result_id=result_id),
        lambda: _money(price_wan, "price_wan", "协议价格"),
        mode_ok,
        buyer,
        lambda: _text(team, "team", "成果完成团队", max_len=500),
    )
    if not 1 <= int(days) <= 90:
        raise DomainError(("days", "公示期应为 1 到 90 天"))
    pub = Publicity(
        result_id=result.id,
        seller_org_id=result.organization_id,
        buyer_org_id=buyer_org.id,
        created_by_id=actor.id,
        title=result.title,
        price_wan=price,
        mode=mode_v,
        team=team_v,
        note=(note or "").strip()[:1000] or None,
        starts_at=now,
        ends_at=now + timedelta(days=int(days)),
    )
    session.add(pub)
    session.flush()
    log(session, "publicity", pub.id, "公示开始", actor=actor, note=f"公示期 {days} 天", at=now)
    return pub


def objections_of(session: Session, publicity_id: int) -> list[tuple[Objection, ObjectionRuling | None]]:
    rows = session.exec(
        select(Objection, ObjectionRuling)
        .join(ObjectionRuling, ObjectionRuling.objection_id == Objection.id, isouter=True)
        .where(Objection.publicity_id == publicity_id)
        .order_by(Objection.id)
    ).all()
    return [(o, r) for o, r in rows]


def pending_objections(session: Session, publicity_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Objection)
        .join(ObjectionRuling, ObjectionRuling.objection_id == Objection.id, isouter=True)
        .where(Objection.publicity_id == publicity_id, ObjectionRuling.id.is_(None))
    ).one()


def file_objection(
    session: Session, *, actor: User, publicity: Publicity, reason: str, now: datetime | None = None
) -> Objection:
    """异议: anyone signed in, while the publicity window is open, with a reason."""
    if not getattr(actor, "is_authenticated", False):
        raise NotAllowed((None, "请先登录再提出异议"))
    now = now or utcnow()
    if publicity.status != PublicityStatus.RUNNING or now >= aware(publicity.ends_at):
        raise DomainError((None, "公示期已结束，不能再提出异议"))
    text = _text(reason, "reason", "异议理由", min_len=10, max_len=2000)
    objection = Objection(publicity_id=publicity.id, user_id=actor.id, reason=text, created_at=now)
    session.add(objection)
    session.flush()
    log(session, "publicity", publicity.id, "提出异议", actor=actor, note=f"异议 #{objection.id}", at=now)
    notify(
        session,
        user_ids=[
            *members_of(session, publicity.seller_org_id),
            *session.exec(select(User.id).where(User.role == Role.ADMIN, User.active)).all(),
        ],
        message=f"公示“{publicity.title}”收到异议，待平台运营裁定",
        link=links.publicity(publicity.id),
    )
    return objection


def rule_on_objection(
    session: Session, *, actor: User, objection: Objection, upheld: bool, reason: str
) -> ObjectionRuling:
    """An administrator upholds (the publicity ends 因异议终止) or dismisses an objection, in writing."""
    if not is_admin(actor):
        raise NotAllowed((None, "只有平台运营可以裁定异议"))
    text = _text(reason, "reason", "裁定理由", min_len=5, max_len=2000)
    publicity = session.exec(
        select(Publicity).where(Publicity.id == objection.publicity_id).with_for_update()
    ).one()
    if session.exec(select(ObjectionRuling.id).where(ObjectionRuling.objection_id == objection.id)).first():
        raise DomainError((None, "该异议已经裁定"))
    if publicity.status != PublicityStatus.RUNNING:
        raise DomainError((None, f"公示已结束（{publicity.status}），不能再裁定"))
    ruling = ObjectionRuling(objection_id=objection.id, admin_id=actor.id, upheld=upheld, reason=text)
    session.add(ruling)
    verdict = "异议成立" if upheld else "异议不成立（驳回）"
    log(session, "publicity", publicity.id, verdict, actor=actor, note=f"异议 #{objection.id}：{text}")
    if upheld:
        publicity.status = PublicityStatus.ENDED_BY_OBJECTION
        publicity.closed_at = utcnow()
        publicity.outcome = f"因异议终止：{text}"[:500]
        session.add(publicity)
        log(session, "publicity", publicity.id, PublicityStatus.ENDED_BY_OBJECTION, actor=actor)
    session.flush()
    notify(
        session,
        user_ids=[
            objection.user_id,
            *members_of(session, publicity.seller_org_id),
            *members_of(session, publicity.buyer_org_id),
        ],
        message=f"公示“{publicity.title}”的异议已裁定：{verdict}",
        link=links.publicity(publicity.id),
    )
    return ruling


def publicity_record(session: Session, publicity: Publicity) -> dict:
    """The publicity as evidence: what was posted, the window, every objection and ruling, the trail."""
    seller = session.get(Organization, publicity.seller_org_id)
    buyer = session.get(Organization, publicity.buyer_org_id)
    return {
        "公示编号": publicity.id,
        "成果名称": publicity.title,
        "科技成果编号": publicity.result_id,
        "协议价格（万元）": publicity.price_wan,
        "转化方式": publicity.mode,
        "成果方": seller.name if seller else None,
        "拟受让方": buyer.name if buyer else None,
        "成果完成团队": publicity.team,
        "说明": publicity.note,
        "公示开始": _iso(publicity.starts_at),
        "公示截止": _iso(publicity.ends_at),
        "状态": publicity.status,
        "结果": publicity.outcome,
        "结束时间": _iso(publicity.closed_at),
        "异议": [
            {
                "异议编号": o.id,
                "提出人": o.user_id,
                "理由": o.reason,
                "提出时间": _iso(o.created_at),
                "裁定": None
                if r is None
                else {
                    "结论": "异议成立" if r.upheld else "异议不成立",
                    "理由": r.reason,
                    "裁定人": r.admin_id,
                    "裁定时间": _iso(r.created_at),
                },
            }
            for o, r in objections_of(session, publicity.id)
        ],
        "过程记录": [_event_json(e) for e in events(session, "publicity", publicity.id)],
    }


def record_hash(record: dict) -> str:
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return aware(value).isoformat(timespec="seconds") if value else None


def _event_json(e: TradeEvent) -> dict:
    return {"时间": _iso(e.at), "事项": e.action, "操作人": e.actor_id, "说明": e.note}


# -- 挂牌 ------------------------------------------------------------------------------------------


def create_listing(
    session: Session,
    *,
    actor: User,
    result_id,
    price_kind: str,
    price_wan,
    start_wan=None,
    mode: str,
    licence_term: str | None = None,
    territory: str | None = None,
    qualifications: str,
    deposit_wan=0,
    deposit_terms: str | None = None,
    payment_terms: str | None = None,
    increment_wan,
    bidding_minutes: int = 60,
    extend_minutes: int = 5,
    days: int = 20,
    now: datetime | None = None,
) -> SaleListing:
    """挂牌: announce a result for sale with its terms for `days` days (the announcement period)."""
    _seller_check(session, actor)
    now = now or utcnow()

    def kind_ok():
        if price_kind not in PRICE_KINDS:
            raise DomainError(("price_kind", "请选择挂牌价或保留价"))
        return price_kind

    def mode_ok():
        if mode not in SALE_MODES:
            raise DomainError(("mode", "请选择转化方式（转让、普通/排他/独占许可、作价投资）"))
        if mode in LICENCE_MODES and not ((licence_term or "").strip() and (territory or "").strip()):
            raise DomainError(("licence_term", "许可方式须写明许可期限和地域范围"))
        return mode

    def start_ok():
        if start_wan in (None, ""):
            return None
        return _money(start_wan, "start_wan", "起拍价")

    def minutes():
        try:
            b, e = int(bidding_minutes), int(extend_minutes)
        except (TypeError, ValueError):
            raise DomainError(("bidding_minutes", "竞价时长与延时应为整数分钟")) from None
        if not 1 <= b <= 7 * 24 * 60:
            raise DomainError(("bidding_minutes", "竞价时长应为 1 分钟到 7 天"))
        if not 0 <= e <= 60:
            raise DomainError(("extend_minutes", "延时周期应为 0 到 60 分钟"))
        return b, e

    result, kind, price, start, mode_v, quals, deposit, increment, (b_min, e_min) = _collect(
        lambda: own_result(session, actor=actor, result_id=result_id),
        kind_ok,
        lambda: _money(price_wan, "price_wan", price_kind if price_kind in PRICE_KINDS else "挂牌价"),
        start_ok,
        mode_ok,
        lambda: _text(qualifications, "qualifications", "受让方资格条件", max_len=1000),
        lambda: _money(deposit_wan or 0, "deposit_wan", "保证金", allow_zero=True),
        lambda: _money(increment_wan, "increment_wan", "加价幅度"),
        minutes,
    )
    if start is not None and start > price:
        raise DomainError(("start_wan", "起拍价不能高于挂牌价/保留价"))
    if not 1 <= int(days) <= 90:
        raise DomainError(("days", "挂牌公告期应为 1 到 90 天"))
    listing = SaleListing(
        result_id=result.id,
        seller_org_id=result.organization_id,
        created_by_id=actor.id,
        title=result.title,
        price_kind=kind,
        price_wan=price,
        start_wan=start,
        mode=mode_v,
        licence_term=(licence_term or "").strip()[:100] or None,
        territory=(territory or "").strip()[:100] or None,
        qualifications=quals,
        deposit_wan=deposit,
        deposit_terms=(deposit_terms or "").strip()[:500] or None,
        payment_terms=(payment_terms or "").strip()[:500] or None,
        increment_wan=increment,
        bidding_minutes=b_min,
        extend_minutes=e_min,
        opens_at=now,
        closes_at=now + timedelta(days=int(days)),
    )
    session.add(listing)
    session.flush()
    log(session, "listing", listing.id, "挂牌公告", actor=actor, note=f"公告期 {days} 天", at=now)
    return listing


def registrations(session: Session, listing_id: int) -> list[tuple[BuyerRegistration, Organization]]:
    return list(
        session.exec(
            select(BuyerRegistration, Organization)
            .join(Organization, Organization.id == BuyerRegistration.org_id)
            .where(BuyerRegistration.listing_id == listing_id)
            .order_by(BuyerRegistration.id)
        ).all()
    )


def register_buyer(
    session: Session, *, actor: User, listing: SaleListing, statement: str, now: datetime | None = None
) -> BuyerRegistration:
    """意向受让方: a member of a verified organisation (not the seller) registers during the period."""
    now = now or utcnow()
    org = session.get(Organization, actor.organization_id) if actor.organization_id else None
    if org is None or actor.role == Role.ADMIN:
        raise NotAllowed((None, "请以机构成员身份登记为意向受让方"))
    if not org.verified:
        raise NotAllowed((None, "机构通过认证后才能登记为意向受让方"))
    if org.id == listing.seller_org_id:
        raise DomainError((None, "成果方不能登记为自己挂牌项目的意向受让方"))
    if listing.status != ListingSaleStatus.OPEN or now >= aware(listing.closes_at):
        raise DomainError((None, "挂牌公告期已结束，不能再登记"))
    text = _text(statement, "statement", "资格说明", min_len=5, max_len=2000)
    exists = session.exec(
        select(BuyerRegistration.id).where(
            BuyerRegistration.listing_id == listing.id, BuyerRegistration.org_id == org.id
        )
    ).first()
    if exists:
        raise DomainError((None, "本机构已登记为该项目的意向受让方"))
    reg = BuyerRegistration(
        listing_id=listing.id, org_id=org.id, user_id=actor.id, statement=text, created_at=now
    )
    session.add(reg)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise DomainError((None, "本机构已登记为该项目的意向受让方")) from None
    log(session, "listing", listing.id, "登记意向受让方", actor=actor, note=org.name, at=now)
    return reg


def check_buyer(
    session: Session,
    *,
    actor: User,
    registration: BuyerRegistration,
    qualified: bool,
    deposit_ref: str | None = None,
    note: str | None = None,
) -> BuyerRegistration:
    """An administrator confirms the qualification and the deposit (保证金 recorded, not held), or
    refuses the registration with a reason."""
    if not is_admin(actor):
        raise NotAllowed((None, "只有平台运营可以审核意向受让方"))
    listing = session.get(SaleListing, registration.listing_id)
    if listing.status != ListingSaleStatus.OPEN:
        raise DomainError((None, "挂牌已结束，不能再审核"))
    if registration.status != BuyerStatus.PENDING:
        raise DomainError((None, f"该登记已审核（{registration.status}）"))
    ref = (deposit_ref or "").strip()[:100]
    if qualified and listing.deposit_wan > 0 and not ref:
        raise DomainError(("deposit_ref", "请填写保证金到账凭证号（平台只记录，不代收）"))
    if not qualified and not (note or "").strip():
        raise DomainError(("note", "请写明不符合条件的原因"))
    registration.status = BuyerStatus.QUALIFIED if qualified else BuyerStatus.REJECTED
    if qualified:
        registration.paddle = new_paddle(session, listing.id)
    registration.checked_by_id, registration.checked_at = actor.id, utcnow()
    registration.deposit_ref = ref or None
    registration.check_note = (note or "").strip()[:500] or None
    session.add(registration)
    org = session.get(Organization, registration.org_id)
    action = "确认资格与保证金" if qualified else "资格不符"
    log(session, "listing", listing.id, action, actor=actor, note=f"{org.name}；{ref or note or ''}")
    session.flush()
    notify(
        session,
        user_ids=members_of(session, registration.org_id),
        message=f"挂牌“{listing.title}”：您的意向受让登记{registration.status}",
        link=links.sale(listing.id),
    )
    return registration


def qualified_orgs(session: Session, listing_id: int) -> list[int]:
    return list(
        session.exec(
            select(BuyerRegistration.org_id)
            .where(
                BuyerRegistration.listing_id == listing_id, BuyerRegistration.status == BuyerStatus.QUALIFIED
            )
            .order_by(BuyerRegistration.id)
        ).all()
    )


def qualified_registration(
    session: Session, *, listing_id: int, org_id: int | None
) -> BuyerRegistration | None:
    """The organisation's registration when it is checked and its deposit confirmed (one indexed row)."""
    if org_id is None:
        return None
    return session.exec(select(BuyerRegistration).where(_qualified(listing_id, org_id))).first()


def _qualified(listing_id, org_id):
    """A registration of this organisation on this listing, checked and with its deposit confirmed."""
    return sa.and_(
        BuyerRegistration.listing_id == listing_id,
        BuyerRegistration.org_id == org_id,
        BuyerRegistration.status == BuyerStatus.QUALIFIED,
    )


def new_paddle(session: Session, listing_id: int) -> str:
    """A 竞买号 not yet used on the listing: four random digits, so that its order says nothing about
    who registered first (the (listing, 竞买号) unique constraint backs the check up)."""
    used = set(
        session.exec(
            select(BuyerRegistration.paddle).where(
                BuyerRegistration.listing_id == listing_id, BuyerRegistration.paddle.is_not(None)
            )
        ).all()
    )
    while True:
        paddle = f"{secrets.randbelow(9000) + 1000}"
        if paddle not in used:
            return paddle


def paddles(session: Session, listing_id: int) -> dict[int, str]:
    """Organisation id → 竞买号 of the listing's qualified buyers (administrators' view)."""
    return dict(
        session.exec(
            select(BuyerRegistration.org_id, BuyerRegistration.paddle).where(
                BuyerRegistration.listing_id == listing_id, BuyerRegistration.paddle.is_not(None)
            )
        ).all()
    )


# -- 竞价 ------------------------------------------------------------------------------------------


class BidRefused(DomainError):
    """A bid that was not accepted, with the auction's state as it is now (409, "new best price")."""

    status = 409

    def __init__(self, reason: str, *, auction: Auction | sa.Row, now: datetime) -> None:
        super().__init__(("price_wan", reason))
        self.state = auction_state(auction, now=now)

    def as_json(self) -> dict:
        return {**super().as_json(), "error": "bid_refused", "auction": self.state}


def auction_state(auction: Auction | sa.Row, *, now: datetime | None = None) -> dict:
    """What the bidding page polls: the best price, the next acceptable bid, the close, the clock."""
    now = now or utcnow()
    minimum = rules.minimum_bid(
        start=auction.start_units, increment=auction.increment_units, best=auction.best_units
    )
    ends = aware(auction.ends_at)
    return {
        "id": auction.id,
        "status": auction.status,
        "server_time": now.isoformat(timespec="milliseconds"),
        "ends_at": ends.isoformat(timespec="seconds"),
        "seconds_left": max(0.0, round((ends - now).total_seconds(), 1))
        if auction.status == "竞价中"
        else 0.0,
        "bids": auction.bid_count,
        "best_wan": rules.from_units(auction.best_units) if auction.best_units is not None else None,
        "best_paddle": auction.best_paddle,
        "minimum_wan": rules.from_units(minimum),
        "start_wan": rules.from_units(auction.start_units),
        "increment_wan": rules.from_units(auction.increment_units),
        "reserve_met": auction.best_units is not None and auction.best_units >= auction.reserve_units,
        "extend_minutes": auction.extend_minutes,
        "head_hash": auction.head_hash,
    }


def start_auction(session: Session, *, listing: SaleListing, now: datetime) -> Auction:
    price = rules.to_units(listing.price_wan)
    start = rules.to_units(listing.start_wan) if listing.start_wan else price
    auction = Auction(
        listing_id=listing.id,
        start_units=start,
        increment_units=rules.to_units(listing.increment_wan),
        reserve_units=price,
        extend_minutes=listing.extend_minutes,
        starts_at=now,
        ends_at=now + timedelta(minutes=listing.bidding_minutes),
    )
    session.add(auction)
    session.flush()
    log(session, "auction", auction.id, "竞价开始", note=f"挂牌 #{listing.id}", at=now)
    return auction


def locked_auction(session: Session, auction_id: int) -> Auction | None:
    """The auction row, locked for this transaction (FOR UPDATE on PostgreSQL; on SQLite the writing
    transaction already holds the database's write lock), re-read from the database."""
    return session.exec(
        select(Auction)
        .where(Auction.id == auction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


#: the auction and, in the same statement, the organisation's qualified registration for its listing:
#: built once (a bid is the hottest request there is; building and cache-keying the statement each
#: time was half the cost of reading it), with the auction and the organisation as parameters, and
#: locking the auction row (FOR UPDATE OF auctions: never the registration), re-read from the database
_BID_LOCK = (
    select(Auction, BuyerRegistration)
    .outerjoin(BuyerRegistration, _qualified(Auction.listing_id, sa.bindparam("org_id")))
    .where(Auction.id == sa.bindparam("auction_id"))
    .with_for_update(of=Auction)
    .execution_options(populate_existing=True)
)
#: the same as plain columns, for the check without the lock: most bids under contention end there,
#: and a row is a fraction of the work of two entities (no instance loading, no identity map)
_BID_PRECHECK = (
    sa.select(*Auction.__table__.c, BuyerRegistration.id.label("registration_id"))
    .outerjoin(BuyerRegistration, _qualified(Auction.listing_id, sa.bindparam("org_id")))
    .where(Auction.id == sa.bindparam("auction_id"))
)


def precheck_bid(session: Session, *, actor: User, auction_id: int, price_wan) -> None:
    """Refuse, from a plain read and without any lock, a bid that cannot be accepted whatever happens
    meanwhile: the auction is over, the bidder is not qualified, or the price is off the grid or below
    the lowest acceptable bid. Sound on a stale read because the best price and the end of an auction
    only ever move one way (up, and from running to closed); the close itself is not checked here,
    since a late bid elsewhere may have extended it. `accept_bid` decides everything again under the
    lock. Under contention most bids are refused here, so they never queue for the lock."""
    row = session.execute(_BID_PRECHECK, {"auction_id": auction_id, "org_id": actor.organization_id}).first()
    _bid_price(
        row, qualified=row is not None and row.registration_id is not None, price_wan=price_wan, now=utcnow()
    )


def _bid_price(auction, *, qualified: bool, price_wan, now: datetime, closes: bool = False) -> int:
    """The bid's price in units, or the refusal: no auction, an auction no longer running (or, with
    `closes`, past its close by the server's clock), a bidder not qualified, a price that is not a
    number, off the grid or not above the best. `auction` is the entity or a row of its columns."""
    if auction is None:
        raise DomainError((None, "竞价不存在"))
    if auction.status != AuctionStatus.RUNNING or (closes and now >= aware(auction.ends_at)):
        raise BidRefused("竞价已结束", auction=auction, now=now)
    if not qualified:
        raise NotAllowed(("price_wan", "只有资格与保证金已确认的意向受让方可以出价"))
    try:
        price = rules.to_units(price_wan)
    except ValueError:
        raise BidRefused("请填写出价（万元，数字）", auction=auction, now=now) from None
    problem = rules.bid_problem(
        price, start=auction.start_units, increment=auction.increment_units, best=auction.best_units
    )
    if problem:
        raise BidRefused(problem, auction=auction, now=now)
    return price


def place_bid(
    session: Session, *, actor: User, auction_id: int, price_wan, now: datetime | None = None
) -> Bid:
    """Accept a bid on the price grid above the best, from a qualified buyer, before the close; append
    it to the hash-chained log and extend the close on a late bid. Serialised per auction by the row
    lock, so of two bids at the same price exactly one is accepted and the other is told the new best."""
    return accept_bid(session, actor=actor, auction_id=auction_id, price_wan=price_wan, now=now)[0]


def accept_bid(
    session: Session, *, actor: User, auction_id: int, price_wan, now: datetime | None = None
) -> tuple[Bid, Auction]:
    """`place_bid`, with the auction as the bid left it (the session holds its objects weakly: once
    flushed, an auction nobody refers to is gone from it, and reading it again would be a query)."""
    row = session.exec(_BID_LOCK, params={"auction_id": auction_id, "org_id": actor.organization_id}).first()
    auction, registration = (None, None) if row is None else (row[0], row[1])
    now = now or utcnow()  # read after the lock: the server's clock at the moment the bid is decided
    price = _bid_price(auction, qualified=registration is not None, price_wan=price_wan, now=now, closes=True)
    assert auction is not None and registration is not None  # _bid_price refused otherwise
    prev = (
        None
        if auction.bid_count == 0
        else rules.BidRecord(
            seq=auction.bid_count,
            auction_id=auction.id,
            bidder_org_id=0,
            price=auction.best_units or 0,
            at="",
            prev_hash="",
            hash=auction.head_hash,
        )
    )
    entry = rules.chain_next(
        prev,
        auction_id=auction.id,
        bidder_org_id=actor.organization_id,
        paddle=registration.paddle,
        price=price,
        at=now.astimezone(UTC).isoformat(timespec="microseconds"),
    )
    bid = Bid(
        auction_id=auction.id,
        seq=entry.seq,
        bidder_org_id=entry.bidder_org_id,
        bidder_user_id=actor.id,
        paddle=entry.paddle,
        price_units=price,
        at=entry.at,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )
    session.add(bid)
    old_end = aware(auction.ends_at)
    new_end = rules.extended_close(old_end, now, extend_minutes=auction.extend_minutes)
    auction.bid_count, auction.best_units, auction.best_org_id = entry.seq, price, entry.bidder_org_id
    auction.best_paddle = entry.paddle
    auction.head_hash, auction.ends_at = entry.hash, new_end
    session.add(auction)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        # The unique (auction, price) and (auction, seq) constraints are the backstop behind the row
        # lock; a bid is the request's only write, so the transaction is rolled back whole (no
        # SAVEPOINT on the hot path) and the answer carries the auction as it is now.
        session.rollback()
        fresh = session.get(Auction, auction_id, populate_existing=True)
        raise BidRefused("该价格已有人出价", auction=fresh, now=now) from None
    if new_end > old_end:
        log(
            session,
            "auction",
            auction.id,
            "延时",
            note=f"第 {entry.seq} 次出价后延至 {_iso(new_end)}",
            at=now,
        )
    return bid, auction


def bid_log(session: Session, auction_id: int) -> list[Bid]:
    return list(session.exec(select(Bid).where(Bid.auction_id == auction_id).order_by(Bid.seq)).all())


def as_record(bid: Bid) -> rules.BidRecord:
    return rules.BidRecord(
        seq=bid.seq,
        auction_id=bid.auction_id,
        bidder_org_id=bid.bidder_org_id,
        paddle=bid.paddle,
        price=bid.price_units,
        at=bid.at,
        prev_hash=bid.prev_hash,
        hash=bid.hash,
    )


def verify_auction(session: Session, auction: Auction) -> rules.ChainCheck:
    """Recompute the auction's bid log chain (and that its head is the auction's recorded head)."""
    records = [as_record(b) for b in bid_log(session, auction.id)]
    check = rules.verify_chain(records, start=auction.start_units, increment=auction.increment_units)
    if check.ok and (records[-1].hash if records else rules.GENESIS) != auction.head_hash:
        return rules.ChainCheck(
            False, len(records), len(records), "日志末条哈希与竞价记录的链头不符（有记录被删除）"
        )
    return check


def bidder_label(bid: Bid) -> str:
    """How a bid names its bidder in public: its 竞买号 (an entry from before 竞买号: the organisation's
    id, which is what that entry's hash covers)."""
    return f"竞买号 {bid.paddle}" if bid.paddle is not None else f"机构 #{bid.bidder_org_id}"


def log_json(session: Session, auction: Auction) -> dict:
    """The public, verifiable bid log: each entry as hashed, bidders by 竞买号 only."""
    bids = bid_log(session, auction.id)
    return {
        "auction_id": auction.id,
        "status": auction.status,
        "hash_algorithm": "sha256",
        "canonical_form": "JSON of {seq, auction_id, paddle, price, at, prev_hash} "
        "(entries without a paddle: bidder_org_id in its place), keys sorted, separators (',', ':'), "
        "UTF-8; price in hundredths of 万元; prev_hash of the first entry is 64 zeros",
        "head_hash": auction.head_hash,
        "entries": [
            {
                "seq": b.seq,
                "auction_id": b.auction_id,
                **(as_record(b).payload()),
                "price_wan": rules.from_units(b.price_units),
                "hash": b.hash,
            }
            for b in bids
        ],
    }


def org_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(
        session.exec(select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all()
    )


def deal_for(session: Session, **where) -> TradeDeal | None:
    ((key, value),) = where.items()
    return session.exec(select(TradeDeal).where(getattr(TradeDeal, key) == value)).first()
