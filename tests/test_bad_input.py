"""Bad input gets a clear error and nothing is lost (issue 13): pages answer in Chinese, the JSON API
with a structured body naming the field, and nothing answers 500.
"""

from __future__ import annotations

import io
import re
import time
import zipfile

import openpyxl
import pytest
from sqlmodel import func, select

from market.imports import reader
from market.imports.service import FileRefused, import_listings
from market.listings.models import ResearchResult
from tests.factories import login, make_user

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
    assert seconds < 1.0, f"took {seconds:.1f} s"
    assert "5000" in message and "未导入" in message


def test_sparse_xlsx_limit_follows_the_setting():
    message, _ = _timed_refusal(_xlsx(extra_rows=_far_cell(row=400)), max_rows=100)
    assert "100 行" in message and "400" in message
    assert _read(_xlsx(extra_rows=_far_cell(row=400)), max_rows=1000).rows[-1][0] == 400


def test_sparse_xlsx_far_column_is_refused_quickly():
    rows = "".join(_far_cell(row=n, column="XFD") for n in range(3, 2003))
    message, seconds = _timed_refusal(_xlsx(extra_rows=rows))
    assert seconds < 1.0, f"took {seconds:.1f} s"
    assert "列" in message and "未导入" in message


def test_far_row_without_a_value_is_not_read_and_loses_nothing():
    """Formatting far below the data (a row with a height, no cell) is neither refused nor walked."""
    data = _xlsx(extra_rows=f'<row r="{FAR}" ht="30" customHeight="1"/>')
    start = time.perf_counter()
    table = _read(data)
    assert time.perf_counter() - start < 1.0
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
    assert time.perf_counter() - start < 1.0
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "5000" in page and "未导入" in page
    assert _count(session, ResearchResult) == 0


def test_import_service_refuses_a_sparse_bomb_and_writes_nothing(session):
    with pytest.raises(FileRefused):
        import_listings(session, kind="result", filename="成果.xlsx", data=_xlsx(extra_rows=_far_cell()))
    assert _count(session, ResearchResult) == 0
