"""Bad input gets a clear error and nothing is lost (issue 13): pages answer in Chinese, the JSON API
with a structured body naming the field, and nothing answers 500.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from flask import request
from sqlmodel import Session, func, select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import AnyConverter, IntegerConverter

from market import create_app
from market.accounts.models import ApiToken, Organization
from market.config import ConfigError, from_env
from market.db import utcnow
from market.deals import service as deals
from market.deals.models import Contract
from market.errors import DomainError
from market.imports import reader
from market.imports.service import FileRefused, import_listings
from market.listings.models import ResearchResult, TechNeed
from market.listings.schemas import validate_listing
from market.matches.models import Match
from market.notifications.models import Notification
from market.security import refuse_bad_characters
from tests.factories import RESULT, create, latest, login, make_listing, make_match, make_org, make_user
from tests.test_api import API_RESULT as FULL
from tests.test_api import bearer, make_token

# --- 1. sparse XLSX bombs ------------------------------------------------------------------------------

HEADER = ["成果名称*", "成果简介*", "技术领域"]
ROW = [
    "宽温域锂离子电池电解液",
    "一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。",
    "储能",
]
FAR = 200_000_000


def _xlsx(*, extra_rows: str = "", dimension: str | None = None, header: bool = True) -> bytes:
    """A one-sheet XLSX written by openpyxl, with raw `<row>` XML appended to its sheet data and, when
    given, its `<dimension ref>` replaced (openpyxl itself refuses rows past Excel's 1,048,576)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "成果"
    if header:
        ws.append(HEADER)
        ws.append(ROW)
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                if "<sheetData/>" in xml:
                    xml = xml.replace("<sheetData/>", "<sheetData></sheetData>")
                xml = xml.replace("</sheetData>", extra_rows + "</sheetData>")
                if dimension is not None:
                    xml = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"', xml)
                data = xml.encode()
            dst.writestr(info, data)
    return out.getvalue()


def _far_cell(row: int = FAR, column: str = "A") -> str:
    return f'<row r="{row}"><c r="{column}{row}" t="inlineStr"><is><t>远处的格子</t></is></c></row>'


def _read(data: bytes, max_rows: int = 5000):
    return reader.read_table(
        data,
        filename="成果.xlsx",
        probe=lambda cells: [] if cells[:1] == [HEADER[0]] else None,
        max_rows=max_rows,
    )


#: Not a speed target (these machines are shared): walking the 200,000,000 rows the file claims takes
#: minutes, so a refusal well inside this bound shows the reader did not walk them.
NOT_WALKED_SECONDS = 15.0


def _timed_refusal(data: bytes, **kw) -> tuple[str, float]:
    start = time.perf_counter()
    with pytest.raises(FileRefused) as refused:
        _read(data, **kw)
    return refused.value.message, time.perf_counter() - start


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_xlsx(extra_rows=_far_cell(), dimension=f"A1:C{FAR}"), id="honest-dimension"),
        pytest.param(_xlsx(extra_rows=_far_cell(), dimension="A1:C2"), id="lying-dimension"),
        pytest.param(_xlsx(extra_rows=_far_cell(), header=False), id="no-header"),
        pytest.param(_xlsx(dimension=f"A1:C{FAR}"), id="dimension-only"),
    ],
)
def test_sparse_xlsx_far_row_is_refused_quickly_with_the_limit(data):
    message, seconds = _timed_refusal(data)
    assert seconds < NOT_WALKED_SECONDS, f"took {seconds:.1f} s: the empty rows were walked"
    assert "5000" in message and "未导入" in message


def test_sparse_xlsx_limit_follows_the_setting():
    message, _ = _timed_refusal(_xlsx(extra_rows=_far_cell(row=400)), max_rows=100)
    assert "100 行" in message and "400" in message
    assert _read(_xlsx(extra_rows=_far_cell(row=400)), max_rows=1000).rows[-1][0] == 400


def test_sparse_xlsx_far_column_is_refused_quickly():
    rows = "".join(_far_cell(row=n, column="XFD") for n in range(3, 2003))
    message, seconds = _timed_refusal(_xlsx(extra_rows=rows))
    assert seconds < NOT_WALKED_SECONDS, f"took {seconds:.1f} s: the empty rows were walked"
    assert "列" in message and "未导入" in message


