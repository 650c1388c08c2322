"""Verification rules: the code is checked (GB 32100-2015), the certificate by its content; one open
application per organisation; an administrator decides after confirming, with a written reason on
refusal; the organisation's members are told either way (in-site, and by mail when it is configured)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session, func, or_, select
from stdnum.cn import uscc as _uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from market import links
from market.accounts.models import Organization, User
from market.accounts.service import set_verified
from market.db import utcnow
from market.errors import ConflictError, DomainError, NotAllowed
from market.notifications.service import members_of, notify
from market.security import file_name_problem
from market.storage import StorageError, new_key, stage
from market.verification import permissions as perm
from market.verification.models import APPROVED, DOCUMENT_KINDS, PENDING, REFUSED, STATUSES, OrgVerification
from vocab.taxonomy import Role

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MIN_REASON = 4
PDF = ("application/pdf", ".pdf")
JPEG = ("image/jpeg", ".jpg")
PNG = ("image/png", ".png")


def normalize_credit_code(raw: str | None) -> str:
    """The 18-character 统一社会信用代码 in capitals, or DomainError naming what is wrong."""
    text = "".join((raw or "").split()).upper()
    if not text:
        raise DomainError(("credit_code", "请填写统一社会信用代码（18 位，见营业执照或事业单位法人证书）"))
    try:
        return _uscc.validate(text)
    except InvalidLength:
        raise DomainError(("credit_code", f"统一社会信用代码应为 18 位（现为 {len(text)} 位）")) from None
    except InvalidChecksum:
        raise DomainError(
            ("credit_code", "统一社会信用代码最后一位校验码不正确（GB 32100-2015），请逐位核对")
        ) from None
    except (InvalidFormat, InvalidComponent):
        raise DomainError(
            (
                "credit_code",
                "统一社会信用代码含有不允许的字符（不使用 I、O、Z、S、V）或登记管理部门代码不正确",
            )
        ) from None


def sniff_document(data: bytes) -> tuple[str, str]:
    """(mimetype, suffix) of a certificate scan by its content: PDF, JPEG or PNG; else DomainError."""
    if not data:
        raise DomainError(("document", "请上传营业执照或事业单位法人证书的扫描件（文件是空的）"))
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DomainError(("document", f"文件不能超过 {MAX_DOCUMENT_BYTES // 1024 // 1024} MB"))
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return PDF
    if data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
                kind = image.format
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            kind = None
        if kind == "JPEG":
            return JPEG
        if kind == "PNG":
            return PNG
    raise DomainError(("document", "只接受 PDF、JPG 或 PNG 格式的扫描件（按文件内容检查，不看扩展名）"))


def open_request(session: Session, org_id: int) -> OrgVerification | None:
    return session.exec(
        select(OrgVerification).where(
            OrgVerification.organization_id == org_id, OrgVerification.status == PENDING
        )
    ).first()


def latest(session: Session, org_id: int) -> OrgVerification | None:
    return session.exec(
        select(OrgVerification)
        .where(OrgVerification.organization_id == org_id)
        .order_by(OrgVerification.created_at.desc(), OrgVerification.id.desc())
    ).first()


def apply(
    session: Session,
    *,
    actor: User,
    credit_code: str | None,
    document_kind: str | None,
    name: str | None,
    data: bytes | None,
) -> OrgVerification:
    """A member applies for their organisation's verification; every problem is reported at once."""
    if not perm.can_apply(actor):
        raise NotAllowed((None, "只有机构成员可以申请机构认证"))
    org = session.get(Organization, actor.organization_id)
    if org.verified:
        raise DomainError((None, f"“{org.name}”已通过认证，无需再次申请"))
    if open_request(session, org.id) is not None:
        raise ConflictError((None, "本机构已有一份待审核的认证申请，请等待平台运营处理"))
    errors: list[tuple[str, str]] = []
    code = None
    try:
        code = normalize_credit_code(credit_code)
    except DomainError as exc:
        errors.extend(exc.errors)
    if document_kind not in DOCUMENT_KINDS:
        errors.append(("document_kind", "请选择证件类型：营业执照或事业单位法人证书"))
    mimetype = suffix = None
    try:
        mimetype, suffix = sniff_document(data or b"")
    except DomainError as exc:
        errors.extend(exc.errors)
    problem = file_name_problem(name)
    if problem:
        errors.append(("document", problem))
    if code and not errors:
        taken = session.exec(
            select(Organization).where(Organization.credit_code == code, Organization.id != org.id)
        ).first()
        if taken is not None:
            errors.append(
                ("credit_code", "该统一社会信用代码已由平台上的另一家机构认证，请核对或联系平台运营")
            )
    if errors:
        raise DomainError(*errors)
    key = new_key("verifications", suffix)
    try:
        stage(session, key, data)
    except StorageError:
        raise DomainError(("document", "文件暂时无法保存，请稍后重试")) from None
    row = OrgVerification(
        organization_id=org.id,
        submitted_by_id=actor.id,
        credit_code=code,
        document_kind=document_kind,
        document_key=key,
        document_mimetype=mimetype,
        document_name=(name or f"证件{suffix}").strip()[:200],
        document_bytes=len(data),
    )
    session.add(row)
    session.flush()
    admins = session.exec(select(User.id).where(User.role == Role.ADMIN, User.active)).all()
    notify(
        session,
        user_ids=admins,
        message=f"新的机构认证申请：{org.name}（{document_kind}）",
        link=links.verification_review(row.id),
    )
    return row


