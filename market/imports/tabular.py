"""Safe tabular export: CSV (UTF-8 with BOM, for Excel) and XLSX, with spreadsheet formulas neutralised.

A cell that starts with = + - @ tab or carriage return is read as a formula by Excel and LibreOffice
(OWASP “CSV injection”); `safe_cell` prefixes such text with an apostrophe so it stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with text that a spreadsheet would evaluate as a formula prefixed by an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        value = "、".join(str(v) for v in value)
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(safe_cell(value) if isinstance(value, str) else value)


def write_csv(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> bytes:
    """CSV bytes in UTF-8 with a BOM (so Excel shows Chinese), every text cell neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([_csv_value(h) for h in header])
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | date):
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)  # Excel has no time zones
        return value
    if isinstance(value, list | tuple):
        value = "、".join(str(v) for v in value)
    # openpyxl refuses control characters; a formula trigger becomes plain text
    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def write_xlsx(rows: Iterable[Sequence[Any]], header: Sequence[str], *, title: str = "Sheet1") -> bytes:
    """XLSX bytes (one sheet, header in row 1), every text cell neutralised."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    ws.append([_xlsx_value(h) for h in header])
    for row in rows:
        ws.append([_xlsx_value(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
