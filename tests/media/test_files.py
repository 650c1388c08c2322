"""PDF attachments on listings: checked by content with pypdf, a title required, at most
LISTING_FILES_MAX, listed on the detail page with their size, downloaded as attachments by whoever may see
the listing, deleted by the owner — and the file exists exactly when its row does."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from market import create_app
from market.media import attachments, pdfs
from market.media.models import ListingFile
from market.storage import S3Storage, StorageError, s3_storage, storage
from tests import fake_s3
from tests.factories import login
from tests.media.conftest import encrypted_pdf, pdf

s3_endpoint, s3_config = fake_s3.s3_endpoint, fake_s3.s3_config  # the fake S3's fixtures


def _upload(client, listing, data: bytes, name: str = "检测报告.pdf", title: str = "第三方检测报告", **extra):
    return client.post(
        f"/{listing.kind}s/{listing.id}/files",
        data={"file": (io.BytesIO(data), name), "title": title, **extra},
        content_type="multipart/form-data",
    )


def _rows(session):
    session.expire_all()
    return session.exec(select(ListingFile).order_by(ListingFile.id)).all()


def test_an_uploaded_pdf_is_listed_with_its_size_and_downloads_as_an_attachment(
    app, client, session, people, result
):
    data = pdf("检测报告", pages=3)
    login(client, people["uni"])
    assert _upload(client, result, data, description="2026 年 6 月，国家电池质检中心").status_code == 302
    [row] = _rows(session)
    assert (row.title, row.name, row.size, row.pages) == ("第三方检测报告", "检测报告.pdf", len(data), 3)
    assert row.key.startswith("listing-files/") and row.key.endswith(".pdf")
    with app.app_context():
        assert storage().read(row.key) == data
    page = client.get(f"/results/{result.id}").get_data(as_text=True)
    assert 'id="files"' in page and "第三方检测报告" in page and "国家电池质检中心" in page
    assert attachments.human_size(len(data)) in page and "3 页" in page
    got = app.test_client().get(f"/results/{result.id}/files/{row.id}")  # a visitor: the result is public
    assert got.status_code == 200 and got.data == data and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_a_need_takes_attachments_too(client, session, people, need):
    login(client, people["ent"])
    assert (
        _upload(client, need, pdf("需求说明"), name="需求说明书.pdf", title="需求说明书").status_code == 302
    )
    [row] = _rows(session)
    assert (row.kind, row.listing_id) == ("need", need.id)


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\张三\\报告.pdf", "报告.pdf"),
        ('a"b<c>.pdf', "a_b_c.pdf"),
        ("报告", "报告.pdf"),
        ("../..", "第三方检测报告.pdf"),
    ],
)
def test_the_download_name_is_never_a_path(name, stored):
    assert attachments.download_name(name, "第三方检测报告") == stored


def test_the_title_is_required_and_five_is_the_limit(client, session, people, result):
    login(client, people["uni"])
    assert _upload(client, result, pdf(), title=" ").status_code == 303
    assert "请填写附件标题" in client.get(f"/results/{result.id}").get_data(as_text=True)
    for i in range(5):
        assert _upload(client, result, pdf(f"第{i}份"), title=f"第 {i} 份附件").status_code == 302
    page = client.get(f"/results/{result.id}").get_data(as_text=True)
    assert 'name="title"' not in page  # the form is gone at the limit
    assert _upload(client, result, pdf(), title="第六份附件").status_code == 303
    assert "每条最多 5 个附件" in client.get(f"/results/{result.id}").get_data(as_text=True)
    assert len(_rows(session)) == 5


def test_the_limits_are_settings(app_config, app, session, people, result):
    small = create_app(dict(app_config, LISTING_FILES_MAX=1, LISTING_FILE_MAX_BYTES=2000))
    small.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    small.extensions["storage"] = app.extensions["storage"]
    client = small.test_client()
    login(client, people["uni"])
    assert _upload(client, result, pdf(pages=40)).status_code == 303
    assert "PDF 文件不能超过" in client.get(f"/results/{result.id}").get_data(as_text=True)
    assert _upload(client, result, pdf()).status_code == 302
    assert _upload(client, result, pdf(), title="第二份附件").status_code == 303
    assert "每条最多 1 个附件" in client.get(f"/results/{result.id}").get_data(as_text=True)
    assert len(_rows(session)) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "请选择要上传的 PDF 文件"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), pdfs.NOT_PDF),
        (b"%PDF-1.4\n<script>alert(1)</script>\n%%EOF\n", pdfs.BROKEN),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", pdfs.BROKEN),
        ("truncated", pdfs.BROKEN),
        ("encrypted", pdfs.ENCRYPTED),
    ],
)
def test_the_content_check(data, reason):
    data = {"truncated": lambda: pdf(pages=2)[:600], "encrypted": encrypted_pdf}.get(data, lambda: data)()
    with pytest.raises(pdfs.DomainError) as refused:
        pdfs.check(data, max_bytes=10_000_000)
    assert refused.value.message == reason


def test_only_the_owner_uploads_or_deletes_and_the_file_goes_with_the_row(app, session, people, result):
    owner = app.test_client()
    login(owner, people["uni"])
    _upload(owner, result, pdf())
    [row] = _rows(session)
    key, row_id = row.key, row.id
    for role in ("other_uni", "ent", "agent"):
        other = app.test_client()
        login(other, people[role])
        assert _upload(other, result, pdf()).status_code == 403
        assert other.post(f"/results/{result.id}/files/{row_id}/delete").status_code == 403
    assert len(_rows(session)) == 1
    assert app.test_client().post(f"/results/{result.id}/files/{row_id}/delete").status_code == 302  # login
    assert owner.post(f"/results/{result.id}/files/{row_id}/delete").status_code == 302
    assert _rows(session) == []
    with app.app_context():
        assert not storage().exists(key)


def test_a_file_of_another_listing_is_not_found_under_this_one(app, client, session, people, result, need):
    login(client, people["ent"])
    _upload(client, need, pdf(), title="需求附件")
    [row] = _rows(session)
    assert app.test_client().get(f"/results/{result.id}/files/{row.id}").status_code == 404


def test_a_storage_failure_refuses_the_upload_with_nothing_kept(
    app, client, session, people, result, monkeypatch
):
    def full(_key, _data):
        raise StorageError("disk full")

    monkeypatch.setattr(app.extensions["storage"], "write_temp", full)
    login(client, people["uni"])
    assert _upload(client, result, pdf()).status_code == 303
    assert "附件保存失败" in client.get(f"/results/{result.id}").get_data(as_text=True)
    assert _rows(session) == []


def test_attachments_through_the_s3_storage(app, client, session, people, result, s3_config):
    """The whole path on STORAGE="s3" (a fake S3, see tests/fake_s3.py): upload, list, download, delete."""
    app.extensions["storage"] = store = s3_storage(s3_config)
    assert isinstance(store, S3Storage)
    data = pdf("对象存储")
    login(client, people["uni"])
    assert _upload(client, result, data).status_code == 302
    [row] = _rows(session)
    assert store.read(row.key) == data and [k for k, _ in store.keys("listing-files")] == [row.key]
    got = app.test_client().get(f"/results/{result.id}/files/{row.id}")
    assert got.status_code == 200 and got.data == data
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert _upload(client, result, b"%PDF-1.4 not really").status_code == 303  # refused: nothing kept
    assert [k for k, _ in store.keys("listing-files")] == [row.key]
    assert client.post(f"/results/{result.id}/files/{row.id}/delete").status_code == 302
    assert not store.exists(row.key) and list(store.keys("listing-files")) == []