def decide(
    session: Session, *, actor: User, request: OrgVerification, approve: bool, reason: str | None = None
) -> OrgVerification:
    """An administrator approves (the organisation becomes verified and keeps the code) or refuses with
    a written reason; the organisation's members are told either way."""
    if not perm.can_decide(actor):
        raise NotAllowed((None, "只有平台运营可以审核机构认证"))
    if request.status != PENDING:
        raise ConflictError((None, f"该申请已处理（{request.status}），不能重复审核"))
    reason = " ".join((reason or "").split()) or None
    if not approve and (reason is None or len(reason) < MIN_REASON):
        raise DomainError(("reason", f"不通过时请写明原因（至少 {MIN_REASON} 个字），申请人将看到它"))
    if reason and len(reason) > 500:
        raise DomainError(("reason", "原因不能超过 500 个字"))
    org = session.get(Organization, request.organization_id)
    request.status = APPROVED if approve else REFUSED
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    request.reason = reason
    session.add(request)
    if approve:
        org.credit_code = request.credit_code
        set_verified(session, org=org, verified=True)
        message = f"“{org.name}”已通过机构认证，现在可以提交发布了。"
    else:
        message = f"“{org.name}”的机构认证未通过。原因：{reason}。修改后可重新提交申请。"
    session.flush()
    notify(session, user_ids=members_of(session, org.id), message=message, link=links.verification())
    return request


@dataclass
class QueueFilters:
    q: str = ""
    status: str = PENDING
    kind: str = ""

    @classmethod
    def parse(cls, args) -> QueueFilters:
        status = args.get("status", PENDING)
        return cls(
            q=" ".join((args.get("q") or "").split())[:60],
            status=status if status in (*STATUSES, "全部") else PENDING,
            kind=(args.get("kind") or "")[:20],
        )


QUEUE_LIMIT = 200


def queue(session: Session, filters: QueueFilters) -> list[tuple[OrgVerification, Organization, User]]:
    """Applications with their organisation and applicant: oldest first while pending, else newest."""
    stmt = (
        select(OrgVerification, Organization, User)
        .join(Organization, Organization.id == OrgVerification.organization_id)
        .join(User, User.id == OrgVerification.submitted_by_id)
    )
    if filters.status != "全部":
        stmt = stmt.where(OrgVerification.status == filters.status)
    if filters.kind:
        stmt = stmt.where(Organization.kind == filters.kind)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Organization.name).like(like),
                func.lower(OrgVerification.credit_code).like(like),
                func.lower(User.email).like(like),
            )
        )
    order = (
        OrgVerification.created_at.asc() if filters.status == PENDING else OrgVerification.created_at.desc()
    )
    return list(session.exec(stmt.order_by(order, OrgVerification.id).limit(QUEUE_LIMIT)).all())


def counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(OrgVerification.status, func.count()).group_by(OrgVerification.status)).all()
    return {status: n for status, n in rows}


def history(session: Session, org_id: int) -> list[OrgVerification]:
    """An organisation's applications, newest first."""
    return list(
        session.exec(
            select(OrgVerification)
            .where(OrgVerification.organization_id == org_id)
            .order_by(OrgVerification.created_at.desc(), OrgVerification.id.desc())
        ).all()
    )
