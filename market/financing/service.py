"""Financing rules (成果融资): requests and their review, the data room, NDAs, views, investor profiles.

The platform introduces and records; it never holds or pools money.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from sqlmodel import Session, select

from market import links
from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import ConflictError, DomainError, NotAllowed
from market.financing import permissions as perm
from market.financing.models import (
    DataRoomFile,
    DataRoomView,
    FinancingEvent,
    FinancingRequest,
    InvestorProfile,
    NdaAcceptance,
)
from market.listings.lifecycle import TRANSITIONS
from market.listings.models import ResearchResult
from market.notifications.service import members_of, notify
from market.security import file_name_problem
from market.storage import StorageError, new_key, stage, storage
from vocab.taxonomy import FinancingStage, Instrument, ListingStatus, Role, is_field, values
from vocab.values import MAX_WAN, format_wan

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 30
CATEGORIES = ("商业计划书", "财务报表", "其他资料")
DEFAULT_NDA = (
    "本人代表所在投资机构承诺：对数据室中的商业计划书、财务资料及其他非公开信息严格保密，仅用于评估本项目的投资可能，"
    "不向任何第三方披露，不用于其他目的；评估结束或应融资方要求时删除已下载的资料。本承诺自点击接受之时起生效。"
)

#: content type by what the bytes are (not by name or declared type)
_OFFICE = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
}


def sniff(data: bytes) -> tuple[str, str]:
    """(mimetype, suffix) of a data-room file by its content: PDF, or an Office Open XML document.
    Anything else is refused."""
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(("file", f"单个文件不能超过 {MAX_FILE_BYTES // 1024 // 1024} MB"))
    if not data:
        raise DomainError(("file", "文件是空的"))
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return "application/pdf", ".pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, ValueError):
            names = []
        if "[Content_Types].xml" in names:
            for prefix, kind in _OFFICE.items():
                if any(n.startswith(prefix) for n in names):
                    return kind
    raise DomainError(("file", "数据室只接受 PDF、Word、Excel 或 PowerPoint 文件（按文件内容检查）"))


def _clean(text: str | None, limit: int | None = None) -> str | None:
    text = (text or "").strip()
    if limit and len(text) > limit:
        raise DomainError((None, f"内容不能超过 {limit} 个字"))
    return text or None


def _validate(data: dict) -> dict:
    errors: list[tuple[str, str]] = []
    title = (data.get("title") or "").strip()
    if not title:
        errors.append(("title", "请填写项目名称"))
    elif len(title) > 200:
        errors.append(("title", "项目名称不能超过 200 个字"))
    summary = (data.get("summary") or "").strip()
    if len(summary) < 20:
        errors.append(("summary", "公开摘要至少 20 个字：做什么、市场、进展（不要写保密内容）"))
    try:
        amount = round(float(data.get("amount_wan")), 2)
        if not 0 < amount <= MAX_WAN:
            errors.append(("amount_wan", f"融资金额应大于 0 且不超过 {format_wan(MAX_WAN)}"))
    except (TypeError, ValueError):
        amount = None
        errors.append(("amount_wan", "请填写融资金额（万元，数字）"))
    if data.get("instrument") not in values(Instrument):
        errors.append(("instrument", "请选择融资方式：股权、债权、可转债或其他"))
    if data.get("stage") not in values(FinancingStage):
        errors.append(("stage", "请选择融资阶段"))
    field = data.get("field") or None
    if field and not is_field(field):
        errors.append(("field", "请选择规划中的二级技术领域"))
    nda = (data.get("nda_text") or "").strip() or DEFAULT_NDA
    if len(nda) > 5000:
        errors.append(("nda_text", "保密协议不能超过 5000 个字"))
    if errors:
        raise DomainError(*errors)
    return {
        "title": title,
        "summary": summary,
        "amount_wan": amount,
        "instrument": data["instrument"],
        "stage": data["stage"],
        "field": field,
        "use_of_funds": (data.get("use_of_funds") or "").strip() or None,
        "valuation_basis": (data.get("valuation_basis") or "").strip() or None,
        "team": (data.get("team") or "").strip() or None,
        "nda_text": nda,
    }


def _linked_results(session: Session, org_id: int, ids) -> list[int]:
    """Linked results must be the organisation's own."""
    out = []
    for raw in ids or []:
        try:
            rid = int(raw)
        except (TypeError, ValueError):
            continue
        result = session.get(ResearchResult, rid)
        if result is None or result.organization_id != org_id:
            raise DomainError(("result_ids", "只能关联本机构的科技成果"))
        out.append(rid)
    return sorted(set(out))