def test_far_row_without_a_value_is_not_read_and_loses_nothing():
    """Formatting far below the data (a row with a height, no cell) is neither refused nor walked."""
    data = _xlsx(extra_rows=f'<row r="{FAR}" ht="30" customHeight="1"/>')
    start = time.perf_counter()
    table = _read(data)
    assert time.perf_counter() - start < NOT_WALKED_SECONDS
    assert [number for number, _ in table.rows] == [2]


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_sparse_xlsx_from_an_unverified_university_on_the_import_page(app, session):
    user = make_user(session, role="university", verified=False)
    session.commit()
    client = app.test_client()
    login(client, user)
    bomb = _xlsx(extra_rows=_far_cell())
    start = time.perf_counter()
    resp = client.post(
        "/import", data={"file": (io.BytesIO(bomb), "成果.xlsx")}, content_type="multipart/form-data"
    )
    assert time.perf_counter() - start < NOT_WALKED_SECONDS
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "5000" in page and "未导入" in page
    assert _count(session, ResearchResult) == 0


def test_import_service_refuses_a_sparse_bomb_and_writes_nothing(session):
    with pytest.raises(FileRefused):
        import_listings(session, kind="result", filename="成果.xlsx", data=_xlsx(extra_rows=_far_cell()))
    assert _count(session, ResearchResult) == 0


# --- 2-4. JSON the parser accepts but nothing downstream can hold ------------------------------------

API_RESULT = {
    "title": "宽温域锂离子电池电解液",
    "summary": "一种可在零下四十度工作的锂离子电池电解液配方，适用于储能与动力电池。",
    "field": "储能",
    "price_wan": 120,
}


@pytest.fixture
def api(app, people):
    """POST raw bytes or an object to /api/v1/results with a valid token; PROPAGATE is off, so a crash
    shows as the 500 a user would get."""

    app.config["PROPAGATE_EXCEPTIONS"] = False
    headers = bearer(make_token(app, people["uni"]))
    client = app.test_client()

    def send(raw: bytes | str, path: str = "/api/v1/results", method: str = "POST"):
        return client.open(path, method=method, data=raw, content_type="application/json", headers=headers)

    return send


def _fields(resp) -> set:
    return {f["field"] for f in resp.json.get("fields", [])}


def _structured(resp) -> bool:
    body = resp.json
    return resp.is_json and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[" * 10_000 + "]" * 10_000, id="bare-arrays"),
        pytest.param('{"title": ' + "[" * 10_000 + "]" * 10_000 + "}", id="arrays-in-a-field"),
        pytest.param('{"a": ' * 10_000 + "1" + "}" * 10_000, id="objects"),
        pytest.param('{"keywords": ' + "[" * 900 + "]" * 900 + "}", id="just-under-the-parser-limit"),
    ],
)
def test_deeply_nested_json_is_400_json(api, session, raw):
    resp = api(raw)
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert _structured(resp) and "嵌套" in resp.json["message"]
    assert _count(session, ResearchResult) == 0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param('"title": "宽温域\\ud800锂离子电池电解液"', "title", id="high-in-title"),
        pytest.param(
            '"summary": "\\udfff' + "一种可在零下四十度工作的电解液配方" + '"', "summary", id="low-in-summary"
        ),
        pytest.param('"keywords": ["锂电", "\\udc00"]', "keywords", id="in-a-list"),
        pytest.param('"contact_name": "\\ud83d"', "contact_name", id="half-a-pair"),
    ],
)
def test_lone_surrogates_in_json_are_refused_naming_the_field(api, session, raw, field):
    body = dict(API_RESULT)
    key = raw.split('"', 2)[1]
    body.pop(key, None)

    text = json.dumps(body, ensure_ascii=False)[:-1] + ", " + raw + "}"
    resp = api(text)
    assert resp.status_code in (400, 422), resp.get_data(as_text=True)[:300]
    assert _structured(resp) and field in _fields(resp)
    assert _count(session, ResearchResult) == 0


