"""Reading an uploaded spreadsheet (CSV or XLSX) into a header and numbered rows, or refusing the file.

The format is recognised from the bytes, not the file name, so a renamed PNG or an old .xls is refused
with a message that says what it is. XLSX goes through openpyxl in read-only mode; openpyxl parses XML
with defusedxml when it is installed (it is a dependency), and the zip is checked for its unpacked size
before openpyxl opens it, so an XML or zip bomb is refused rather than expanded. Each worksheet's XML is
then streamed once for its declared `<dimension>` and the numbers of the rows that hold values, so a
tiny sparse file (one cell at row 200,000,000) is refused in milliseconds instead of making openpyxl
produce every empty row in between; openpyxl then reads only up to the last row and column that hold
a value.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.utils.cell import column_index_from_string
from openpyxl.xml import DEFUSEDXML
from openpyxl.xml.functions import fromstring, iterparse  # defusedxml's (DEFUSEDXML is checked first)

from market.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
#: an XLSX may unpack to at most this many times its size (text compresses well, bombs much better)
MAX_UNPACK_RATIO = 40
#: empty rows tolerated between data rows (formatting often reaches far below the data)
MAX_EMPTY_RUN = 10_000
#: sheet rows allowed beyond the data-row limit: title, instruction and header rows, blank spacer rows
SHEET_ROW_ALLOWANCE = 100
#: columns a sheet may use (the templates have about 30; Excel 97 stopped at 256)
MAX_COLUMNS = 256

#: header probe: for a row's cells, None when it names no known column, else the missing required labels
HeaderProbe = Callable[[list[Any]], list[str] | None]
HEADER_SCAN_ROWS = 10


_MAGIC = {
    b"\x89PNG": "PNG 图片",
    b"\xff\xd8\xff": "JPEG 图片",
    b"GIF8": "GIF 图片",
    b"%PDF": "PDF 文档",
    b"\xd0\xcf\x11\xe0": "Excel 97-2003（.xls）或旧版 Office 文档",
    b"Rar!": "RAR 压缩包",
    b"\x1f\x8b": "gzip 压缩包",
    b"7z\xbc\xaf": "7z 压缩包",
}


class FileRefused(DomainError):
    """The file as a whole cannot be imported (unreadable, too big, missing columns); nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(("file", message))


class NoHeader(FileRefused):
    """No row of the sheet is a usable header."""


@dataclass
class Table:
    """A sheet as read: `rows` are (spreadsheet row number, cells) for the non-empty rows under the header."""

    format: str  # "csv" or "xlsx"
    header: list[Any]
    header_row: int
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    sheet: str | None = None
    encoding: str | None = None


def _limit_message(max_rows: int) -> str:
    return f"数据超过 {max_rows} 行，超出单次导入上限。请拆分成多个文件分批导入（整个文件未导入）。"


def _sheet_limit_message(sheet: str, row: int, max_rows: int) -> str:
    return (
        f"工作表“{sheet}”的内容延伸到第 {row} 行，超出单次导入上限：最多 {max_rows} 行数据"
        f"（连同表头、说明与空行，内容最多到第 {max_rows + SHEET_ROW_ALLOWANCE} 行）。"
        "请删除数据下方多余的行（包括只有格式的空行），或拆分成多个文件分批导入（整个文件未导入）。"
    )


