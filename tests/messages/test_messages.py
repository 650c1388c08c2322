"""Messages on an introduced match: the two sides talk (text and attachments), unread counts, mail
notification; nobody else reads or writes; administrators read only a reported thread."""

from __future__ import annotations

import io

from sqlmodel import func, select

from market.mail.service import send_due
from market.messages import service
from market.messages.models import Message, ThreadReport
from tests.factories import login
from tests.mailserver import running
from tests.messages.conftest import PDF


def _client(app, user):
    c = app.test_client()
    login(c, user)
    return c


def _count(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Message)).one()


def test_the_introduced_sides_exchange_messages_and_files(app, session, people, matches, tmp_path):
    match = matches["introduced"]
    uni, ent = _client(app, people["uni"]), _client(app, people["ent"])
    with running(tmp_path / "smtp") as smtp:
        app.config["MAIL_URL"] = smtp.url
        resp = uni.post(
            f"/matches/{match.id}/messages",
            data={"body": "您好，附上技术方案。", "attachment": (io.BytesIO(PDF), "技术方案.pdf")},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 302
        send_due(app)
        [mail] = smtp.wait_for(1)
        assert mail["To"] == people["ent"].email and "您好，附上技术方案" in mail.get_content()
    session.expire_all()
    assert service.unread_count(session, people["ent"]) == 1
    assert service.unread_count(session, people["uni"]) == 0  # one's own messages are read
    assert "1 未读" in ent.get("/messages").data.decode()
    page = ent.get(f"/matches/{match.id}/messages").data.decode()
    assert "您好，附上技术方案。" in page and "技术方案.pdf" in page
    session.expire_all()
    assert service.unread_count(session, people["ent"]) == 0
    message = session.exec(select(Message)).one()
    download = ent.get(f"/matches/{match.id}/messages/{message.id}/file")
    assert download.status_code == 200 and download.data == PDF
    assert ent.post(f"/matches/{match.id}/messages", data={"body": "收到，谢谢"}).status_code == 302
    session.expire_all()
    assert service.unread_count(session, people["uni"]) == 1


def test_a_message_to_a_match_one_is_not_part_of_is_refused_and_nothing_stored(app, session, people, matches):
    introduced, suggested = matches["introduced"], matches["suggested"]
    for role in ("other_uni", "agent", "admin"):
        c = _client(app, people[role])
        assert c.post(f"/matches/{introduced.id}/messages", data={"body": "插话"}).status_code == 404
        assert c.get(f"/matches/{introduced.id}/messages").status_code == 404
    # the sides of a match that is not introduced yet have no thread: contacts stay protected
    uni = _client(app, people["uni"])
    assert uni.post(f"/matches/{suggested.id}/messages", data={"body": "绕过经纪人"}).status_code == 404
    assert (
        app.test_client().post(f"/matches/{introduced.id}/messages", data={"body": "匿名"}).status_code == 302
    )
    assert _count(session) == 0


def test_bad_attachments_are_refused_with_a_reason(app, session, people, matches):
    uni = _client(app, people["uni"])
    url = f"/matches/{matches['introduced'].id}/messages"
    exe = b"MZ\x90\x00" + bytes(200)
    resp = uni.post(
        url,
        data={"body": "看附件", "attachment": (io.BytesIO(exe), "方案.pdf")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    page = uni.get(url).data.decode()
    assert "按文件内容检查" in page
    assert uni.post(url, data={"body": ""}).status_code == 303
    assert _count(session) == 0


def test_an_admin_reads_a_thread_only_once_a_side_reports_it(app, session, people, matches):
    match = matches["introduced"]
    uni, admin = _client(app, people["uni"]), _client(app, people["admin"])
    uni.post(f"/matches/{match.id}/messages", data={"body": "正常沟通"})
    assert admin.get(f"/matches/{match.id}/messages").status_code == 404
    ent = _client(app, people["ent"])
    assert (
        ent.post(f"/matches/{match.id}/messages/report", data={"reason": "对方发送广告"}).status_code == 302
    )
    session.expire_all()
    assert session.exec(select(ThreadReport)).one().reporter_id == people["ent"].id
    page = admin.get(f"/matches/{match.id}/messages")
    assert page.status_code == 200 and "正常沟通" in page.data.decode() and "已被举报" in page.data.decode()
    assert admin.post(f"/matches/{match.id}/messages", data={"body": "管理员不能发"}).status_code == 404