def create_request(session: Session, *, actor: User, data: dict) -> FinancingRequest:
    """A new financing request, as a draft of the actor's organisation."""
    if not perm.can_create(actor):
        raise NotAllowed((None, "只有成果方和企业可以发布融资需求"))
    clean = _validate(data)
    request = FinancingRequest(
        organization_id=actor.organization_id,
        created_by_id=actor.id,
        result_ids=_linked_results(session, actor.organization_id, data.get("result_ids")),
        **clean,
    )
    session.add(request)
    session.flush()
    _record(session, request, actor, "create", None, request.status)
    return request


def update_request(
    session: Session, *, actor: User, request: FinancingRequest, data: dict, version: int | None
) -> FinancingRequest:
    """Edit the owner's request; a stale version is a conflict."""
    if not perm.can_edit(actor, request):
        raise NotAllowed((None, "该融资需求当前不能编辑"))
    if version is not None and version != request.version:
        raise ConflictError((None, "融资需求已被他人修改，请刷新后重试"))
    clean = _validate(data)
    for key, value in clean.items():
        setattr(request, key, value)
    request.result_ids = _linked_results(session, request.organization_id, data.get("result_ids"))
    request.updated_at = utcnow()
    session.add(request)
    session.flush()
    _record(session, request, actor, "edit", request.status, request.status)
    return request


def _record(session, request, actor, action, from_status, to_status, reason=None) -> None:
    session.add(
        FinancingEvent(
            request_id=request.id,
            actor_id=actor.id if actor else None,
            action=action,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
        )
    )


def move(
    session: Session, *, actor: User, request: FinancingRequest, action: str, reason: str | None = None
) -> FinancingRequest:
    """The listing lifecycle (提交 → 审核 → 发布 / 退回, 下架, 成交), one table for both."""
    if action not in ("submit", "approve", "reject", "withdraw", "close"):
        raise DomainError((None, "未知操作"))
    allowed, target = TRANSITIONS[action]
    if action in ("approve", "reject"):
        if actor.role != Role.ADMIN:
            raise NotAllowed((None, "只有平台运营可以审核"))
    elif not perm.is_owner(actor, request):
        raise NotAllowed((None, "只有融资方可以操作"))
    if request.status not in allowed:
        raise ConflictError((None, f"融资需求当前为“{request.status}”，不能执行该操作"))
    reason = (reason or "").strip() or None
    if action == "reject" and not reason:
        raise DomainError(("reason", "退回时请写明原因，便于融资方修改"))
    before = request.status
    request.status = target
    request.updated_at = utcnow()
    if action == "approve":
        request.published_at = request.published_at or utcnow()
    if action == "reject":
        request.review_note = reason
    session.add(request)
    session.flush()
    _record(session, request, actor, action, before, target, reason)
    if action in ("approve", "reject"):
        message = (
            f"融资需求“{request.title}”已通过审核并发布"
            if action == "approve"
            else f"融资需求“{request.title}”被退回：{reason}"
        )
        notify(
            session,
            user_ids=members_of(session, request.organization_id),
            message=message,
            link=links.financing(request.id),
        )
    return request


