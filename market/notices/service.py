"""Notice rules: drafting, publish / withdraw (a TRANSITIONS table), attachments through
`market.storage` with content checks, and the public reads."""

from __future__ import annotations

import zipfile
from datetime import date
from io import BytesIO
from pathlib import Path

from flask import Response
from sqlmodel import Session, func, select

from market.accounts.models import User
from market.db import utcnow
from market.errors import DomainError, NotAllowed
from market.notices.models import Notice, NoticeAttachment
from market.security import file_name_problem
from market.storage import StorageError, new_key, stage, storage
from vocab.taxonomy import Role

KINDS = ("公告", "政策")
DRAFT, PUBLISHED, WITHDRAWN = "草稿", "已发布", "已撤回"
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "publish": ((DRAFT, WITHDRAWN), PUBLISHED),
    "withdraw": ((PUBLISHED,), WITHDRAWN),
}
MAX_BODY = 20_000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
#: kinds of attachment, recognised by content: (suffix, mimetype)
PDF = (".pdf", "application/pdf")
DOCX = (".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PER_PAGE = 20


def _admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise NotAllowed((None, "只有平台运营可以管理公告"))


def _check(*, kind: str, title: str, body_md: str, issued_on: date | None) -> list[tuple[str, str]]:
    errors = []
    if kind not in KINDS:
        errors.append(("kind", "请选择类型：公告或政策"))
    if not title:
        errors.append(("title", "请填写标题"))
    elif len(title) > 120:
        errors.append(("title", "标题不能超过 120 字"))
    if not body_md:
        errors.append(("body_md", "请填写正文"))
    elif len(body_md) > MAX_BODY:
        errors.append(("body_md", f"正文不能超过 {MAX_BODY} 字"))
    if issued_on is not None and issued_on > date.today():
        errors.append(("issued_on", "发文日期不能晚于今天"))
    return errors


def save(
    session: Session,
    *,
    actor: User,
    notice: Notice | None,
    kind: str,
    title: str,
    body_md: str,
    issued_on: date | None,
) -> Notice:
    """Create or edit a notice (a published one changes in place and keeps its publication date)."""
    _admin(actor)
    title, body_md = (title or "").strip(), (body_md or "").strip()
    errors = _check(kind=kind, title=title, body_md=body_md, issued_on=issued_on)
    if errors:
        raise DomainError(*errors)
    notice = notice or Notice(created_by_id=actor.id, title=title, body_md=body_md)
    notice.kind, notice.title, notice.body_md, notice.issued_on = kind, title, body_md, issued_on
    notice.updated_at = utcnow()
    session.add(notice)
    session.flush()
    return notice


def move(session: Session, *, actor: User, notice: Notice, action: str) -> Notice:
    """publish / withdraw, by the TRANSITIONS table."""
    _admin(actor)
    allowed, to = TRANSITIONS[action]
    if notice.status not in allowed:
        raise DomainError((None, f"当前状态“{notice.status}”不能执行该操作"))
    notice.status = to
    now = utcnow()
    if to == PUBLISHED:
        notice.published_at = notice.published_at or now
        notice.withdrawn_at = None
    else:
        notice.withdrawn_at = now
    notice.updated_at = now
    session.add(notice)
    session.flush()
    return notice


def sniff(data: bytes) -> tuple[str, str] | None:
    """(suffix, mimetype) of a PDF, DOCX or XLSX by its content, else None."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return DOCX
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX
    return None


def attach(
    session: Session, *, actor: User, notice: Notice, data: bytes, name: str | None
) -> NoticeAttachment:
    """Attach a PDF, DOCX or XLSX (checked by content, at most 10 MB); the file exists when the row does."""
    _admin(actor)
    if not data:
        raise DomainError(("attachment", "请选择要上传的附件"))
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(("attachment", f"附件不能超过 {MAX_FILE_BYTES // 1024 // 1024} MB"))
    problem = file_name_problem(name)
    if problem:
        raise DomainError(("attachment", f"附件{problem}"))
    found = sniff(data)
    if found is None:
        raise DomainError(("attachment", "附件只能是 PDF、Word（.docx）或 Excel（.xlsx），按文件内容检查"))
    count = session.exec(
        select(func.count(NoticeAttachment.id)).where(NoticeAttachment.notice_id == notice.id)
    )
    if count.one() >= MAX_FILES:
        raise DomainError(("attachment", f"每条公告最多 {MAX_FILES} 个附件"))
    suffix, mimetype = found
    key = new_key("notices", suffix)
    try:
        stage(session, key, data)
    except StorageError:
        raise DomainError(("attachment", "附件保存失败（服务器存储不可用），请稍后重试")) from None
    stem = Path(name or "附件").stem[:150] or "附件"
    att = NoticeAttachment(
        notice_id=notice.id, key=key, name=f"{stem}{suffix}", mimetype=mimetype, size=len(data)
    )
    session.add(att)
    session.flush()
    return att


def is_public(notice: Notice) -> bool:
    return notice.status == PUBLISHED


def can_read(user, notice: Notice) -> bool:
    """Published notices are public; drafts and withdrawn ones are for administrators."""
    return is_public(notice) or (getattr(user, "is_authenticated", False) and user.role == Role.ADMIN)


def published(session: Session, *, page: int = 1, per_page: int = PER_PAGE, kind: str | None = None):
    """(notices on the page, total), newest publication first."""
    stmt = select(Notice).where(Notice.status == PUBLISHED)
    if kind:
        stmt = stmt.where(Notice.kind == kind)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(Notice.published_at.desc(), Notice.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), int(total)


def latest(session: Session, n: int = 5) -> list[Notice]:
    return published(session, per_page=n)[0]


def everything(session: Session) -> list[Notice]:
    return list(session.exec(select(Notice).order_by(Notice.updated_at.desc(), Notice.id.desc())).all())


def attachments(session: Session, notice_id: int) -> list[NoticeAttachment]:
    return list(
        session.exec(
            select(NoticeAttachment)
            .where(NoticeAttachment.notice_id == notice_id)
            .order_by(NoticeAttachment.id)
        ).all()
    )


def download(att: NoticeAttachment) -> Response:
    return storage().response(att.key, mimetype=att.mimetype, download_name=att.name)
