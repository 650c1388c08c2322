"""Notifications: write, count, list, mark read; and the optional e-mail hook."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterable
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import Flask
from sqlmodel import Session, func, select, update

from market.accounts.models import User
from market.db import utcnow
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
    pending = session.info.setdefault("mail_outbox", [])
    pending.extend((n.user_id, n.message, n.link) for n in out)
    return out


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


def send_mail_hook(app: Flask, session: Session) -> None:
    """E-mail the notifications a request created, when MAIL_HOOK (smtp://host:port) is configured.

    Off by default; runs in a thread after the response so a slow mail server never delays a page.
    """
    pending = session.info.pop("mail_outbox", None)
    url = app.config.get("MAIL_HOOK")
    if not pending or not url:
        return
    emails = dict(session.exec(select(User.id, User.email).where(User.id.in_([p[0] for p in pending]))).all())
    messages = [(emails[uid], text, link) for uid, text, link in pending if uid in emails]
    threading.Thread(
        target=_send, args=(url, app.config.get("MAIL_FROM", "noreply@localhost"), messages), daemon=True
    ).start()


def _send(url: str, sender: str, messages: list[tuple[str, str, str | None]]) -> None:
    parts = urlsplit(url)
    try:
        with smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=10) as smtp:
            for to, text, link in messages:
                msg = EmailMessage()
                msg["Subject"] = "科技成果转化交易平台通知"
                msg["From"], msg["To"] = sender, to
                msg.set_content(text + (f"\n\n{link}" if link else ""))
                smtp.send_message(msg)
    except OSError:
        pass  # the in-site notification is the record; mail is best effort


def register_notifications(app: Flask) -> None:
    """Mail only what was committed: pending mails move to "ready" on commit and are dropped on rollback."""
    import sqlalchemy as sa
    from flask import g

    @sa.event.listens_for(Session, "after_commit")
    def _ready(session) -> None:
        if session.info.get("mail_outbox"):
            session.info.setdefault("mail_ready", []).extend(session.info.pop("mail_outbox"))

    @sa.event.listens_for(Session, "after_rollback")
    def _drop(session) -> None:
        session.info.pop("mail_outbox", None)

    @app.after_request
    def _mail(response):
        session = g.get("db_session")
        if session is not None and session.info.get("mail_ready"):
            session.info["mail_outbox"] = session.info.pop("mail_ready")
            send_mail_hook(app, session)
        return response

    app.jinja_env.globals["unread_notifications"] = _unread_for_current_user


def _unread_for_current_user() -> int:
    from flask_login import current_user

    from market.db import db

    if not current_user.is_authenticated:
        return 0
    return unread_count(db(), current_user.id)
