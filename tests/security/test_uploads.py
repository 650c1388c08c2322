"""Uploads: refused by content, size limits, file names never paths."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from market import create_app
from market.deals.models import Contract
from market.deals.service import MAX_PDF_BYTES
from market.listings.models import ResearchResult
from market.matches.models import Match
from tests.security.support import (
    EXE,
    PDF,
    PNG,
    client_for,
    count,
    header_problems,
)


def _upload(client, data: bytes, filename: str, url: str = "/import", **fields):
    return client.post(
        url, data={**fields, "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def _reports(app) -> list[Path]:
    return sorted((Path(app.config["UPLOAD_DIR"]) / "import-reports").glob("*.csv"))


def _xlsx_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        zf.writestr("xl/worksheets/sheet1.xml", b" " * (40 * 1024 * 1024))
    return buf.getvalue()


def _docx_like() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    return buf.getvalue()


VALID_CSV = (
    "成果名称*,成果简介*,技术领域\n宽温域锂离子电池电解液第九号,一种可在零下四十度工作的锂离子电池电解液配方。,储能\n"
).encode()


@pytest.mark.parametrize(
    ("payload", "filename", "message"),
    [
        (PNG, "成果.csv", "PNG"),
        (PNG, "成果.xlsx", "PNG"),
        (EXE, "成果.csv", "二进制"),
        (VALID_CSV, "成果.exe", "只支持 CSV 或 XLSX"),
        (VALID_CSV, "成果.csv.exe", "只支持 CSV 或 XLSX"),
        (b"<html><script>alert(1)</script></html>", "成果.xlsx", ""),
        ("zip-bomb", "成果.xlsx", "解压后过大"),
        ("docx", "成果.xlsx", "不是 XLSX"),
        (b"", "成果.csv", ""),
    ],
)
def test_import_refuses_files_by_content(app, session, people, world, payload, filename, message):
    payload = {"zip-bomb": _xlsx_bomb, "docx": _docx_like}.get(payload, lambda: payload)()
    before = count(session, ResearchResult), _reports(app)
    resp = _upload(client_for(app, people, "uni"), payload, filename)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert (count(session, ResearchResult), _reports(app)) == before


def test_import_control_a_real_csv_is_imported(app, session, people, world):
    before = count(session, ResearchResult)
    resp = _upload(client_for(app, people, "uni"), VALID_CSV, "成果.csv")
    assert resp.status_code == 200 and "新增 1 条" in resp.get_data(as_text=True)
    assert count(session, ResearchResult) == before + 1


def test_import_size_limits(small_limits_app, session, people, world):
    app = small_limits_app
    client = client_for(app, people, "uni")
    before = count(session, ResearchResult), _reports(app)
    rows = VALID_CSV + b"".join(
        f"宽温域锂离子电池电解液第{i}号,一种可在零下四十度工作的锂离子电池电解液配方。,储能\n".encode()
        for i in range(40)
    )
    assert 2048 < len(rows) < 16 * 1024
    over_import_limit = _upload(client, rows, "成果.csv")
    assert over_import_limit.status_code == 400 and "超过上限" in over_import_limit.get_data(as_text=True)
    over_request_limit = _upload(client, rows * 10, "成果.csv")
    assert over_request_limit.status_code == 413 and "过大" in over_request_limit.get_data(as_text=True)
    assert header_problems(over_request_limit) == []
    assert (count(session, ResearchResult), _reports(app)) == before


def _contracts_dir(app) -> list[Path]:
    return sorted((Path(app.config["UPLOAD_DIR"]) / "contracts").glob("*"))


def _sign(client, world, pdf: bytes, name: str = "合同.pdf"):
    return client.post(
        f"/matches/{world.m_introduced}/sign",
        data={
            "contract_type": "技术许可",
            "amount_wan": "120",
            "tech_amount_wan": "100",
            "signed_on": date.today().isoformat(),
            "pdf": (io.BytesIO(pdf), name),
        },
        content_type="multipart/form-data",
    )


def _unsigned(session, world, app, files_before) -> bool:
    session.expire_all()
    return (
        session.get(Match, world.m_introduced).status == "已对接"
        and session.exec(select(Contract).where(Contract.match_id == world.m_introduced)).first() is None
        and _contracts_dir(app) == files_before
    )


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        (PNG, "合同.pdf"),
        (EXE, "合同.pdf"),
        (b"<html><script>alert(1)</script></html>", "合同.pdf"),
        (b"%PDF-1.4\n<script>alert(1)</script>", "合同.pdf"),  # header without a PDF body
        (_docx_like(), "合同.pdf"),
    ],
)
def test_contract_upload_refuses_non_pdf(app, session, people, world, payload, name):
    before = _contracts_dir(app)
    resp = _sign(client_for(app, people, "agent"), world, payload, name)
    assert resp.status_code == 400 and "PDF" in resp.get_data(as_text=True)
    assert _unsigned(session, world, app, before)


def test_contract_upload_too_large_for_the_request(app_config, app, session, people, world):
    small = create_app(dict(app_config, MAX_CONTENT_LENGTH=64 * 1024))
    small.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    before = _contracts_dir(app)
    big = PDF[:-6] + b"%" + b"0" * (100 * 1024) + b"\n%%EOF\n"
    resp = _sign(client_for(small, people, "agent"), world, big)
    assert resp.status_code == 413
    assert _unsigned(session, world, app, before)


def test_contract_upload_over_the_pdf_limit(app_config, app, session, people, world):

    roomy = create_app(dict(app_config, MAX_CONTENT_LENGTH=MAX_PDF_BYTES + 1024 * 1024))
    roomy.extensions["db.sessionmaker"] = app.extensions["db.sessionmaker"]
    before = _contracts_dir(app)
    big = b"%PDF-1.4\n%" + b"0" * MAX_PDF_BYTES + b"\n%%EOF\n"
    resp = _sign(client_for(roomy, people, "agent"), world, big)
    assert resp.status_code == 400 and "MB" in resp.get_data(as_text=True)
    assert _unsigned(session, world, app, before)


def test_contract_upload_control_and_file_name_is_not_a_path(app, session, people, world):
    before = _contracts_dir(app)
    resp = _sign(client_for(app, people, "agent"), world, PDF, name="../../../etc/passwd.pdf")
    assert resp.status_code == 302
    session.expire_all()
    contract = session.exec(select(Contract).where(Contract.match_id == world.m_introduced)).one()
    assert "/" not in contract.pdf_name and ".." not in contract.pdf_path and "/" not in contract.pdf_path
    added = set(_contracts_dir(app)) - set(before)
    assert len(added) == 1 and next(iter(added)).read_bytes() == PDF
    download = client_for(app, people, "ent").get(f"/contracts/{contract.id}/pdf")
    assert download.status_code == 200 and "/" not in download.headers["Content-Disposition"].split("=", 1)[1]
