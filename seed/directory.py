"""Demo directory and notices: the four kinds of agencies with profiles, brokers whose track records come
from real (demo) matches and contracts made through the services, certificates in each state, notices."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from market.accounts import service as accounts
from market.accounts.models import Organization, User
from market.deals.service import record_contract
from market.directory import service as directory
from market.directory.models import AgencyProfile
from market.listings.models import ResearchResult, TechNeed
from market.matches import service as matches
from market.matches.models import Match
from market.notices import service as notices
from vocab.taxonomy import ListingStatus, Role

PASSWORD = "kejichengguo-demo-2026"

AGENCIES = {
    "天津市技术转移中心": ("120103", ["新能源", "新材料", "装备制造"], "区域技术转移枢纽：成果评价、供需对接会、技术合同登记辅导、京津冀技术市场互联互通。"),
    "天津大学技术转移中心": ("120104", ["新一代信息技术", "储能", "工业机器人"], "高校院所成果转化：职务成果赋权咨询、专利许可谈判、概念验证与中试对接。"),
    "京津冀新材料技术转移联盟": ("110108", ["新材料"], "行业技术转移：新材料领域的需求征集、产业链对接、标准与检验检测资源。"),
    "滨海科技成果转化服务有限公司": ("120116", ["新能源汽车及智能网联车", "检验检测", "生物制造"], "专业服务机构：技术经纪、知识产权运营、投融资对接、揭榜挂帅组织实施。"),
}  # fmt: skip

BROKERS = [
    # email, name, agency, region, fields, title, certificate status
    ("agent@demo.kjcg.cn", None, "天津市技术转移中心", "120103", ["储能", "氢能"], "高级技术经理人", "已核验"),
    ("agent2@demo.kjcg.cn", None, "滨海科技成果转化服务有限公司", "120116", ["新能源汽车", "检验检测"], "技术经纪人", "待核验"),
    ("agent3@demo.kjcg.cn", "技术经纪人 郑雨", "天津大学技术转移中心", "120104", ["人工智能", "工业机器人"], "技术经理人（中级）", "已核验"),
    ("agent4@demo.kjcg.cn", "技术经纪人 冯磊", "京津冀新材料技术转移联盟", "110108", ["结构与复合材料"], None, "未通过"),
]  # fmt: skip

NOTICES = [
    ("政策", "天津市促进科技成果转化条例要点解读", date(2026, 9, 1), "## 要点\n\n1. 职务科技成果**赋权**试点：单位可赋予完成人所有权或长期使用权。\n2. 协议定价须**公示**，公示期满无异议方可签约。\n3. 技术合同认定登记后可享受相应税收优惠。\n\n详见[天津市科学技术局](https://kxjs.tj.gov.cn)。", True),
    ("公告", "2026 年第四季度技术合同认定登记集中受理安排", date(2026, 10, 10), "各有关单位：\n\n第四季度集中受理时间为 **10 月 15 日至 12 月 20 日**。请通过平台提交合同文本，并核对双方统一社会信用代码。\n\n| 事项 | 时间 |\n|---|---|\n| 材料提交 | 每周一至周四 |\n| 现场咨询 | 每周五上午 |", True),
    ("公告", "京津冀技术转移机构对接会（新能源专场）报名通知", date(2026, 11, 5), "对接会将于 12 月在滨海新区举行，欢迎四类技术转移机构及其经纪人报名，现场发布揭榜挂帅榜单。", True),
    ("公告", "平台维护通知（草稿）", None, "计划于周末进行数据库维护，届时暂停提交。", False),
]  # fmt: skip


def _pairs(session: Session, n: int) -> list[tuple[ResearchResult, TechNeed]]:
    """Published results and needs of different organisations, paired in a fixed order."""
    results = session.exec(
        select(ResearchResult)
        .where(ResearchResult.status == ListingStatus.PUBLISHED)
        .order_by(ResearchResult.id)
    ).all()
    needs = session.exec(
        select(TechNeed).where(TechNeed.status == ListingStatus.PUBLISHED).order_by(TechNeed.id)
    ).all()
    return list(zip(results[: n * 3 : 3], needs[: n * 2 : 2], strict=False))[:n]


def _work(session: Session, broker: User, pairs, *, introduce: int, sign: int, start: int) -> None:
    """Claim each pair, introduce the first `introduce`, sign the first `sign` with contracts."""
    for i, (result, need) in enumerate(pairs):
        match = session.exec(
            select(Match).where(Match.result_id == result.id, Match.need_id == need.id)
        ).first()
        if match is None:
            match = Match(result_id=result.id, need_id=need.id, origin="agent", score=0.0, reasons={})
            session.add(match)
            session.flush()
        if match.status != "推荐":
            continue
        matches.claim(session, actor=broker, match=match)
        if i < introduce:
            matches.introduce(session, actor=broker, match=match)
        if i < sign:
            amount = 60 + 45 * (start + i)
            record_contract(
                session,
                actor=broker,
                match=match,
                contract_type=("技术许可", "技术转让", "技术开发（合作）", "技术服务")[(start + i) % 4],
                amount_wan=amount,
                tech_amount_wan=round(amount * 0.85, 2),
                signed_on=date.today() - timedelta(days=20 + 37 * i),
            )


def load_directory(session: Session) -> int:
    """Profiles, brokers, their work and the notices; nothing when the directory already has profiles."""
    if session.exec(select(AgencyProfile.id).limit(1)).first() is not None:
        return 0
    admin = session.exec(select(User).where(User.role == Role.ADMIN).order_by(User.id)).first()
    orgs = {
        o.name: o for o in session.exec(select(Organization).where(Organization.name.in_(list(AGENCIES))))
    }
    for name, (code, fields, services) in AGENCIES.items():
        org = orgs.get(name)
        if org is None:
            continue
        session.add(AgencyProfile(organization_id=org.id, region_code=code, services=services,
                                  intro=f"{name}是经平台认证的{org.agency_type}类技术转移机构。",
                                  contact_name="业务部", contact_phone="022-2345-6789",
                                  contact_email="service@demo.kjcg.cn"))  # fmt: skip
        directory._set_fields(session, "agency", org.id, fields)
    brokers: list[User] = []
    for email, name, agency, code, fields, title, cert in BROKERS:
        user = accounts.find_user_by_email(session, email)
        if user is None and name and agency in orgs:
            user = accounts.register_user(session, email=email, display_name=name, password=PASSWORD,
                                          role=Role.AGENT, org_name=agency)  # fmt: skip
            if user.pending_organization_id is not None:
                accounts.decide_membership(session, user=user, approve=True)
        if user is None:
            continue
        brokers.append(user)
        directory.save_broker_profile(session, actor=user, region_code=code, fields=fields, title=title,
                                      intro="熟悉成果评价、许可谈判与技术合同登记。")  # fmt: skip
        c = directory.add_certificate(session, actor=user, name="技术经纪人证书", number=f"TJ-JJR-{user.id:05d}",
                                      issuer="天津市技术市场协会", issued_on=date(2024, 6, 1))  # fmt: skip
        if admin is not None and cert != "待核验":
            directory.check_certificate(session, actor=admin, cert=c, verdict="ok" if cert == "已核验" else "reject",
                                        note=None if cert == "已核验" else "证书编号与发证机构记录不符")  # fmt: skip
    pairs = _pairs(session, 12)
    # different records: many deals, a few introductions, claims only, nothing yet
    plan = [(6, 4), (3, 1), (2, 0), (0, 0)]
    cursor = 0
    for index, (user, (introduce, sign)) in enumerate(zip(brokers, plan, strict=False)):
        take = {0: 6, 1: 3, 2: 2}.get(index, 0)
        _work(session, user, pairs[cursor : cursor + take], introduce=introduce, sign=sign, start=cursor)
        cursor += take
    if admin is not None:
        for kind, title, issued, body, publish in NOTICES:
            n = notices.save(
                session, actor=admin, notice=None, kind=kind, title=title, body_md=body, issued_on=issued
            )
            if publish:
                notices.move(session, actor=admin, notice=n, action="publish")
    session.flush()
    return len(brokers)