def test_a_real_surrogate_pair_is_kept(api, session):
    """An emoji is escaped as a valid pair (\\ud83d\\ude00) and is ordinary text."""
    resp = api(
        '{"title": "宽温域锂离子电池电解液\\ud83d\\ude00", "summary": "' + API_RESULT["summary"] + '"}'
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
    assert resp.json["title"].endswith("😀")


def test_lone_surrogate_in_a_key_is_refused(api, session):
    resp = api(
        '{"title": "宽温域锂离子电池电解液", "summary": "' + API_RESULT["summary"] + '", "\\ud800": 1}'
    )
    assert resp.status_code in (400, 422) and _structured(resp)
    assert _count(session, ResearchResult) == 0


def test_lone_surrogate_in_an_update_is_refused(api, session):
    created = api('{"title": "宽温域锂离子电池电解液", "summary": "' + API_RESULT["summary"] + '"}')
    rid = created.json["id"]
    resp = api(
        '{"version": 1, "title": "新标题\\ud800一二三", "summary": "' + API_RESULT["summary"] + '"}',
        path=f"/api/v1/results/{rid}",
        method="PUT",
    )
    assert resp.status_code in (400, 422) and "title" in _fields(resp)
    session.expire_all()
    assert session.get(ResearchResult, rid).title == "宽温域锂离子电池电解液"


def test_invalid_utf8_in_a_multipart_form_never_reaches_the_database(app, session, people):
    """werkzeug decodes multipart fields with replacement and refuses urlencoded bodies that are not
    UTF-8, so no lone surrogate can come through a form; nothing answers 500 either way."""

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    login(client, people["uni"])
    boundary = "XyZ"
    parts = []
    for name, value in {**RESULT, "title": None}.items():
        if name == "title":
            raw = "宽温域".encode() + b"\xed\xa0\x80" + "锂离子电池电解液".encode()
        elif isinstance(value, list):
            raw = value[0].encode()
        else:
            raw = str(value).encode()
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + raw + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    resp = client.post("/results/new", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert resp.status_code < 500
    raw = b"title=" + b"\xed\xa0\x80" + b"&summary=x"
    resp = client.post("/results/new", data=raw, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400
    session.expire_all()
    for listing in session.exec(select(ResearchResult)).all():
        assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in listing.title)


def test_surrogates_in_form_and_query_values_are_refused_by_name(app):
    """Defence in depth: if a server or a future werkzeug ever let a surrogate into form or query values,
    the request is refused naming the field before any view runs."""

    with app.test_request_context("/results/new", method="POST"):
        request.__dict__["form"] = ImmutableMultiDict({"title": "宽温域\ud800"})
        with pytest.raises(Exception) as refused:
            refuse_bad_characters()
        assert refused.value.code == 400 and "title" in refused.value.description
    with app.test_request_context("/search?q=%E5%AE%BD"):
        request.__dict__["args"] = ImmutableMultiDict({"q": "\udc80"})
        with pytest.raises(Exception) as refused:
            refuse_bad_characters()
        assert refused.value.code == 400 and "q" in refused.value.description


@pytest.mark.parametrize(
    "price",
    ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"],
)
@pytest.mark.parametrize("field", ["price_wan", "appraised_wan"])
def test_non_finite_prices_in_json_are_422_naming_the_field(api, session, price, field):
    body = (
        '{"title": "宽温域锂离子电池电解液", "summary": "'
        + API_RESULT["summary"]
        + f'", "{field}": {price}}}'
    )
    resp = api(body)
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert _structured(resp) and field in _fields(resp)
    assert _count(session, ResearchResult) == 0


@pytest.mark.parametrize("field", ["budget_min_wan", "budget_max_wan", "reward_wan"])
def test_non_finite_budgets_of_needs_are_422(app, people, session, field):

    app.config["PROPAGATE_EXCEPTIONS"] = False
    token = make_token(app, people["ent"])
    body = (
        '{"title": "电池包冬季续航衰减严重", "description": "物流车电池包冬天续航下降，需要改善低温性能。", '
        f'"no_secret_confirmed": true, "{field}": NaN}}'
    )
    resp = app.test_client().post(
        "/api/v1/needs", data=body, content_type="application/json", headers=bearer(token)
    )
    assert resp.status_code == 422 and field in _fields(resp)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_schema_refuses_non_finite_amounts_from_any_source(value):
    """Forms (DecimalField accepts "NaN") and XLSX number cells reach the schema without the API's check."""

    with pytest.raises(DomainError) as refused:
        validate_listing("result", {**API_RESULT, "price_wan": value})
    assert [f for f, _ in refused.value.errors] == ["price_wan"]


def test_nan_price_on_the_page_form_is_refused(app, session, people):

    client = app.test_client()
    login(client, people["uni"])
    resp = client.post("/results/new", data={**RESULT, "price_wan": "NaN"})
    assert resp.status_code == 400 and "价格" in resp.get_data(as_text=True)
    assert _count(session, ResearchResult) == 0


# --- 5. control characters in uploaded file names ----------------------------------------------------

BAD_NAMES = [
    pytest.param("成果\x00.csv", id="nul"),
    pytest.param("成果\x07\x1b.csv", id="bell-escape"),
    pytest.param("成果\x7f.csv", id="del"),
    pytest.param("成果\x85.csv", id="c1-next-line"),
    pytest.param("成果\u202evsc.exe.csv", id="right-to-left-override"),
]

VALID_CSV = (
    "成果名称*,成果简介*,技术领域\n宽温域锂离子电池电解液第九号,一种可在零下四十度工作的锂离子电池电解液配方。,储能\n"
).encode()


def _reports(app) -> list:

    return sorted((Path(app.config["UPLOAD_DIR"]) / "import-reports").glob("*"))


@pytest.mark.parametrize("name", BAD_NAMES)
def test_import_upload_refuses_control_characters_in_the_file_name(app, session, people, name):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    login(client, people["uni"])
    resp = client.post(
        "/import", data={"file": (io.BytesIO(VALID_CSV), name)}, content_type="multipart/form-data"
    )
    assert resp.status_code == 400, resp.status_code
    assert "文件名" in resp.get_data(as_text=True)
    assert _count(session, ResearchResult) == 0
    assert _reports(app) == []


def test_import_upload_keeps_an_ordinary_chinese_file_name(app, session, people):
    client = app.test_client()
    login(client, people["uni"])
    resp = client.post(
        "/import",
        data={"file": (io.BytesIO(VALID_CSV), "2026 年 科技成果（第一批）.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200 and "新增 1 条" in resp.get_data(as_text=True)


@pytest.fixture
def signable(session, people):
    """A match the agent introduced, ready to be signed."""

    uni_org = session.get(Organization, people["uni"].organization_id)
    ent_org = session.get(Organization, people["ent"].organization_id)
    result = make_listing(session, kind="result", org=uni_org)
    need = make_listing(session, kind="need", org=ent_org)
    agent = people["agent"]
    match = make_match(
        session,
        result=result,
        need=need,
        status="已对接",
        agent_id=agent.id,
        introduced_by_id=agent.id,
        introduced_at=utcnow(),
    )
    session.commit()
    return match


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _sign(client, match_id: int, *, name: str = "合同.pdf", pdf: bytes = PDF, **fields):

    data = {
        "contract_type": "技术许可",
        "amount_wan": "120",
        "tech_amount_wan": "100",
        "signed_on": date.today().isoformat(),
        "pdf": (io.BytesIO(pdf), name),
        **fields,
    }
    return client.post(f"/matches/{match_id}/sign", data=data, content_type="multipart/form-data")


def _contract_files(app) -> list:

    return sorted((Path(app.config["UPLOAD_DIR"]) / "contracts").glob("*"))


def _unsigned(session, match_id: int) -> bool:

    session.expire_all()
    return (
        session.get(Match, match_id).status == "已对接"
        and session.exec(select(Contract).where(Contract.match_id == match_id)).first() is None
    )


@pytest.mark.parametrize(
    "name", [pytest.param(p.values[0].replace(".csv", ".pdf"), id=p.id) for p in BAD_NAMES]
)
def test_contract_pdf_refuses_control_characters_in_the_file_name(app, session, people, signable, name):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    login(client, people["agent"])
    resp = _sign(client, signable.id, name=name)
    assert resp.status_code == 400, resp.status_code
    assert "文件名" in resp.get_data(as_text=True)
    assert _unsigned(session, signable.id)
    assert _contract_files(app) == []


# --- 6. the contract PDF exists exactly when its row does -----------------------------------------------


def test_signed_contract_pdf_is_in_place_and_no_temporary_file_is_left(app, session, people, signable):

    client = app.test_client()
    login(client, people["agent"])
    assert _sign(client, signable.id).status_code == 302
    session.expire_all()
    contract = session.exec(select(Contract).where(Contract.match_id == signable.id)).one()
    files = _contract_files(app)
    assert [f.name for f in files] == [contract.pdf_path]
    assert files[0].read_bytes() == PDF
    hidden = [p for p in files[0].parent.iterdir() if p.name.startswith(".")]
    assert hidden == []


def test_refused_contract_leaves_no_file(app, session, people, signable):
    client = app.test_client()
    login(client, people["agent"])
    resp = _sign(client, signable.id, tech_amount_wan="500")  # more than the contract amount
    assert resp.status_code == 400
    assert _unsigned(session, signable.id)
    assert _all_contract_files(app) == []


def _upload_dir(app):

    return Path(app.config["UPLOAD_DIR"])


def _all_contract_files(app) -> list:
    folder = _upload_dir(app) / "contracts"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_contract_whose_commit_fails_leaves_no_file(app, session, people, signable):
    """The database refuses the commit (connection lost, a deferred constraint): no row, so no file."""

    app.config["PROPAGATE_EXCEPTIONS"] = False

    def refuse(_session):
        raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    client = app.test_client()
    login(client, people["agent"])
    sa.event.listen(Session, "before_commit", refuse)
    try:
        resp = _sign(client, signable.id)
    finally:
        sa.event.remove(Session, "before_commit", refuse)
    assert resp.status_code >= 500
    assert _unsigned(session, signable.id)
    assert _all_contract_files(app) == []


def test_contract_that_fails_after_the_file_was_staged_leaves_no_file(
    app, session, people, signable, monkeypatch
):
    """Anything failing between staging the PDF and the commit (here: the notification) removes it."""

    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken_notify(*args, **kwargs):
        raise RuntimeError("notification store unavailable")

    monkeypatch.setattr(deals, "notify", broken_notify)
    client = app.test_client()
    login(client, people["agent"])
    assert _sign(client, signable.id).status_code == 500
    assert _unsigned(session, signable.id)
    assert _all_contract_files(app) == []


def test_second_contract_for_a_match_is_409_and_leaves_no_file(app, session, people, signable):
    """Two agents' tabs sign the same match at once: the unique constraint refuses the second row."""

    result = session.get(ResearchResult, signable.result_id)
    need = session.get(TechNeed, signable.need_id)
    session.add(
        Contract(
            match_id=signable.id,
            result_id=result.id,
            need_id=need.id,
            seller_org_id=result.organization_id,
            buyer_org_id=need.organization_id,
            contract_type="技术许可",
            amount_wan=10,
            tech_amount_wan=10,
            signed_on=date.today(),
        )
    )
    session.commit()  # the other tab's contract, committed while this one's match still reads 已对接
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    login(client, people["agent"])
    resp = _sign(client, signable.id)
    assert resp.status_code == 409, resp.status_code
    assert "已经登记过技术合同" in resp.get_data(as_text=True)
    assert _all_contract_files(app) == []


# --- 7. an edit without the version it was made on is refused -------------------------------------------


@pytest.mark.parametrize("version", [None, "", "abc", "-1", "1.0"])
def test_page_edit_without_a_usable_version_is_refused(app, session, people, version):

    client = app.test_client()
    login(client, people["uni"])
    assert create(client).status_code == 302
    listing = latest(session, ResearchResult)
    data = {**RESULT, "title": "被静默覆盖的新标题"}
    if version is not None:
        data["version"] = version
    resp = client.post(f"/results/{listing.id}/edit", data=data)
    assert resp.status_code == 400
    assert "版本" in resp.get_data(as_text=True)
    session.expire_all()
    saved = session.get(ResearchResult, listing.id)
    assert saved.title == RESULT["title"] and saved.version == listing.version


def test_page_edit_with_the_version_still_saves(app, session, people):

    client = app.test_client()
    login(client, people["uni"])
    create(client)
    listing = latest(session, ResearchResult)
    resp = client.post(
        f"/results/{listing.id}/edit", data={**RESULT, "title": "新的标题一二三", "version": listing.version}
    )
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(ResearchResult, listing.id).title == "新的标题一二三"


@pytest.mark.parametrize("version", [None, "1", 1.5, True, [1]])  # 1.0 is an integer to JSON Schema
def test_api_edit_without_an_integer_version_is_refused(app, people, session, version):

    headers = bearer(make_token(app, people["uni"]))
    client = app.test_client()
    rid = client.post("/api/v1/results", json=FULL, headers=headers).json["id"]
    body = {**FULL, "title": "被静默覆盖的新标题"}
    if version is not None:
        body["version"] = version
    resp = client.put(f"/api/v1/results/{rid}", json=body, headers=headers)
    assert resp.status_code == 400 and "version" in _fields(resp)
    session.expire_all()
    assert session.get(ResearchResult, rid).title == FULL["title"]


# --- 8. MARKET_ENV must be a known value -------------------------------------------------------------


@pytest.mark.parametrize("value", ["prod", "Prodution", "staging", "testing", "", "development2", "生产"])
def test_unknown_market_env_stops_the_app_with_a_chinese_config_error(monkeypatch, value):

    monkeypatch.setenv("MARKET_ENV", value)
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    assert "MARKET_ENV" in message and "production" in message and "development" in message
    assert f"“{value}”" in message


@pytest.mark.parametrize(
    ("value", "production"), [("production", True), ("development", False), (" Production ", True)]
)
def test_known_market_env_values_start(monkeypatch, value, production):

    monkeypatch.setenv("MARKET_ENV", value)
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    app = create_app()
    assert app.config["MARKET_ENV"] == value.strip().lower()
    assert app.config["SESSION_COOKIE_SECURE"] is production


def test_market_env_from_the_config_mapping_is_checked_too():

    with pytest.raises(ConfigError):
        create_app({"MARKET_ENV": "prod"})


def test_unset_market_env_is_development(monkeypatch):

    assert from_env({})["MARKET_ENV"] == "development"


def test_the_flask_command_refuses_to_start_with_a_misspelt_market_env(tmp_path):

    env = {**os.environ, "MARKET_ENV": "prod", "SECRET_KEY": "k" * 48}
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run(
        [str(flask), "--app", "market", "routes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "MARKET_ENV" in done.stderr and "“prod”" in done.stderr


# --- 9 (config part). REDIS_URL is the rate-limit storage when nothing more specific is set ----------


def test_rate_limit_storage_falls_back_to_redis_url():

    assert from_env({})["RATELIMIT_STORAGE_URI"] == "memory://"
    assert from_env({"REDIS_URL": "redis://cache:6379/2"})["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/2"
    explicit = {"REDIS_URL": "redis://cache:6379/2", "RATELIMIT_STORAGE_URI": "redis://limits:6379/0"}
    assert from_env(explicit)["RATELIMIT_STORAGE_URI"] == "redis://limits:6379/0"


# --- 11. changing the password revokes the API tokens ------------------------------------------------


def test_changing_the_password_revokes_every_api_token_and_says_so(app, session, people):

    user = people["uni"]
    first, second = make_token(app, user, "北京技术市场"), make_token(app, user, "河北技术交易所")
    other = make_token(app, people["uni2"], "同事的令牌")
    api = app.test_client()
    assert api.post("/api/v1/results", json=FULL, headers=bearer(first)).status_code == 201

    client = app.test_client()
    login(client, user)
    page = client.get("/account").get_data(as_text=True)
    assert "修改密码" in page and "令牌" in page and "撤销" in page
    assert "修改密码后" in page  # the page says what a password change does to tokens
    resp = client.post(
        "/account",
        data={"current_password": "correct horse battery staple", "new_password": "一二三四五六七八九十"},
        follow_redirects=True,
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "API 令牌" in text and "已撤销 2 个" in text

    for token in (first, second):
        refused = api.post("/api/v1/results", json=FULL, headers=bearer(token))
        assert refused.status_code == 401
    assert api.post("/api/v1/results", json=FULL, headers=bearer(other)).status_code == 201  # not theirs
    session.expire_all()
    mine = session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert len(mine) == 2 and all(t.revoked_at is not None for t in mine)


def test_refused_password_change_keeps_the_tokens(app, session, people):

    token = make_token(app, people["uni"])
    client = app.test_client()
    login(client, people["uni"])
    resp = client.post("/account", data={"current_password": "wrong", "new_password": "一二三四五六七八九十"})
    assert resp.status_code == 400
    assert app.test_client().post("/api/v1/results", json=FULL, headers=bearer(token)).status_code == 201


# --- 12. 405 answers say which methods are allowed ---------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed", "json"),
    [
        ("POST", "/", {"GET", "HEAD", "OPTIONS"}, False),
        ("DELETE", "/results", {"GET", "HEAD", "OPTIONS"}, False),
        ("GET", "/logout", {"POST", "OPTIONS"}, False),
        ("DELETE", "/api/v1/results", {"GET", "HEAD", "OPTIONS", "POST"}, True),
        ("PATCH", "/api/v1/results/1", {"GET", "HEAD", "OPTIONS", "PUT"}, True),
    ],
)
def test_405_carries_allow_on_pages_and_json(client, method, path, allowed, json):
    resp = client.open(path, method=method)
    assert resp.status_code == 405
    assert {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()} == allowed
    assert resp.is_json == json
    text = resp.get_data(as_text=True)
    assert "不支持该请求方法" in (resp.json["message"] if json else text)


def test_every_405_of_the_url_map_carries_allow(app, client):
    adapter = app.url_map.bind("localhost")
    missing, checked = [], 0
    for rule in app.url_map.iter_rules():
        values = {}
        for arg, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                values[arg] = sorted(converter.items)[0]
            else:
                values[arg] = {"kind": "result"}.get(
                    arg, 1 if isinstance(converter, IntegerConverter) else "x"
                )
        _domain, path = rule.build(values, append_unknown=False)
        try:
            served = adapter.allowed_methods(path)
        except Exception:
            continue
        if not served or ("PUT" in served and "DELETE" in served):
            continue
        wrong = "DELETE" if "DELETE" not in served else "PUT"
        resp = client.open(path, method=wrong)
        if resp.status_code == 405:
            checked += 1
            if not resp.headers.get("Allow"):
                missing.append(f"{wrong} {path}")
    assert missing == []
    assert checked >= 40


# --- 13. interest goes to verified agents only -------------------------------------------------------


def test_interest_notifies_only_active_agents_of_verified_agencies(app, session, people):

    verified = people["agent"]  # a verified agency (factories default)
    unverified = make_user(session, role="agent", verified=False)
    inactive = make_user(session, role="agent")
    inactive.active = False
    session.add(inactive)
    rogue_org = make_org(session, name="自称的技术转移机构", kind="技术转移机构", verified=False)
    self_registered = make_user(session, role="agent", org=rogue_org)
    uni_org = session.get(Organization, people["uni"].organization_id)
    result = make_listing(session, kind="result", org=uni_org)
    session.commit()

    client = app.test_client()
    login(client, people["ent"])
    resp = client.post(f"/results/{result.id}/interest", data={"message": "想了解授权条件"})
    assert resp.status_code == 302
    session.expire_all()
    told = set(
        session.exec(select(Notification.user_id).where(Notification.message.contains("表达了意向"))).all()
    )
    assert verified.id in told
    assert told.isdisjoint({unverified.id, inactive.id, self_registered.id})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/results/2147483648"),
        ("POST", "/api/v1/needs/99999999999/submit"),
        ("POST", "/results/2147483648/submit"),
        ("POST", "/results/2147483648/edit"),
        ("POST", "/results/2147483648"),
        ("DELETE", "/api/v1/needs/2147483648"),
    ],
)
def test_an_id_past_the_database_range_is_404_for_every_method(client, method, path):
    """werkzeug answers 405 (Allow: GET) when only the id converter refused, although GET is a 404."""
    assert client.get(path.removesuffix("/submit").removesuffix("/edit")).status_code == 404
    assert client.open(path, method=method).status_code == 404


def test_the_text_backslash_u0000_is_not_a_nul(api, session):
    """A title that talks about the escape (the six characters \\u0000) holds no NUL and is kept."""

    body = json.dumps({**API_RESULT, "title": "转义序列 \\u0000 的处理方法"}, ensure_ascii=False)
    assert "\\\\u0000" in body
    resp = api(body)
    assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
    assert resp.json["title"] == "转义序列 \\u0000 的处理方法"
