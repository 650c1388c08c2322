"""Contracts that register (技术合同认定登记): the contract after a deal, the parties' 统一社会信用代码 and
GB/T 2260 region codes, 成交额 and 技术交易额 (成交额 minus non-technical costs), the office's
registration number and date, payment instalments, and the export a registration office asks for."""

from __future__ import annotations

import io
from datetime import date

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session, select

from market import links
from market.accounts.models import Organization, User
from market.deals.models import Contract, ContractInstalment
from market.errors import DomainError, NotAllowed
from market.notifications.service import members_of, notify
from market.trade import rules
from market.trade.models import TradeDeal
from market.trade.service import is_admin, log
from vocab import regions
from vocab.taxonomy import ContractType, values
from vocab.values import MAX_WAN, format_wan

#: the registration office's columns (技术合同认定登记表), in its order
EXPORT_COLUMNS = (
    "认定登记号",
    "登记日期",
    "合同编号",
    "合同名称",
    "合同类型",
    "签订日期",
    "卖方名称",
    "卖方统一社会信用代码",
    "卖方行政区划代码",
    "买方名称",
    "买方统一社会信用代码",
    "买方行政区划代码",
    "成交额（万元）",
    "非技术性费用（万元）",
    "技术交易额（万元）",
    "已收款（万元）",
    "成交方式",
)


def can_manage(user, contract: Contract) -> bool:
    """The seller applies for registration (and admins help): they edit the registration data."""
    if not getattr(user, "is_authenticated", False):
        return False
    return is_admin(user) or (
        user.organization_id is not None and user.organization_id == contract.seller_org_id
    )


def _amounts(amount_wan, non_tech_cost_wan) -> tuple[float, float, float]:
    errors = []
    amount = cost = None
    try:
        amount = rules.to_units(amount_wan)
        if amount <= 0 or amount > 1_000_000_000:
            errors.append(("amount_wan", f"成交额应大于 0 且不超过 {format_wan(MAX_WAN)}"))
    except ValueError:
        errors.append(("amount_wan", "请填写成交额（万元，数字）"))
    try:
        cost = rules.to_units(non_tech_cost_wan if non_tech_cost_wan not in (None, "") else 0)
        if cost < 0:
            errors.append(("non_tech_cost_wan", "非技术性费用不能为负数"))
    except ValueError:
        errors.append(("non_tech_cost_wan", "非技术性费用应为数字（万元）"))
    if not errors and cost > amount:
        errors.append(("non_tech_cost_wan", "非技术性费用不能超过成交额"))
    if errors:
        raise DomainError(*errors)
    return rules.from_units(amount), rules.from_units(cost), rules.from_units(amount - cost)


def party_problems(
    *, seller_uscc, buyer_uscc, seller_region_code, buyer_region_code
) -> list[tuple[str, str]]:
    """(field, reason) for each party identifier that is missing or invalid, naming the party."""
    checks = (
        ("seller_uscc", rules.uscc_problem(seller_uscc, "卖方")),
        ("buyer_uscc", rules.uscc_problem(buyer_uscc, "买方")),
        ("seller_region_code", regions.problem(seller_region_code, "卖方")),
        ("buyer_region_code", regions.problem(buyer_region_code, "买方")),
    )
    return [(field, reason) for field, reason in checks if reason]


def parse_instalments(text: str | None) -> list[tuple[float, date]]:
    """Lines of "金额 到期日" (万元, YYYY-MM-DD) → [(amount, due)], refused naming the line."""
    out = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        parts = line.replace("，", " ").replace(",", " ").split()
        if not parts:
            continue
        if len(parts) != 2:
            raise DomainError(("instalments", f"分期付款第 {n} 行应为“金额 到期日”，如 “60 2026-12-31”"))
        try:
            units = rules.to_units(parts[0])
            due = date.fromisoformat(parts[1])
        except ValueError:
            raise DomainError(("instalments", f"分期付款第 {n} 行的金额或日期无法识别")) from None
        if units <= 0:
            raise DomainError(("instalments", f"分期付款第 {n} 行的金额应大于 0"))
        out.append((rules.from_units(units), due))
    return out


