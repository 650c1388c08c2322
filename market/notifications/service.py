"""Notifications: write, count, list, mark read; and the optional e-mail hook."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, has_app_context
from flask_login import current_user
from sqlmodel import Session, func, select, update

from market.accounts.models import User
from market.db import db, utcnow
from market.mail.service import SITE_NAME, queue_mail
from market.notifications.models import Notification


def notify(
    session: Session, *, user_ids: Iterable[int], message: str, link: str | None = None
) -> list[Notification]:
    """Queue an in-site notification for each user (once per user)."""
    out = []
    for user_id in dict.fromkeys(user_ids):
        note = Notification(user_id=user_id, message=message[:500], link=link)
        session.add(note)
        out.append(note)
    session.flush()
    if has_app_context() and current_app.config.get("MAIL_URL"):
        for user_id, email in session.exec(
            select(User.id, User.email).where(User.id.in_([n.user_id for n in out]))
        ):
            note = next(n for n in out if n.user_id == user_id)
            link = f"\n\n{_absolute(note.link)}" if note.link else ""
            queue_mail(session, to=email, subject=f"{SITE_NAME}通知", body=note.message + link)
    return out


def _absolute(link: str) -> str:
    base = str(current_app.config.get("SITE_URL") or "").rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else link


def members_of(session: Session, org_id: int) -> list[int]:
    """Active users of an organisation."""
    return list(session.exec(select(User.id).where(User.organization_id == org_id, User.active)).all())


def unread_count(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).one()


def recent(session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        ).all()
    )


def mark_all_read(session: Session, user_id: int) -> int:
    result = session.exec(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0


def unread_for_current_user() -> int:
    """The unread count in the navigation bar (a template global)."""
    if not current_user.is_authenticated:
        return 0
    return unread_count(db(), current_user.id)
