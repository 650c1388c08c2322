"""Messages on an introduced match: send (text, optional PDF / Word / Excel attachment through
`market.storage`), list, mark read, count unread, report to the platform."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Response, g
from flask_login import current_user
from sqlmodel import Session, func, select

from market import links
from market.accounts.models import User
from market.errors import DomainError, NotAllowed
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match
from market.matches.queries import Row
from market.messages import permissions
from market.messages.models import Message, MessageRead, ThreadReport
from market.notices.service import sniff
from market.notifications.models import Notification
from market.notifications.service import members_of, notify
from market.security import file_name_problem
from market.storage import StorageError, new_key, stage, storage
from vocab.taxonomy import Role

MAX_BODY = 5000
MAX_FILE_BYTES = 10 * 1024 * 1024


def reported(session: Session, match_id: int) -> bool:
    return session.exec(select(ThreadReport.id).where(ThreadReport.match_id == match_id)).first() is not None


def thread(session: Session, match_id: int) -> list[tuple[Message, User]]:
    return [
        tuple(r)
        for r in session.exec(
            select(Message, User)
            .join(User, User.id == Message.sender_id)
            .where(Message.match_id == match_id)
            .order_by(Message.id)
        ).all()
    ]


def send(
    session: Session, *, actor: User, row: Row, body: str | None, data: bytes = b"", name: str | None = None
) -> Message:
    """A message from one side to the other; the other side is notified (and mailed when mail is on)."""
    side = permissions.side_of(actor, row)
    if not permissions.is_open(row) or side is None:
        raise NotAllowed((None, "只有经纪人已对接的双方可以在此对接中发消息"))
    text = (body or "").strip()
    if not text and not data:
        raise DomainError(("body", "请填写消息内容或选择附件"))
    if len(text) > MAX_BODY:
        raise DomainError(("body", f"消息最多 {MAX_BODY} 个字"))
    message = Message(
        match_id=row.match.id, sender_id=actor.id, sender_org_id=actor.organization_id, body=text
    )
    if data:
        if len(data) > MAX_FILE_BYTES:
            raise DomainError(("attachment", f"附件不能超过 {MAX_FILE_BYTES // 1024 // 1024} MB"))
        problem = file_name_problem(name)
        if problem:
            raise DomainError(("attachment", f"附件{problem}"))
        found = sniff(data)
        if found is None:
            raise DomainError(
                ("attachment", "附件只能是 PDF、Word（.docx）或 Excel（.xlsx），按文件内容检查")
            )
        suffix, mimetype = found
        key = new_key("messages", suffix)
        try:
            stage(session, key, data)
        except StorageError:
            raise DomainError(("attachment", "附件保存失败（服务器存储不可用），请稍后重试")) from None
        stem = Path(name or "附件").stem[:150] or "附件"
        message.file_key, message.file_name = key, f"{stem}{suffix}"
        message.file_mimetype, message.file_size = mimetype, len(data)
    session.add(message)
    session.flush()
    mark_read(session, user_id=actor.id, match_id=row.match.id)
    other_org = row.need.organization_id if side == "result" else row.result.organization_id
    me = row.result_org.name if side == "result" else row.need_org.name
    notify(
        session,
        user_ids=members_of(session, other_org),
        message=f"{me} 在对接“{row.result.title} ↔ {row.need.title}”中给你们发来消息"
        + (f"：{text[:60]}" if text else "（附件）"),
        link=links.messages(row.match.id),
    )
    return message


def mark_read(session: Session, *, user_id: int, match_id: int) -> None:
    newest = session.exec(select(func.max(Message.id)).where(Message.match_id == match_id)).one() or 0
    mark = session.get(MessageRead, (match_id, user_id))
    if mark is None:
        session.add(MessageRead(match_id=match_id, user_id=user_id, last_read_id=newest))
    elif mark.last_read_id < newest:
        mark.last_read_id = newest
        session.add(mark)
    session.flush()


def _my_matches(session: Session, user: User):
    """The introduced matches whose thread the user is a side of."""
    from_result = user.role == Role.UNIVERSITY
    model = ResearchResult if from_result else TechNeed
    column = Match.result_id if from_result else Match.need_id
    return (
        select(Match.id)
        .join(model, model.id == column)
        .where(Match.introduced_at.is_not(None), model.organization_id == user.organization_id)
    )


def inbox(session: Session, user: User) -> list[tuple[int, int, int]]:
    """(match id, messages, unread) for each thread the user is a side of, most recent first."""
    if user.role not in (Role.UNIVERSITY, Role.ENTERPRISE) or user.organization_id is None:
        return []
    ids = _my_matches(session, user)
    read = (
        select(MessageRead.match_id, MessageRead.last_read_id)
        .where(MessageRead.user_id == user.id)
        .subquery()
    )
    rows = session.exec(
        select(
            Message.match_id,
            func.count(Message.id),
            func.sum(_unread(read, user.id)),
            func.max(Message.id),
        )
        .outerjoin(read, read.c.match_id == Message.match_id)
        .where(Message.match_id.in_(ids))
        .group_by(Message.match_id)
        .order_by(func.max(Message.id).desc())
    ).all()
    return [(m, n, int(u or 0)) for m, n, u, _last in rows]


def _unread(read, user_id: int):
    """1 for a message the user has not read (their own messages never count), else 0."""
    return sa.case(
        ((Message.id > sa.func.coalesce(read.c.last_read_id, 0)) & (Message.sender_id != user_id), 1),
        else_=0,
    )


def unread_count(session: Session, user: User) -> int:
    return sum(u for _m, _n, u in inbox(session, user))


def unread_for_current_user(session: Session) -> int:
    if not current_user.is_authenticated:
        return 0
    return unread_count(session, current_user)


def unread_threads(user: User):
    """The number of the user's threads with a message they have not read, as a scalar subquery."""
    read = sa.orm.aliased(MessageRead)
    return (
        select(func.count(func.distinct(Message.match_id)))
        .outerjoin(read, (read.match_id == Message.match_id) & (read.user_id == user.id))
        .where(
            Message.match_id.in_(_my_matches(None, user)),
            Message.sender_id != user.id,
            Message.id > func.coalesce(read.last_read_id, 0),
        )
        .scalar_subquery()
    )


