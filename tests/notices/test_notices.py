"""公告 / 政策: publish and withdraw, the public list and detail, attachments checked by content, and
Markdown that cannot carry script or raw HTML."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from market.notices import service
from market.notices.markdown import render
from market.notices.models import Notice, NoticeAttachment
from tests.factories import latest, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOSTILE = (
    "# 关于开展技术合同登记的通知\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
    '[点我](javascript:alert(1))\n\n<a href="https://evil.example" onclick="steal()">raw</a>\n\n'
    '<iframe src="https://evil.example"></iframe>\n\n**正文**与[平台](https://kjcg.example.cn)'
)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "<a href='javascript:alert(1)'>x</a>",
        "<iframe src='https://evil.example'></iframe>",
        "<svg onload=alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_markdown_renders_script_and_raw_html_inert(text):
    html = str(render(text)).lower()
    assert "<script" not in html
    assert "<img" not in html
    assert "<iframe" not in html
    assert "<svg" not in html
    assert 'href="javascript:' not in html
    assert 'href="data:' not in html


def test_markdown_keeps_ordinary_formatting():
    html = str(render("## 小标题\n\n- 一\n- 二\n\n**重点** [链接](https://kjcg.example.cn)"))
    assert "<h2>小标题</h2>" in html
    assert "<li>一</li>" in html
    assert "<strong>重点</strong>" in html
    assert 'href="https://kjcg.example.cn"' in html
    assert "nofollow" in html


@pytest.fixture
def admin_client(app, people):
    c = app.test_client()
    login(c, people["admin"])
    return c


def _create(client, session, **data) -> Notice:
    form = {"kind": "公告", "title": "2026 年技术合同登记工作安排", "body_md": "正文"} | data
    assert client.post("/admin/notices/new", data=form).status_code == 302
    return latest(session, Notice)


def test_publish_list_detail_withdraw(app, session, admin_client):
    notice = _create(admin_client, session, body_md=HOSTILE)
    visitor = app.test_client()
    assert visitor.get(f"/notices/{notice.id}").status_code == 404  # a draft is not public
    assert "2026 年技术合同登记工作安排" not in visitor.get("/").get_data(as_text=True)
    assert admin_client.post(f"/admin/notices/{notice.id}/publish").status_code == 302
    page = visitor.get(f"/notices/{notice.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<script>alert" not in body
    assert re.search(r"<[a-z][^>]*\son[a-z]+\s*=", body, re.I) is None  # no real tag carries a handler
    assert "&lt;script&gt;" in body  # shown as text, inert
    assert "<iframe" not in body
    assert "<strong>正文</strong>" in body
    assert "2026 年技术合同登记工作安排" in visitor.get("/notices").get_data(as_text=True)
    assert "2026 年技术合同登记工作安排" in visitor.get("/").get_data(as_text=True)
    session.expire_all()
    published_at = session.get(Notice, notice.id).published_at
    assert published_at is not None
    assert admin_client.post(f"/admin/notices/{notice.id}/withdraw").status_code == 302
    assert visitor.get(f"/notices/{notice.id}").status_code == 404
    assert "2026 年技术合同登记工作安排" not in visitor.get("/notices").get_data(as_text=True)
    session.expire_all()
    assert session.get(Notice, notice.id).withdrawn_at is not None


def test_bad_notice_input_is_refused_with_the_field(admin_client, session):
    resp = admin_client.post("/admin/notices/new", data={"kind": "通知", "title": "", "body_md": ""})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    for reason in ("请选择类型", "请填写标题", "请填写正文"):
        assert reason in body
    assert admin_client.get("/notices?kind=通知").status_code == 400
    assert admin_client.get("/notices?page=x").status_code == 400


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_attachments_are_checked_by_content_and_downloadable(app, session, admin_client):
    notice = _create(admin_client, session)
    admin_client.post(f"/admin/notices/{notice.id}/publish")
    up = admin_client.post(
        f"/admin/notices/{notice.id}/files",
        data={"attachment": (io.BytesIO(PDF), "登记指南.pdf")},
        content_type="multipart/form-data",
    )
    assert up.status_code == 302
    admin_client.post(
        f"/admin/notices/{notice.id}/files",
        data={"attachment": (io.BytesIO(_docx()), "申请表.docx")},
        content_type="multipart/form-data",
    )
    bad = admin_client.post(
        f"/admin/notices/{notice.id}/files",
        data={"attachment": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "伪装.pdf")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 303
    files = service.attachments(session, notice.id)
    assert [f.name for f in files] == ["登记指南.pdf", "申请表.docx"]
    got = app.test_client().get(f"/notices/{notice.id}/files/{files[0].id}")
    assert got.status_code == 200
    assert got.data == PDF
    assert got.headers["Content-Disposition"].startswith("attachment")
    other = session.get(NoticeAttachment, files[1].id)
    assert app.test_client().get(f"/notices/{notice.id + 999}/files/{other.id}").status_code == 404


def test_only_admins_manage_notices(app, people):
    for role in ("uni", "ent", "agent"):
        c = app.test_client()
        login(c, people[role])
        assert (
            c.post("/admin/notices/new", data={"kind": "公告", "title": "x", "body_md": "y"}).status_code
            == 403
        )
