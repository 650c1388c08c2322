"""Contract rules: amounts, the signed match, the PDF attachment and who may read it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import Response
from sqlmodel import Session

from market import links
from market.accounts.models import User
from market.deals.credit import credited_agent_id
from market.deals.models import Contract
from market.errors import DomainError, NotAllowed
from market.listings import service as listings
from market.matches import service as matches
from market.matches.models import Match
from market.notifications.service import members_of, notify
from market.security import file_name_problem
from market.storage import StorageError, new_key, stage, storage
from vocab.taxonomy import ContractType, ListingStatus, Role, values
from vocab.values import MAX_WAN, format_wan

MAX_PDF_BYTES = 10 * 1024 * 1024


def check_pdf(data: bytes) -> None:
    """A PDF by content (not by name or declared type), within the size limit."""
    if len(data) > MAX_PDF_BYTES:
        raise DomainError(("pdf", f"合同文件不能超过 {MAX_PDF_BYTES // 1024 // 1024} MB"))
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise DomainError(("pdf", "合同文件必须是 PDF（按文件内容检查）"))


def _amount(value, field: str, label: str) -> float:
    try:
        amount = round(float(value), 2)
    except (TypeError, ValueError):
        raise DomainError((field, f"请填写{label}（万元）")) from None
    if amount < 0 or amount > MAX_WAN:
        raise DomainError((field, f"{label}应在 0 到 {format_wan(MAX_WAN)}之间"))
    return amount


def record_contract(
    session: Session,
    *,
    actor: User,
    match: Match,
    contract_type: str,
    amount_wan,
    tech_amount_wan,
    signed_on: date | None,
    pdf: bytes | None = None,
    pdf_name: str | None = None,
    close_listings: bool = False,
) -> Contract:
    """Record the signed contract of a match and mark the match 已签约 (the contract is required)."""
    errors: list[tuple[str, str]] = []
    if contract_type not in values(ContractType):
        errors.append(("contract_type", "请选择合同类型（技术开发、转让、许可、咨询、服务）"))
    try:
        amount = _amount(amount_wan, "amount_wan", "合同金额")
        tech = _amount(tech_amount_wan, "tech_amount_wan", "技术交易额")
        if tech > amount:
            errors.append(("tech_amount_wan", "技术交易额不能大于合同金额"))
        if amount == 0:
            errors.append(("amount_wan", "合同金额应大于 0"))
    except DomainError as exc:
        errors.extend(exc.errors)
    if signed_on is None:
        errors.append(("signed_on", "请填写签订日期"))
    elif signed_on > date.today():
        errors.append(("signed_on", "签订日期不能晚于今天"))
    if pdf:
        try:
            check_pdf(pdf)
        except DomainError as exc:
            errors.extend(exc.errors)
        problem = file_name_problem(pdf_name)
        if problem:
            errors.append(("pdf", f"合同{problem}"))
    if errors:
        raise DomainError(*errors)

    result, need = matches.pair(session, match)
    matches.mark_signed(session, actor=actor, match=match)
    contract = Contract(
        match_id=match.id,
        result_id=result.id,
        need_id=need.id,
        seller_org_id=result.organization_id,
        buyer_org_id=need.organization_id,
        agent_id=credited_agent_id(match),
        recorded_by_id=actor.id,
        contract_type=contract_type,
        amount_wan=amount,
        tech_amount_wan=tech,
        signed_on=signed_on,
        title=f"{result.title} ↔ {need.title}"[:200],
    )
    if pdf:
        contract.pdf_path, contract.pdf_size = stage_pdf(session, pdf), len(pdf)
        contract.pdf_name = (Path(pdf_name or "contract.pdf").name or "contract.pdf")[:200]
    session.add(contract)
    session.flush()
    if close_listings:
        for listing in (result, need):
            if listing.status == ListingStatus.PUBLISHED:
                listings.close(session, actor=None, listing=listing, reason=f"签订技术合同 #{contract.id}")
    notify(
        session,
        user_ids=[*members_of(session, result.organization_id), *members_of(session, need.organization_id)],
        message=f"技术合同已登记：{contract.title}（{contract_type}，合同金额 {format_wan(amount)}）",
        link=links.contract(contract.id),
    )
    return contract


def stage_pdf(session: Session, data: bytes) -> str:
    """Keep a contract PDF with the transaction that records it (see `market.storage.stage`) and
    return its file name."""
    key = new_key("contracts", ".pdf")
    try:
        stage(session, key, data)
    except StorageError:
        raise DomainError(("pdf", "合同文件保存失败（服务器存储不可用），请稍后重试")) from None
    return key.rsplit("/", 1)[1]


def has_contract(session: Session, match_id: int) -> bool:
    """Whether a contract is recorded for the match (the unique constraint allows one)."""
    return session.exec(sa.select(Contract.id).where(Contract.match_id == match_id)).first() is not None


def can_read_contract(user, contract: Contract) -> bool:
    """The two parties, the credited agent, the recorder and admins."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.ADMIN or user.id in (contract.agent_id, contract.recorded_by_id):
        return True
    return user.organization_id in (contract.seller_org_id, contract.buyer_org_id)


def pdf_bytes(contract: Contract) -> bytes | None:
    """The contract's PDF, or None when it has none."""
    return storage().read(f"contracts/{contract.pdf_path}") if contract.pdf_path else None


def pdf_response(contract: Contract) -> Response | None:
    """The contract's PDF as a download, or None when it has none."""
    if not contract.pdf_path:
        return None
    return storage().response(
        f"contracts/{contract.pdf_path}",
        mimetype="application/pdf",
        download_name=contract.pdf_name or f"contract-{contract.id}.pdf",
    )


def require_reader(user, contract: Contract | None) -> Contract:
    if contract is None or not can_read_contract(user, contract):
        raise NotAllowed((None, "无权查看该合同"))
    return contract