def unread_badge(session: Session, user: User) -> tuple[int, int]:
    """(unread notifications, threads with unread messages) for the navigation bar's badge, in one
    statement; only the two sides of introduced matches have threads."""
    notifications = (
        select(func.count(Notification.id))
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    has_threads = user.role in (Role.UNIVERSITY, Role.ENTERPRISE) and user.organization_id is not None
    threads = unread_threads(user) if has_threads else sa.literal(0)
    row = session.exec(select(notifications, threads)).one()
    return int(row[0] or 0), int(row[1] or 0)


def badge_for_current_user(session: Session) -> tuple[int, int]:
    """(notifications, threads) unread by the signed-in user; (0, 0) for a visitor, with no query."""
    if not current_user.is_authenticated:
        return 0, 0
    if "unread_badge" not in g:  # once per request, however many places on the page show it
        g.unread_badge = unread_badge(session, current_user)
    return g.unread_badge


def report(session: Session, *, actor: User, row: Row, reason: str | None) -> ThreadReport:
    """A side reports the thread: administrators are told and may read it from now on."""
    if not permissions.can_write(actor, row):
        raise NotAllowed((None, "只有对接双方可以举报此对话"))
    text = (reason or "").strip()
    if len(text) < 2:
        raise DomainError(("reason", "请说明举报原因"))
    row_ = ThreadReport(match_id=row.match.id, reporter_id=actor.id, reason=text[:500])
    session.add(row_)
    session.flush()
    admins = session.exec(select(User.id).where(User.role == Role.ADMIN, User.active)).all()
    notify(
        session, user_ids=admins, message=f"对接对话被举报：{text[:80]}", link=links.messages(row.match.id)
    )
    return row_


def download(message: Message) -> Response | None:
    if not message.file_key:
        return None
    return storage().response(
        message.file_key, mimetype=message.file_mimetype, download_name=message.file_name
    )
