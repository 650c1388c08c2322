"""Bulk import of research results and technology needs from a spreadsheet (批量导入).

`import_listings` reads the file whole first (a file that cannot be read is refused and nothing is
written), then takes each row through the same schema as the forms and the API. Rows are keyed by
(organisation, 编号) or, without a 编号, (organisation, 名称), so importing a file again changes nothing;
a row whose listing exists is saved only when something differs. Each row is written inside its own
SAVEPOINT, so a row the database refuses is reported alone. The caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from sqlmodel import Session

from market.accounts.models import Organization, User
from market.imports import cells
from market.imports import columns as cols
from market.imports.reader import MAX_BYTES, MAX_ROWS, FileRefused, read_table
from market.imports.report import REJECTED, REPORT_HEADER, ImportReport, Progress, RowResult
from market.imports.rows import RowImporter
from market.listings.models import KINDS

__all__ = [
    "REJECTED",
    "REPORT_HEADER",
    "FileRefused",
    "ImportReport",
    "RowResult",
    "import_listings",
    "limits",
]


def limits(config: Mapping[str, Any]) -> tuple[int, int]:
    """(max bytes, max data rows) of one file, from IMPORT_MAX_BYTES / IMPORT_MAX_ROWS in `config`."""
    return int(config.get("IMPORT_MAX_BYTES") or MAX_BYTES), int(config.get("IMPORT_MAX_ROWS") or MAX_ROWS)


def import_listings(
    session: Session,
    *,
    kind: str,
    filename: str,
    data: bytes,
    actor: User | None = None,
    default_org: Organization | str | None = None,
    publish: bool = False,
    restrict_org_id: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> ImportReport:
    """Import the results (`kind="result"`) or needs (`"need"`) of a CSV / XLSX file; flushes, never commits.

    - `default_org`: the organisation of rows whose 所属单位 / 需求单位 is blank (an Organization, or a
      name that is created, unverified unless `publish`, when missing). Organisations a row names are
      created the same way.
    - `restrict_org_id`: an owner's upload: every row belongs to this organisation; a row naming another
      one is rejected, and no organisation is created.
    - `publish`: an administrator's import: new and draft listings are published directly.
    - `progress(done, total)` is called after each row.

    Raises FileRefused (a DomainError) when the file cannot be read as a whole.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    table = read_table(
        data, filename=filename, probe=partial(_probe, kind), max_bytes=max_bytes, max_rows=max_rows
    )
    report = ImportReport(kind=kind, filename=filename, format=table.format, sheet=table.sheet)
    layout = _layout(kind, table.header, report.warnings)
    if not table.rows:
        raise FileRefused(
            "文件只有表头，没有数据行：请从表头下一行起，每行填写一条后再上传（可下载模板参照示例）"
        )
    rows = RowImporter(
        session,
        kind=kind,
        layout=layout,
        actor=actor,
        default_org=default_org,
        publish=publish,
        restrict_org_id=restrict_org_id,
        report=report,
    )
    total = len(table.rows)
    for done, (number, values) in enumerate(table.rows, 1):
        result = rows.run(number, values)
        if result is not None:
            report.rows.append(result)
        if progress is not None:
            progress(done, total)
    return report


# --- header ------------------------------------------------------------------------------------------


def _probe(kind: str, row: list[Any]) -> list[str] | None:
    index = cols.header_index(kind)
    keys = {index[h].key for h in (cols.normalize_header(c) for c in row) if h in index}
    if not keys:
        return None
    return [c.zh for c in cols.COLUMNS[kind] if c.required and c.key not in keys]


def _layout(kind: str, header: list[Any], warnings: list[str]) -> dict[str, int]:
    """Column key -> position in the row; unknown and repeated columns become warnings."""
    index = cols.header_index(kind)
    layout: dict[str, int] = {}
    unknown: list[str] = []
    for pos, cell in enumerate(header):
        name = cells.text(cell)
        norm = cols.normalize_header(cell)
        if not norm:
            continue
        col = index.get(norm)
        if col is None:
            unknown.append(name or norm)
        elif col.key in layout:
            warnings.append(f"列“{name}”重复出现，只读取第一次出现的那一列")
        else:
            layout[col.key] = pos
    if unknown:
        warnings.append(f"以下列无法识别，已忽略：{'、'.join(unknown[:20])}")
    return layout
