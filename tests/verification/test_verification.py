"""Organisation verification: the code checked, the certificate checked by content, the queue with
search and filters, a confirmation step, a written reason on refusal, the members told either way."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from market.accounts.models import Organization
from market.errors import DomainError
from market.mail.service import send_due
from market.notifications.models import Notification
from market.verification import service
from market.verification.models import OrgVerification
from tests.factories import login
from tests.mailserver import running
from tests.verification.conftest import ENT_CODE, PDF, UNI_CODE, image


def client_of(app, user):
    client = app.test_client()
    login(client, user)
    return client


def apply(client, *, code=ENT_CODE, kind="营业执照", data=PDF, name="营业执照.pdf"):
    return client.post(
        "/verification",
        data={"credit_code": code, "document_kind": kind, "document": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def notes_of(session, user):
    session.expire_all()
    return [n.message for n in session.exec(select(Notification).where(Notification.user_id == user.id))]


@pytest.mark.parametrize("code", [ENT_CODE, UNI_CODE, "91120116ma05jxxx1g", " 9112 0116 MA05 JXXX 1G "])
def test_valid_credit_codes(code):
    assert service.normalize_credit_code(code) == code.replace(" ", "").upper()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "请填写"),
        ("91120116MA05JXXX1", "应为 18 位"),
        ("91120116MA05JXXX1H", "校验码不正确"),
        ("91120116MA05JXXI1G", "不允许的字符"),
    ],
)
def test_bad_credit_codes_are_refused_with_the_reason(code, message):
    with pytest.raises(DomainError) as caught:
        service.normalize_credit_code(code)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("data", "mimetype"),
    [(PDF, "application/pdf"), (image("PNG"), "image/png"), (image("JPEG"), "image/jpeg")],
)
def test_certificates_are_recognised_by_content(data, mimetype):
    assert service.sniff_document(data)[0] == mimetype


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00" + bytes(200),  # a program named .pdf
        b"\x89PNG\r\n\x1a\n" + bytes(64),  # a PNG signature with nothing behind it
        b"\xff\xd8\xff\xe0" + b"<script>" * 10,
        b"%PDF-1.4 but never ends",
        b"",
    ],
)
def test_anything_else_is_refused(data):
    with pytest.raises(DomainError):
        service.sniff_document(data)


def test_a_certificate_over_the_limit_is_refused():
    with pytest.raises(DomainError) as caught:
        service.sniff_document(PDF + bytes(service.MAX_DOCUMENT_BYTES))
    assert "10 MB" in caught.value.message


def test_a_member_applies_and_the_admins_are_told(app, session, orgs):
    resp = apply(client_of(app, orgs["ent"]))
    assert resp.status_code == 302, resp.data.decode()
    row = session.exec(select(OrgVerification)).one()
    assert (row.credit_code, row.document_kind, row.document_mimetype) == (
        ENT_CODE,
        "营业执照",
        "application/pdf",
    )
    assert app.extensions["storage"].read(row.document_key) == PDF
    assert any("新的机构认证申请" in m for m in notes_of(session, orgs["admin"]))
    page = client_of(app, orgs["ent2"]).get("/verification").data.decode()
    assert "等待平台运营审核" in page
    again = apply(client_of(app, orgs["ent2"]))
    assert again.status_code == 409 and len(session.exec(select(OrgVerification)).all()) == 1


def test_every_problem_is_shown_at_once_and_nothing_is_stored(app, session, orgs):
    resp = apply(client_of(app, orgs["ent"]), code="91120116MA05JXXX1H", kind="", data=b"MZ" + bytes(99))
    page = resp.data.decode()
    assert resp.status_code == 400
    assert "校验码不正确" in page and "只接受 PDF、JPG 或 PNG" in page
    assert session.exec(select(OrgVerification)).first() is None
    assert list(app.extensions["storage"].keys("verifications")) == []


def test_the_queue_searches_and_filters(app, session, orgs):
    apply(client_of(app, orgs["ent"]))
    apply(
        client_of(app, orgs["uni"]),
        code=UNI_CODE,
        kind="事业单位法人证书",
        data=image("PNG"),
        name="证书.png",
    )
    admin = client_of(app, orgs["admin"])

    def shown(**args):
        page = admin.get("/admin/verifications", query_string=args).data.decode()
        return {name for name in ("津南新材料科技有限公司", "津门理工学院") if name in page}

    assert shown() == {"津南新材料科技有限公司", "津门理工学院"}
    assert shown(q="津南") == {"津南新材料科技有限公司"}
    assert shown(q=UNI_CODE[:8]) == {"津门理工学院"}
    assert shown(kind="高校") == {"津门理工学院"}
    assert shown(status="已通过") == set()
    assert shown(status="全部", q=orgs["ent"].email) == {"津南新材料科技有限公司"}


def test_approval_takes_a_confirmation_then_verifies_and_tells_the_members(app, session, orgs, tmp_path):
    apply(client_of(app, orgs["ent"]))
    row = session.exec(select(OrgVerification)).one()
    admin = client_of(app, orgs["admin"])
    assert admin.get(f"/admin/verifications/{row.id}").status_code == 200
    assert admin.get(f"/admin/verifications/{row.id}/document").data == PDF
    first = admin.post(f"/admin/verifications/{row.id}/decide", data={"decision": "approve"})
    assert first.status_code == 200 and "确认通过" in first.data.decode()
    session.expire_all()
    assert session.get(Organization, orgs["ent_org"].id).verified is False  # not yet
    with running(tmp_path / "smtp") as smtp:
        app.config["MAIL_URL"] = smtp.url
        done = admin.post(
            f"/admin/verifications/{row.id}/decide", data={"decision": "approve", "confirmed": "1"}
        )
        assert done.status_code == 302
        session.expire_all()
        org = session.get(Organization, orgs["ent_org"].id)
        assert (org.verified, org.credit_code) == (True, ENT_CODE)
        for member in (orgs["ent"], orgs["ent2"]):
            assert any("已通过机构认证" in m for m in notes_of(session, member))
        assert send_due(app) == "已发送 2 封"
        mailed = {m["To"]: m.get_content() for m in smtp.wait_for(2)}
        assert "已通过机构认证" in mailed[orgs["ent"].email]
    twice = admin.post(
        f"/admin/verifications/{row.id}/decide", data={"decision": "refuse", "reason": "重复操作测试"}
    )
    assert twice.status_code == 409


def test_refusal_needs_a_written_reason_which_the_member_reads(app, session, orgs):
    apply(client_of(app, orgs["uni"]), code=UNI_CODE, kind="事业单位法人证书")
    row = session.exec(select(OrgVerification)).one()
    admin = client_of(app, orgs["admin"])
    url = f"/admin/verifications/{row.id}/decide"
    bare = admin.post(url, data={"decision": "refuse", "confirmed": "1"})
    assert bare.status_code == 400 and "写明原因" in bare.data.decode()
    reason = "证书扫描件模糊，机构名称无法辨认"
    confirm = admin.post(url, data={"decision": "refuse", "reason": reason})
    assert confirm.status_code == 200 and reason in confirm.data.decode()
    session.expire_all()
    assert session.get(OrgVerification, row.id).status == "待审核"
    assert admin.post(url, data={"decision": "refuse", "reason": reason, "confirmed": "1"}).status_code == 302
    session.expire_all()
    assert session.get(OrgVerification, row.id).status == "未通过"
    assert session.get(Organization, orgs["uni_org"].id).verified is False
    assert any(reason in m for m in notes_of(session, orgs["uni"]))
    member = client_of(app, orgs["uni"])
    page = member.get("/verification").data.decode()
    assert reason in page and "提交认证申请" in page  # may apply again
    assert apply(member, code=UNI_CODE, kind="事业单位法人证书").status_code == 302


def test_a_code_another_organisation_holds_is_refused(app, session, orgs):
    other = orgs["uni_org"]
    other.credit_code = ENT_CODE
    session.add(other)
    session.commit()
    resp = apply(client_of(app, orgs["ent"]))
    assert resp.status_code == 400 and "另一家机构" in resp.data.decode()


def test_the_help_page_shows_the_operators_contact(app, client):
    app.config["OPERATOR_CONTACT"] = "运营值班：022-1234 5678"
    page = client.get("/help/verification").data.decode()
    assert "运营值班：022-1234 5678" in page and "营业执照" in page
