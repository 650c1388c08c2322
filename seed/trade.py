"""Demo data for 展示交易, through the trading services with the clock set back where a scene needs a
past: publicities running (one with an objection waiting), finished without objection, ended by an
objection; a 挂牌 open with buyers; an auction running; one closed and sold; a 协议成交 listing; and
contracts registered and not yet registered, with instalments. Idempotent: skipped once any publicity
exists. The 统一社会信用代码 are fictitious (valid check characters, made up for the demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select
from stdnum.cn import uscc

from market.accounts.models import Organization, User
from market.db import utcnow
from market.listings.models import ResearchResult
from market.trade import closing, registration
from market.trade import service as svc
from market.trade.models import Auction, Publicity, TradeDeal

SELLERS = {"tju@demo.kjcg.cn": "120104", "nankai@demo.kjcg.cn": "120104"}
BUYERS = {
    "haihe@demo.kjcg.cn": "120116",
    "jingu@demo.kjcg.cn": "120113",
    "bohai@demo.kjcg.cn": "120116",
}


def demo_uscc(org_id: int, *, public_institution: bool) -> str:
    """A fictitious but well-formed 统一社会信用代码 for a demo organisation."""
    body = ("121200004" if public_institution else "911201160") + f"{org_id:08d}"
    return body + uscc.calc_check_digit(body)


@dataclass
class TradeSeedReport:
    publicities: int = 0
    listings: int = 0
    auctions: int = 0
    contracts: int = 0
    skipped: bool = False


def _user(session: Session, email: str) -> User:
    return session.exec(select(User).where(User.email == email)).one()


def _results(session: Session, org_id: int, n: int) -> list[ResearchResult]:
    rows = session.exec(
        select(ResearchResult)
        .where(ResearchResult.organization_id == org_id, ResearchResult.status == "已发布")
        .order_by(ResearchResult.id)
        .limit(n)
    ).all()
    if len(rows) < n:
        raise RuntimeError(f"演示数据不足：机构 #{org_id} 只有 {len(rows)} 项已发布成果")
    return list(rows)


def _contract(
    session: Session, seller: User, deal: TradeDeal, *, kind: str, cost: str, plan: str, signed: date
):
    org_ids = (deal.seller_org_id, deal.buyer_org_id)
    seller_org, buyer_org = (session.get(Organization, i) for i in org_ids)
    buyer_email = next(
        (e for e in BUYERS if _user(session, e).organization_id == deal.buyer_org_id), "haihe@demo.kjcg.cn"
    )
    return registration.contract_for_deal(
        session,
        actor=seller,
        deal=deal,
        contract_type=kind,
        amount_wan=str(deal.price_wan),
        non_tech_cost_wan=cost,
        signed_on=signed,
        seller_uscc=demo_uscc(seller_org.id, public_institution=True),
        buyer_uscc=demo_uscc(buyer_org.id, public_institution=False),
        seller_region_code=SELLERS.get(seller.email, "120104"),
        buyer_region_code=BUYERS[buyer_email],
        instalments=plan,
    )


def load(session: Session) -> TradeSeedReport:
    """Every trading state, a few of each."""
    report = TradeSeedReport()
    if session.exec(select(Publicity.id).limit(1)).first() is not None:
        report.skipped = True
        return report
    now = utcnow()
    today = date.today()
    tju, nankai = _user(session, "tju@demo.kjcg.cn"), _user(session, "nankai@demo.kjcg.cn")
    admin = _user(session, "admin@demo.kjcg.cn")
    haihe, jingu, bohai = (_user(session, e) for e in BUYERS)
    names = {u.id: session.get(Organization, u.organization_id).name for u in (haihe, jingu, bohai)}
    tju_results = _results(session, tju.organization_id, 6)
    nankai_results = _results(session, nankai.organization_id, 4)

    def publicity(actor, result, buyer, price, *, days_ago: int, days: int = 15, team: str):
        return svc.create_publicity(
            session,
            actor=actor,
            result_id=result.id,
            price_wan=price,
            mode="转让",
            buyer_name=names[buyer.id],
            team=team,
            note="依据第三方评估报告（评估值见附件）与双方协商确定",
            days=days,
            now=now - timedelta(days=days_ago),
        )

    # 1. running, no objection
    publicity(tju, tju_results[0], haihe, "85", days_ago=3, team="化工学院 李教授团队（6 人）")
    # 2. running, an objection waiting for the administrator
    p2 = publicity(nankai, nankai_results[0], jingu, "42", days_ago=6, team="材料学院 张教授团队（4 人）")
    svc.file_objection(
        session,
        actor=bohai,
        publicity=p2,
        reason="同类专利近期许可费在 60 万元以上，拟交易价格明显偏低，请说明定价依据",
        now=now - timedelta(days=1),
    )
    # 3. finished without objection (one objection dismissed), deal, contract registered
    p3 = publicity(tju, tju_results[1], jingu, "120", days_ago=25, team="精密仪器学院 王教授团队（5 人）")
    o3 = svc.file_objection(
        session,
        actor=bohai,
        publicity=p3,
        reason="请公开该成果的评估报告，以便判断价格是否合理",
        now=now - timedelta(days=20),
    )
    svc.rule_on_objection(
        session,
        actor=admin,
        objection=o3,
        upheld=False,
        reason="评估报告已在公示附件中公开，价格不低于评估值，异议不成立",
    )
    closing.close_publicity(session, p3.id, now=svc.aware(p3.ends_at))
    d3 = svc.deal_for(session, publicity_id=p3.id)
    c3 = _contract(
        session,
        tju,
        d3,
        kind="技术转让",
        cost="15",
        plan="60 2026-06-30\n60 2026-12-31",
        signed=today - timedelta(days=8),
    )
    registration.record_registration(
        session,
        actor=tju,
        contract=c3,
        registration_no="2026120104001068",
        registered_on=today - timedelta(days=2),
    )
    first = registration.instalments(session, c3.id)[0]
    registration.mark_paid(
        session, actor=tju, contract=c3, instalment=first, paid_on=today - timedelta(days=1)
    )
    # 4. ended by an upheld objection
    p4 = publicity(
        nankai, nankai_results[1], haihe, "30", days_ago=10, team="电子信息学院 刘教授团队（3 人）"
    )
    o4 = svc.file_objection(
        session,
        actor=jingu,
        publicity=p4,
        reason="该成果的一项核心专利已于去年许可给我司，独占许可期未满",
        now=now - timedelta(days=4),
    )
    svc.rule_on_objection(
        session,
        actor=admin,
        objection=o4,
        upheld=True,
        reason="经核实，存在在先独占许可，本次转让终止，待权属厘清后重新公示",
    )
    report.publicities = 4

    def listing(actor, result, *, days_ago: int, days: int, price="100", minutes=60, mode="独占许可"):
        licence = mode.endswith("许可")
        return svc.create_listing(
            session,
            actor=actor,
            result_id=result.id,
            price_kind="保留价",
            price_wan=price,
            start_wan=str(float(price) * 0.6),
            mode=mode,
            licence_term="5 年" if licence else None,
            territory="中国大陆" if licence else None,
            qualifications="依法设立的企业法人，具备相关产品的中试或量产能力，近三年无重大违法记录",
            deposit_wan="10",
            deposit_terms="登记时缴纳至指定账户，未成交者成交后 5 个工作日内退还",
            payment_terms="合同生效后 30 日内支付 50%，验收后支付余款",
            increment_wan="2",
            bidding_minutes=minutes,
            extend_minutes=5,
            days=days,
            now=now - timedelta(days=days_ago),
        )

    def register(item, buyer, *, qualified: bool, days_ago: int):
        reg = svc.register_buyer(
            session,
            actor=buyer,
            listing=item,
            statement="我司为国家高新技术企业，具备量产能力，保证金已汇出",
            now=now - timedelta(days=days_ago),
        )
        if qualified:
            svc.check_buyer(
                session, actor=admin, registration=reg, qualified=True, deposit_ref=f"BZJ2026{reg.id:04d}"
            )
        return reg

    # 5. open, with one qualified buyer and one waiting for the check
    l5 = listing(tju, tju_results[2], days_ago=2, days=20, mode="普通许可")
    register(l5, haihe, qualified=True, days_ago=1)
    register(l5, jingu, qualified=False, days_ago=0)
    # 6. announcement over with three qualified buyers → an auction, running now, three bids
    l6 = listing(tju, tju_results[3], days_ago=12, days=10, price="200")
    for buyer in (haihe, jingu, bohai):
        register(l6, buyer, qualified=True, days_ago=8)
    closing.close_listing(session, l6.id, now=svc.aware(l6.closes_at))
    a6 = session.exec(select(Auction).where(Auction.listing_id == l6.id)).one()
    a6.starts_at, a6.ends_at = now - timedelta(hours=2), now + timedelta(days=2)
    session.add(a6)
    session.flush()
    for minutes_ago, buyer, price in ((90, haihe, "120"), (60, jingu, "150"), (30, haihe, "160")):
        svc.place_bid(
            session, actor=buyer, auction_id=a6.id, price_wan=price, now=now - timedelta(minutes=minutes_ago)
        )
    # 7. an auction closed and sold, with a late bid that extended it; contract not yet registered
    l7 = listing(nankai, nankai_results[2], days_ago=20, days=10, price="80", minutes=60, mode="转让")
    for buyer in (jingu, bohai):
        register(l7, buyer, qualified=True, days_ago=15)
    closing.close_listing(session, l7.id, now=svc.aware(l7.closes_at))
    a7 = session.exec(select(Auction).where(Auction.listing_id == l7.id)).one()
    start = svc.aware(a7.starts_at)
    for minutes_in, buyer, price in (
        (5, jingu, "48"),
        (20, bohai, "70"),
        (40, jingu, "80"),
        (58, bohai, "90"),
    ):
        svc.place_bid(
            session, actor=buyer, auction_id=a7.id, price_wan=price, now=start + timedelta(minutes=minutes_in)
        )
    closing.close_auction(session, a7.id, now=svc.aware(a7.ends_at))
    d7 = svc.deal_for(session, auction_id=a7.id)
    _contract(
        session, nankai, d7, kind="技术转让", cost="0", plan="45 2026-12-31\n45 2027-06-30", signed=today
    )
    # 8. one qualified buyer at the close → 协议成交 at the listed price
    l8 = listing(tju, tju_results[4], days_ago=30, days=15, price="60", mode="作价投资")
    register(l8, bohai, qualified=True, days_ago=25)
    closing.close_listing(session, l8.id, now=svc.aware(l8.closes_at))
    report.listings, report.auctions, report.contracts = 4, 2, 2
    session.flush()
    return report