def _contract_fields(
    *,
    contract_type,
    amount_wan,
    non_tech_cost_wan,
    signed_on,
    seller_uscc,
    buyer_uscc,
    seller_region_code,
    buyer_region_code,
    instalments,
) -> dict:
    errors: list[tuple[str, str]] = []
    if contract_type not in values(ContractType):
        errors.append(
            (
                "contract_type",
                "请选择合同类型（技术开发（委托/合作）、技术转让、技术许可、技术咨询、技术服务）",
            )
        )
    amounts = None
    try:
        amounts = _amounts(amount_wan, non_tech_cost_wan)
    except DomainError as exc:
        errors.extend(exc.errors)
    if signed_on is None:
        errors.append(("signed_on", "请填写签订日期"))
    elif signed_on > date.today():
        errors.append(("signed_on", "签订日期不能晚于今天"))
    errors.extend(
        party_problems(
            seller_uscc=seller_uscc,
            buyer_uscc=buyer_uscc,
            seller_region_code=seller_region_code,
            buyer_region_code=buyer_region_code,
        )
    )
    plan: list[tuple[float, date]] = []
    try:
        plan = parse_instalments(instalments) if isinstance(instalments, str | None) else list(instalments)
    except DomainError as exc:
        errors.extend(exc.errors)
    if amounts and plan and rules.to_units(sum(a for a, _ in plan)) > rules.to_units(amounts[0]):
        errors.append(("instalments", "分期付款合计不能超过成交额"))
    if errors:
        raise DomainError(*errors)
    amount, cost, tech = amounts
    return {
        "contract_type": contract_type,
        "amount_wan": amount,
        "non_tech_cost_wan": cost,
        "tech_amount_wan": tech,
        "signed_on": signed_on,
        "seller_uscc": seller_uscc.strip().upper(),
        "buyer_uscc": buyer_uscc.strip().upper(),
        "seller_region_code": seller_region_code.strip(),
        "buyer_region_code": buyer_region_code.strip(),
        "plan": plan,
    }


def _replace_plan(session: Session, contract: Contract, plan) -> None:
    if not plan:
        return
    if session.exec(
        select(ContractInstalment.id).where(
            ContractInstalment.contract_id == contract.id, ContractInstalment.paid_on.is_not(None)
        )
    ).first():
        raise DomainError(("instalments", "已有分期记录了收款，不能再改分期计划"))
    session.exec(sa.delete(ContractInstalment).where(ContractInstalment.contract_id == contract.id))
    for seq, (amount, due) in enumerate(plan, start=1):
        session.add(ContractInstalment(contract_id=contract.id, seq=seq, amount_wan=amount, due_on=due))


def contract_for_deal(session: Session, *, actor: User, deal: TradeDeal, **fields) -> Contract:
    """Record the technology contract that follows a deal, with its registration data (the seller)."""
    if not (is_admin(actor) or actor.organization_id == deal.seller_org_id):
        raise NotAllowed((None, "只有卖方（成果方）或平台运营可以录入技术合同"))
    if session.exec(select(Contract.id).where(Contract.deal_id == deal.id)).first():
        raise DomainError((None, "该成交已录入技术合同"))
    data = _contract_fields(**fields)
    plan = data.pop("plan")
    contract = Contract(
        deal_id=deal.id,
        result_id=deal.result_id,
        seller_org_id=deal.seller_org_id,
        buyer_org_id=deal.buyer_org_id,
        recorded_by_id=actor.id,
        title=f"{deal.title}（{deal.route}）"[:200],
        **data,
    )
    session.add(contract)
    session.flush()
    _replace_plan(session, contract, plan)
    log(session, "deal", deal.id, "签订技术合同", actor=actor, note=f"合同 #{contract.id}")
    session.flush()
    notify(
        session,
        user_ids=[*members_of(session, deal.seller_org_id), *members_of(session, deal.buyer_org_id)],
        message=f"技术合同已录入：{contract.title}"
        f"（{contract.contract_type}，成交额 {contract.amount_wan:g} 万元）",
        link=links.contract_registration(contract.id),
    )
    return contract


def update_registration_data(session: Session, *, actor: User, contract: Contract, **fields) -> Contract:
    """Fill in or correct a contract's registration data (before it is registered)."""
    if not can_manage(actor, contract):
        raise NotAllowed((None, "只有卖方（成果方）或平台运营可以填写登记信息"))
    if contract.is_registered:
        raise DomainError((None, "合同已认定登记，登记信息不能再修改"))
    data = _contract_fields(**fields)
    plan = data.pop("plan")
    for key, value in data.items():
        setattr(contract, key, value)
    session.add(contract)
    _replace_plan(session, contract, plan)
    session.flush()
    return contract


