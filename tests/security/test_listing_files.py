"""PDF attachments on listings (附件): refused by content, size and count limits, file names never paths,
downloads never rendered inline — and nothing stored when a file is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlmodel import select

from market import create_app
from market.media import pdfs
from market.media.models import ListingFile
from tests.media.conftest import PDF as BARE_PDF_HEADER
from tests.media.conftest import SVG, encrypted_pdf, pdf, png
from tests.security.support import EXE, XSS, client_for, count, header_problems


def _upload(
    client, world, data: bytes, name: str = "报告.pdf", title: str = "检测报告", listing: str = "result"
):
    return client.post(
        f"/results/{world.ids[listing]}/files",
        data={"file": (io.BytesIO(data), name), "title": title},
        content_type="multipart/form-data",
    )


def _stored(app) -> list[Path]:
    return sorted((Path(app.config["UPLOAD_DIR"]) / "listing-files").rglob("*"))


def _flash(client, world) -> str:
    return client.get(f"/results/{world.result}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("payload", "name", "reason"),
    [
        (png((8, 8)), "报告.pdf", pdfs.NOT_PDF),  # a picture named .pdf
        (EXE, "报告.pdf", pdfs.NOT_PDF),
        (SVG, "报告.pdf", pdfs.NOT_PDF),
        (b"<html><script>alert(1)</script></html>", "报告.pdf", pdfs.NOT_PDF),
        (b"%PDF-1.4\n<script>alert(1)</script>", "报告.pdf", pdfs.BROKEN),  # a header without a PDF body
        (BARE_PDF_HEADER, "报告.pdf", pdfs.BROKEN),  # parses as PDF syntax, but has no pages tree
        (b"%PDF-1.7\n" + bytes(range(256)) * 64, "报告.pdf", pdfs.BROKEN),  # garbage after the header
        ("encrypted", "报告.pdf", pdfs.ENCRYPTED),
        (b"", "报告.pdf", "请选择要上传的 PDF 文件"),
        ("real", "报告\x00.pdf", "控制字符"),
        ("real", "报\u202egdp.exe", "改变文字方向"),
    ],
)
def test_bad_files_are_refused_with_a_reason_and_nothing_stored(
    app, session, people, world, payload, name, reason
):
    payload = {"encrypted": encrypted_pdf, "real": pdf}.get(payload, lambda: payload)()
    client = client_for(app, people, "uni")
    before = count(session, ListingFile), _stored(app)
    resp = _upload(client, world, payload, name)
    assert resp.status_code == 303
    assert reason in _flash(client, world)
    assert (count(session, ListingFile), _stored(app)) == before


def test_an_oversized_pdf_is_refused_by_the_setting(app_config, app, session, people, world):
    small = create_app(dict(app_config, LISTING_FILE_MAX_BYTES=4096))
    small.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    client = client_for(small, people, "uni")
    before = count(session, ListingFile), _stored(app)
    big = pdf("大文件", pages=60)
    assert len(big) > 4096
    assert _upload(client, world, big).status_code == 303
    assert "PDF 文件不能超过" in _flash(client, world)
    assert (count(session, ListingFile), _stored(app)) == before


def test_a_request_over_the_request_limit_is_413(small_limits_app, session, people, world):
    client = client_for(small_limits_app, people, "uni")
    before = count(session, ListingFile)
    resp = _upload(client, world, pdf("大文件", pages=200))
    assert resp.status_code == 413 and header_problems(resp) == []
    assert count(session, ListingFile) == before


def test_too_many_files_are_refused(app, session, people, world):
    client = client_for(app, people, "uni")
    already = count(session, ListingFile)  # the world has one on this result
    for i in range(5 - 1):
        assert _upload(client, world, pdf(f"第{i}份"), title=f"第 {i} 份").status_code == 302
    before = count(session, ListingFile), _stored(app)
    assert _upload(client, world, pdf("多余"), title="多余的一份").status_code == 303
    assert "每条最多 5 个附件" in _flash(client, world)
    assert (count(session, ListingFile), _stored(app)) == before == (already + 4, before[1])


@pytest.mark.parametrize(
    "name",
    ["../../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "/abs/报告.pdf", "...pdf", "a/../../b.PDF"],
)
def test_a_path_like_file_name_is_never_a_path(app, session, people, world, name):
    client = client_for(app, people, "uni")
    resp = _upload(client, world, pdf(), name=name)
    assert resp.status_code == 302
    session.expire_all()
    row = session.exec(select(ListingFile).order_by(ListingFile.id.desc())).first()
    assert "/" not in row.name and "\\" not in row.name and ".." not in row.name.removesuffix(".pdf")
    assert row.key.startswith("listing-files/") and ".." not in row.key
    assert all(p.resolve().is_relative_to(Path(app.config["UPLOAD_DIR"]).resolve()) for p in _stored(app))
    got = client_for(app, people, "visitor").get(f"/results/{world.result}/files/{row.id}")
    disposition = got.headers["Content-Disposition"]
    assert got.status_code == 200 and disposition.startswith("attachment")
    assert "/" not in disposition.split("=", 1)[1] and "\\" not in disposition
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert header_problems(got) == []


def test_a_title_with_markup_is_shown_as_text(app, session, people, world):
    client = client_for(app, people, "uni")
    assert _upload(client, world, pdf(), title=XSS[:100]).status_code == 302
    page = client_for(app, people, "visitor").get(f"/results/{world.result}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
