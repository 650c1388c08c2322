"""Queue mail with the change that causes it; the worker sends it (`send_due`), retrying with back-off.

Nothing is sent from a web request, and a rolled-back change sends nothing. MAIL_URL names the server
(`smtp://host:port`, `smtps://user:password@host:465`, `smtp+starttls://…`); without it mail stays queued
and the in-site notification is the record.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, has_app_context
from sqlmodel import Session, select

from market.db import utcnow
from market.mail.models import OutgoingMail
from market.outbox import doorbell
from market.outbox.worker import tx

SITE_NAME = "科技成果转化交易平台"
MAX_ATTEMPTS = 8


def queue_mail(session: Session, *, to: str, subject: str, body: str) -> OutgoingMail:
    """Queue one message in the caller's transaction; the worker is woken when it commits."""
    mail = OutgoingMail(to_address=to, subject=subject[:200], body=body)
    session.add(mail)
    if has_app_context():
        doorbell.mark(session, doorbell.bell_path(current_app.instance_path))
    return mail


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** min(attempts, 7)))


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host, port = parts.hostname or "127.0.0.1", parts.port
    if scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port or 465, timeout=15, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port or 25, timeout=15)
        if scheme == "smtp+starttls":
            smtp.starttls(context=ssl.create_default_context())
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp


def send_due(app: Flask, *, limit: int = 50) -> str | None:
    """Worker job: send queued mail that is due; a failure backs the message off (never lost)."""
    url = str(app.config.get("MAIL_URL") or "")
    if not url:
        return None
    now = utcnow()
    with tx(app).read() as session:
        due = session.exec(
            select(OutgoingMail)
            .where(
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.next_attempt_at <= now,
                OutgoingMail.attempts < MAX_ATTEMPTS,
            )
            .order_by(OutgoingMail.id)
            .limit(limit)
        ).all()
    if not due:
        return None
    sender = str(app.config.get("MAIL_FROM") or "noreply@localhost")
    sent: list[int] = []
    failed: dict[int, str] = {}
    try:
        smtp = _connect(url)
    except (OSError, smtplib.SMTPException) as exc:
        failed = {m.id: f"{type(exc).__name__}: {exc}"[:300] for m in due}
    else:
        with smtp:
            for mail in due:
                msg = EmailMessage()
                msg["Subject"] = mail.subject
                msg["From"] = formataddr((SITE_NAME, sender))
                msg["To"] = mail.to_address
                msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
                msg.set_content(mail.body)
                try:
                    smtp.send_message(msg)
                    sent.append(mail.id)
                except (OSError, smtplib.SMTPException) as exc:
                    failed[mail.id] = f"{type(exc).__name__}: {exc}"[:300]
    with tx(app).write() as session:
        for mail in session.exec(select(OutgoingMail).where(OutgoingMail.id.in_([*sent, *failed]))).all():
            if mail.id in failed:
                mail.attempts += 1
                mail.last_error = failed[mail.id]
                mail.next_attempt_at = utcnow() + _backoff(mail.attempts)
            else:
                mail.sent_at = utcnow()
            session.add(mail)
    return f"已发送 {len(sent)} 封" + (f"，{len(failed)} 封稍后重试" if failed else "")