def add_file(
    session: Session, *, actor: User, request: FinancingRequest, name: str | None, category: str, data: bytes
) -> DataRoomFile:
    """A document for the data room: checked by content and size, stored with the transaction."""
    if not perm.is_owner(actor, request):
        raise NotAllowed((None, "只有融资方可以上传数据室文件"))
    if category not in CATEGORIES:
        raise DomainError(("category", "请选择资料类别"))
    problem = file_name_problem(name)
    if problem:
        raise DomainError(("file", problem))
    count = len(session.exec(select(DataRoomFile.id).where(DataRoomFile.request_id == request.id)).all())
    if count >= MAX_FILES:
        raise DomainError(("file", f"数据室最多 {MAX_FILES} 个文件"))
    mimetype, suffix = sniff(data)
    key = new_key("dataroom", suffix)
    try:
        stage(session, key, data)
    except StorageError:
        raise DomainError(("file", "文件保存失败（服务器存储不可用），请稍后重试")) from None
    display = (Path(name or f"资料{suffix}").name or f"资料{suffix}")[:200]
    row = DataRoomFile(
        request_id=request.id,
        name=display,
        category=category,
        storage_key=key,
        mimetype=mimetype,
        size=len(data),
        uploaded_by_id=actor.id,
    )
    session.add(row)
    session.flush()
    return row


def accept_nda(
    session: Session, *, actor: User, request: FinancingRequest, text_hash: str, ip: str | None
) -> NdaAcceptance:
    """Record a verified investor's acceptance of the NDA text they were shown (its hash must match)."""
    org = perm.verified_investor(session, actor)
    if org is None:
        raise NotAllowed((None, "只有经平台认证的投资机构可以签署保密协议"))
    if request.status != ListingStatus.PUBLISHED:
        raise DomainError((None, "该融资需求未发布"))
    if text_hash != perm.nda_hash(request.nda_text):
        raise ConflictError((None, "保密协议内容已更新，请阅读新版本后再接受"))
    row = NdaAcceptance(
        request_id=request.id,
        user_id=actor.id,
        organization_id=org.id,
        text_hash=text_hash,
        ip_address=(ip or "")[:64] or None,
    )
    session.add(row)
    session.flush()
    notify(
        session,
        user_ids=members_of(session, request.organization_id),
        message=f"{org.name} 签署了“{request.title}”的保密协议",
        link=links.financing_views(request.id),
    )
    return row


def log_view(
    session: Session,
    *,
    actor: User,
    request: FinancingRequest,
    file: DataRoomFile | None,
    ip: str | None,
) -> None:
    """Log an opening of the room (file None) or a download by anyone but the owner's members."""
    if perm.is_owner(actor, request):
        return
    session.add(
        DataRoomView(
            request_id=request.id,
            file_id=file.id if file else None,
            user_id=actor.id,
            organization_id=actor.organization_id,
            action="download" if file else "view",
            ip_address=(ip or "")[:64] or None,
        )
    )
    session.flush()


def open_file(session: Session, *, actor: User, request: FinancingRequest, file_id: int, ip: str | None):
    """The download response of a data-room file, logged; NotAllowed unless the room is open to actor."""
    if not perm.can_open_data_room(session, actor, request):
        raise NotAllowed((None, "数据室仅对签署保密协议的认证投资机构开放"))
    file = session.get(DataRoomFile, file_id)
    if file is None or file.request_id != request.id:
        raise DomainError((None, "文件不存在"))
    log_view(session, actor=actor, request=request, file=file, ip=ip)
    return storage().response(file.storage_key, mimetype=file.mimetype, download_name=file.name)


def views_of(session: Session, request: FinancingRequest) -> list[tuple[DataRoomView, User, str, str | None]]:
    """Who looked and when (newest first): (view, user, organisation name, file name)."""
    rows = session.exec(
        select(DataRoomView, User, Organization, DataRoomFile)
        .join(User, User.id == DataRoomView.user_id)
        .join(Organization, Organization.id == DataRoomView.organization_id, isouter=True)
        .join(DataRoomFile, DataRoomFile.id == DataRoomView.file_id, isouter=True)
        .where(DataRoomView.request_id == request.id)
        .order_by(DataRoomView.created_at.desc(), DataRoomView.id.desc())
    ).all()
    return [(v, u, o.name if o else "", f.name if f else None) for v, u, o, f in rows]


