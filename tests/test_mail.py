"""Mail goes out through the worker, to a real SMTP server process; failures back off, nothing is lost."""

from __future__ import annotations

from sqlmodel import select

from market.mail.models import OutgoingMail
from market.mail.service import send_due
from market.notifications.service import notify
from tests.mailserver import MailServer, running


def queued(session):
    session.expire_all()
    return session.exec(select(OutgoingMail).order_by(OutgoingMail.id)).all()


def test_a_notification_is_mailed_by_the_worker(app, session, people, tmp_path):
    with running(tmp_path / "smtp") as smtp:
        app.config["MAIL_URL"] = smtp.url
        with app.test_request_context():
            notify(session, user_ids=[people["uni"].id], message="您的成果已发布", link="/results/1")
            session.commit()
        assert send_due(app) == "已发送 1 封"
        [message] = smtp.wait_for(1)
        assert message["To"] == people["uni"].email
        assert "您的成果已发布" in message.get_content() and "/results/1" in message.get_content()
        assert queued(session)[0].sent_at is not None
        assert send_due(app) is None  # nothing sent twice


def test_mail_server_down_backs_off_and_catches_up(app, session, people, tmp_path):
    smtp = MailServer(tmp_path / "smtp")  # not started yet: the server is down
    app.config["MAIL_URL"] = smtp.url
    with app.test_request_context():
        notify(session, user_ids=[people["ent"].id], message="新的匹配推荐")
        session.commit()
    assert "稍后重试" in send_due(app)
    [mail] = queued(session)
    assert mail.sent_at is None and mail.attempts == 1 and mail.last_error
    mail.next_attempt_at = mail.created_at  # the back-off has passed
    session.add(mail)
    session.commit()
    smtp.start()
    try:
        assert send_due(app) == "已发送 1 封"
        assert len(smtp.wait_for(1)) == 1
    finally:
        smtp.stop()


def test_without_mail_url_nothing_is_queued(app, session, people):
    app.config["MAIL_URL"] = ""
    with app.test_request_context():
        notify(session, user_ids=[people["uni"].id], message="站内通知")
        session.commit()
    assert queued(session) == []