def record_registration(
    session: Session, *, actor: User, contract: Contract, registration_no: str, registered_on: date | None
) -> Contract:
    """The office's registration number and date, once the contract is registered."""
    if not can_manage(actor, contract):
        raise NotAllowed((None, "只有卖方（成果方）或平台运营可以记录登记结果"))
    if contract.is_registered:
        raise DomainError((None, f"合同已登记（{contract.registration_no}）"))
    errors = []
    number = (registration_no or "").strip()
    if not 4 <= len(number) <= 40:
        errors.append(("registration_no", "请填写认定登记号（4–40 个字符）"))
    if registered_on is None:
        errors.append(("registered_on", "请填写登记日期"))
    elif registered_on > date.today() or registered_on < contract.signed_on:
        errors.append(("registered_on", "登记日期应在签订日期之后、今天之前"))
    missing = party_problems(
        seller_uscc=contract.seller_uscc,
        buyer_uscc=contract.buyer_uscc,
        seller_region_code=contract.seller_region_code,
        buyer_region_code=contract.buyer_region_code,
    )
    if missing:
        errors.append((None, "请先填写并校验双方的统一社会信用代码和行政区划代码"))
    if errors:
        raise DomainError(*errors)
    if session.exec(select(Contract.id).where(Contract.registration_no == number)).first():
        raise DomainError(("registration_no", "该认定登记号已被另一份合同使用"))
    contract.registration_no, contract.registered_on = number, registered_on
    session.add(contract)
    session.flush()
    return contract


def instalments(session: Session, contract_id: int) -> list[ContractInstalment]:
    return list(
        session.exec(
            select(ContractInstalment)
            .where(ContractInstalment.contract_id == contract_id)
            .order_by(ContractInstalment.seq)
        ).all()
    )


def mark_paid(
    session: Session, *, actor: User, contract: Contract, instalment: ContractInstalment, paid_on: date | None
) -> ContractInstalment:
    """Record a receipt against an instalment (once)."""
    if not can_manage(actor, contract):
        raise NotAllowed((None, "只有卖方（成果方）或平台运营可以记录收款"))
    if instalment.contract_id != contract.id:
        raise DomainError((None, "分期不属于该合同"))
    if instalment.paid_on is not None:
        raise DomainError((None, f"第 {instalment.seq} 期已于 {instalment.paid_on} 收款"))
    paid_on = paid_on or date.today()
    if paid_on > date.today():
        raise DomainError(("paid_on", "收款日期不能晚于今天"))
    instalment.paid_on, instalment.paid_recorded_by_id = paid_on, actor.id
    session.add(instalment)
    session.flush()
    return instalment


def export_rows(session: Session, *, org_id: int | None = None) -> list[list]:
    """One row per contract in EXPORT_COLUMNS order (an organisation's own, or all for admins)."""
    seller, buyer = sa.orm.aliased(Organization), sa.orm.aliased(Organization)
    paid = (
        select(sa.func.coalesce(sa.func.sum(ContractInstalment.amount_wan), 0))
        .where(ContractInstalment.contract_id == Contract.id, ContractInstalment.paid_on.is_not(None))
        .scalar_subquery()
    )
    stmt = (
        select(Contract, seller.name, buyer.name, paid, TradeDeal.route)
        .join(seller, seller.id == Contract.seller_org_id)
        .join(buyer, buyer.id == Contract.buyer_org_id)
        .join(TradeDeal, TradeDeal.id == Contract.deal_id, isouter=True)
        .order_by(Contract.signed_on, Contract.id)
    )
    if org_id is not None:
        stmt = stmt.where(sa.or_(Contract.seller_org_id == org_id, Contract.buyer_org_id == org_id))
    rows = []
    for c, seller_name, buyer_name, paid_wan, route in session.exec(stmt).all():
        rows.append(
            [
                c.registration_no or "",
                c.registered_on,
                c.id,
                c.title or "",
                c.contract_type,
                c.signed_on,
                seller_name,
                c.seller_uscc or "",
                c.seller_region_code or "",
                buyer_name,
                c.buyer_uscc or "",
                c.buyer_region_code or "",
                float(c.amount_wan),
                float(c.non_tech_cost_wan) if c.non_tech_cost_wan is not None else None,
                float(c.tech_amount_wan),
                float(paid_wan or 0),
                route or "供需对接",
            ]
        )
    return rows


def export_xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "技术合同登记"
    ws.append(list(EXPORT_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for i, width in enumerate((16, 12, 8, 40, 14, 12, 28, 22, 12, 28, 22, 12, 12, 12, 12, 12, 18), start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