def ndas_of(session: Session, request: FinancingRequest) -> list[tuple[NdaAcceptance, User, str]]:
    rows = session.exec(
        select(NdaAcceptance, User, Organization)
        .join(User, User.id == NdaAcceptance.user_id)
        .join(Organization, Organization.id == NdaAcceptance.organization_id)
        .where(NdaAcceptance.request_id == request.id)
        .order_by(NdaAcceptance.accepted_at.desc())
    ).all()
    return [(n, u, o.name) for n, u, o in rows]


def files_of(session: Session, request: FinancingRequest) -> list[DataRoomFile]:
    return list(
        session.exec(
            select(DataRoomFile).where(DataRoomFile.request_id == request.id).order_by(DataRoomFile.id)
        ).all()
    )


def save_profile(session: Session, *, actor: User, data: dict) -> InvestorProfile:
    """An investor's focus fields, stages and ticket size."""
    if actor.role != Role.INVESTOR or actor.organization_id is None:
        raise NotAllowed((None, "只有投资机构成员可以填写投资偏好"))
    errors: list[tuple[str, str]] = []
    fields = [f for f in data.get("fields") or [] if f]
    if any(not is_field(f) for f in fields):
        errors.append(("fields", "请选择规划中的二级技术领域"))
    stages = [s for s in data.get("stages") or [] if s]
    if any(s not in values(FinancingStage) for s in stages):
        errors.append(("stages", "请选择融资阶段"))
    low, high = data.get("ticket_min_wan"), data.get("ticket_max_wan")
    try:
        low = float(low) if low not in (None, "") else None
        high = float(high) if high not in (None, "") else None
        if low is not None and high is not None and low > high:
            errors.append(("ticket_max_wan", "单笔投资上限不能小于下限"))
        if (low is not None and low < 0) or (high is not None and high < 0):
            errors.append(("ticket_min_wan", "投资金额不能为负"))
    except (TypeError, ValueError):
        errors.append(("ticket_min_wan", "单笔投资金额请填写数字（万元）"))
    if errors:
        raise DomainError(*errors)
    profile = profile_of(session, actor.organization_id) or InvestorProfile(
        organization_id=actor.organization_id
    )
    profile.fields, profile.stages = sorted(set(fields)), [s for s in values(FinancingStage) if s in stages]
    profile.ticket_min_wan, profile.ticket_max_wan = low, high
    profile.thesis = (data.get("thesis") or "").strip()[:2000] or None
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    return profile


def profile_of(session: Session, org_id: int | None) -> InvestorProfile | None:
    if org_id is None:
        return None
    return session.exec(select(InvestorProfile).where(InvestorProfile.organization_id == org_id)).first()


def mine(session: Session, user: User) -> list[FinancingRequest]:
    return list(
        session.exec(
            select(FinancingRequest)
            .where(FinancingRequest.organization_id == user.organization_id)
            .order_by(FinancingRequest.id.desc())
        ).all()
    )


def published(session: Session, *, stage: str | None = None, field: str | None = None) -> list:
    query = select(FinancingRequest).where(FinancingRequest.status == ListingStatus.PUBLISHED)
    if stage:
        query = query.where(FinancingRequest.stage == stage)
    if field:
        query = query.where(FinancingRequest.field == field)
    return list(session.exec(query.order_by(FinancingRequest.published_at.desc()).limit(200)).all())


def pending_review(session: Session) -> list[FinancingRequest]:
    return list(
        session.exec(
            select(FinancingRequest)
            .where(FinancingRequest.status == ListingStatus.PENDING)
            .order_by(FinancingRequest.updated_at)
        ).all()
    )