def _is_empty(cells: list[Any] | tuple[Any, ...]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_table(
    data: bytes,
    *,
    filename: str = "",
    probe: HeaderProbe,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> Table:
    """Parse `data` (CSV in UTF-8/GBK or XLSX); `probe` recognises the header row.

    Raises FileRefused with a Chinese message for anything that cannot be read as a whole.
    """
    if not data:
        raise FileRefused("文件是空的，请选择填写好的表格文件。")
    if len(data) > max_bytes:
        raise FileRefused(
            f"文件大小 {len(data) / 1024 / 1024:.1f} MB，超过上限 {max_bytes / 1024 / 1024:.0f} MB。"
            "请拆分后分批导入。"
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, probe=probe, max_rows=max_rows)
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            hint = "请在 Excel 中“另存为” .xlsx 或 CSV 后再上传。" if "xls" in what else ""
            raise FileRefused(f"“{filename or '该文件'}”是{what}，不是 CSV 或 XLSX 表格。{hint}")
    return _read_csv(data, filename=filename, probe=probe, max_rows=max_rows)


# --- CSV ---------------------------------------------------------------------------------------------


def _decode(data: bytes, filename: str) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's “Unicode text” export
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise FileRefused(f"“{filename or '该文件'}”不是文本表格（含二进制内容），请上传 CSV 或 XLSX 文件。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileRefused("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV，或 XLSX。")


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    replacement = sample.count("\ufffd")
    return controls + replacement > max(2, len(sample) // 100)


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(data: bytes, *, filename: str, probe: HeaderProbe, max_rows: int) -> Table:
    text, encoding = _decode(data, filename)
    if _looks_binary(text):
        raise FileRefused(f"“{filename or '该文件'}”不是文本表格（含二进制内容），请上传 CSV 或 XLSX 文件。")
    if not text.strip():
        raise FileRefused("文件是空的，请选择填写好的表格文件。")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    try:
        table = _collect(enumerate(reader, 1), fmt="csv", probe=probe, max_rows=max_rows)
    except csv.Error as exc:
        raise FileRefused(f"CSV 格式有误，无法读取：{exc}") from None
    table.encoding = encoding
    return table


# --- XLSX --------------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, *, probe: HeaderProbe, max_rows: int) -> Table:
    if not DEFUSEDXML:  # never parse untrusted XML without it
        raise FileRefused("服务器未启用安全的 XML 解析（defusedxml），暂不能导入 XLSX，请改用 CSV。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            unpacked = sum(info.file_size for info in zf.infolist())
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise FileRefused(
                    "这是一个压缩包，但不是 XLSX 表格（如 .docx、.zip）。请上传 CSV 或 XLSX 文件。"
                )
            if unpacked > max(len(data) * MAX_UNPACK_RATIO, 20 * 1024 * 1024):
                raise FileRefused("XLSX 文件解压后过大，疑似异常文件，已拒绝。")
            extent = _sheets_extent(zf, max_rows=max_rows)
    # zlib.error: a damaged member; RuntimeError: an encrypted one; NotImplementedError: an odd compression
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error):
        raise FileRefused("XLSX 文件已损坏，无法打开。请在 Excel 中重新保存后再上传。") from None
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise FileRefused(
            "XLSX 文件已损坏或格式不受支持，无法打开。请在 Excel 中重新保存后再上传。"
        ) from None
    try:
        sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
        first_error: FileRefused | None = None
        for ws in sheets[:20]:
            ws.reset_dimensions()  # some writers store wrong dimensions; read what is really there
            try:
                # Bounded by what the scan found: openpyxl would otherwise yield every missing row up to
                # the last <row> element, and widen every row to its last (even empty) cell.
                rows = enumerate(
                    ws.iter_rows(min_row=1, max_row=extent[0], max_col=extent[1], values_only=True), 1
                )
                table = _collect(rows, fmt="xlsx", probe=probe, max_rows=max_rows)
            except NoHeader as exc:  # e.g. an instructions sheet before the data: try the next one
                first_error = first_error or exc
                continue
            except FileRefused:
                raise
            except Exception:
                raise FileRefused("XLSX 文件内容损坏，无法读取。请在 Excel 中重新保存后再上传。") from None
            table.sheet = ws.title
            return table
        raise first_error or FileRefused("XLSX 文件中没有工作表。")
    finally:
        wb.close()


_REF_ROW = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d+)$")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheets_extent(zf: zipfile.ZipFile, *, max_rows: int) -> tuple[int, int]:
    """(last row, last column) holding a value in any worksheet of the archive, streamed from the XML.

    Refuses (FileRefused) a worksheet whose declared `<dimension ref>` or whose valued rows reach past
    `max_rows` + SHEET_ROW_ALLOWANCE, or whose values reach past MAX_COLUMNS: a tiny file with one cell at
    row 200,000,000 would otherwise make openpyxl produce 200 million empty rows. Every member whose root
    element is a worksheet is scanned (the workbook's relationships, not the file names, say which
    members are sheets); other members stop at their first element.
    """
    row_limit = max_rows + SHEET_ROW_ALLOWANCE
    titles = _sheet_titles(zf)
    last_row = last_col = 1
    for info in zf.infolist():
        if info.is_dir():
            continue
        sheet = titles.get(info.filename) or info.filename.rsplit("/", 1)[-1].removesuffix(".xml")
        with zf.open(info) as source:
            rows, cols = _scan_sheet(source, sheet, max_rows=max_rows, row_limit=row_limit)
        last_row, last_col = max(last_row, rows), max(last_col, cols)
    return last_row, last_col


def _sheet_titles(zf: zipfile.ZipFile) -> dict[str, str]:
    """Member path -> the sheet's visible name, from the workbook and its relationships (best effort)."""
    try:
        workbook = fromstring(zf.read("xl/workbook.xml"))
        rels = fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # missing or malformed: the messages fall back to member names
        return {}
    targets = {rel.get("Id"): rel.get("Target") or "" for rel in rels if _local(rel.tag) == "Relationship"}
    out: dict[str, str] = {}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rid, "")
        path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out[path] = element.get("name") or ""
    return out


def _scan_sheet(source, sheet: str, *, max_rows: int, row_limit: int) -> tuple[int, int]:
    """(last valued row, last valued column) of one member; (0, 0) when it is not a worksheet."""
    events = iterparse(source, events=("start", "end"))
    try:
        _, root = next(events)
    except Exception:  # not XML (an image, a printer setting), or a DTD defusedxml forbids: openpyxl decides
        return 0, 0
    if _local(root.tag) != "worksheet":
        return 0, 0
    try:
        return _scan_rows(events, root, sheet=sheet, max_rows=max_rows, row_limit=row_limit)
    except FileRefused:
        raise
    except Exception:  # malformed XML, entities (defusedxml), row numbers that are not numbers
        raise FileRefused("XLSX 文件内容损坏，无法读取。请在 Excel 中重新保存后再上传。") from None


def _scan_rows(events, root, *, sheet: str, max_rows: int, row_limit: int) -> tuple[int, int]:
    last_row = last_col = 0
    row_number = col_number = 0
    valued = False
    parent = root
    for event, element in events:
        tag = _local(element.tag)
        if event == "start":
            if tag == "dimension":
                declared = _ref_row((element.get("ref") or "").rsplit(":", 1)[-1])
                if declared > row_limit:
                    raise FileRefused(_sheet_limit_message(sheet, declared, max_rows))
            elif tag == "sheetData":
                parent = element
            elif tag == "row":
                r = element.get("r")
                row_number = _row_attr(r) if r else row_number + 1
                col_number, valued = 0, False
            continue
        if tag == "c":
            ref = element.get("r")
            col_number = _ref_col(ref) if ref else col_number + 1
            if any(_local(child.tag) in ("v", "is") for child in element):
                valued = True
                last_col = max(last_col, col_number)
                if col_number > MAX_COLUMNS:
                    raise FileRefused(
                        f"工作表“{sheet}”第 {row_number} 行的内容延伸到第 {col_number} 列，"
                        f"超过上限 {MAX_COLUMNS} 列。请删除多余的列后再上传（整个文件未导入）。"
                    )
            element.clear()
        elif tag == "row":
            if valued:
                if row_number > row_limit:
                    raise FileRefused(_sheet_limit_message(sheet, row_number, max_rows))
                last_row = max(last_row, row_number)
            parent.clear()  # drop finished rows: memory stays flat however long the sheet
        elif tag == "sheetData":
            break  # nothing after the cells matters here
    return last_row, last_col


def _row_attr(raw: str) -> int:
    value = float(raw)  # openpyxl accepts "12.0"
    if not value.is_integer():
        raise ValueError(f"bad row number {raw!r}")
    return int(value)


def _ref_row(ref: str) -> int:
    match = _REF_ROW.match(ref.strip())
    return int(match.group(2)) if match else 0


def _ref_col(ref: str) -> int:
    letters = _REF_ROW.match(ref.strip())
    if not letters or not letters.group(1):
        raise ValueError(f"bad cell reference {ref!r}")
    return column_index_from_string(letters.group(1).upper())


# --- both --------------------------------------------------------------------------------------------


def _collect(numbered: Iterator[tuple[int, Any]], *, fmt: str, probe: HeaderProbe, max_rows: int) -> Table:
    header: list[Any] | None = None
    header_row = 0
    partial: tuple[int, list[str]] | None = None  # the best header-like row that lacks required columns
    scanned = 0
    rows: list[tuple[int, list[Any]]] = []
    empty_run = 0
    for number, raw in numbered:
        cells = list(raw)
        if _is_empty(cells):
            empty_run += 1
            if header is not None and empty_run > MAX_EMPTY_RUN:
                break
            continue
        empty_run = 0
        if header is None:
            missing = probe(cells)
            if missing == []:
                header, header_row = cells, number
                continue
            if missing and (partial is None or len(missing) < len(partial[1])):
                partial = (number, missing)
            scanned += 1
            if scanned >= HEADER_SCAN_ROWS:
                break
            continue
        rows.append((number, cells))
        if len(rows) > max_rows:
            raise FileRefused(_limit_message(max_rows))
    if header is None:
        if partial is not None:
            raise NoHeader(
                f"表头（第 {partial[0]} 行）缺少必填列：{'、'.join(partial[1])}。请下载导入模板，按模板填写。"
            )
        raise NoHeader(
            "没有找到表头行：第一行应为列名（如“成果名称”“成果简介”或“需求名称”“需求描述”）。"
            "请下载导入模板，按模板填写。"
        )
    return Table(format=fmt, header=header, header_row=header_row, rows=rows)
