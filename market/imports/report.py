"""The outcome of an import: one result per spreadsheet row, counts, and warnings about the file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

IMPORTED, UPDATED, UNCHANGED, REJECTED = "imported", "updated", "unchanged", "rejected"
STATUS_LABELS = {IMPORTED: "新增", UPDATED: "更新", UNCHANGED: "未变化", REJECTED: "未导入"}
REPORT_HEADER = ["行号", "结果", "说明", "记录编号", "名称"]

Progress = Callable[[int, int], None]


@dataclass
class RowResult:
    """What happened to one spreadsheet row (`row` is the number Excel shows; the header is row 1)."""

    row: int
    status: str
    message: str = ""
    listing_id: int | None = None
    title: str | None = None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class ImportReport:
    """The outcome of one file: a result per row, and warnings about the file as a whole."""

    kind: str
    filename: str
    format: str = ""
    sheet: str | None = None
    rows: list[RowResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    orgs_created: list[str] = field(default_factory=list)
    published: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in STATUS_LABELS}

    @property
    def imported(self) -> int:
        return self.count(IMPORTED)

    @property
    def updated(self) -> int:
        return self.count(UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def rejected(self) -> int:
        return self.count(REJECTED)

    def summary(self) -> str:
        """新增 3 条，更新 1 条，未变化 0 条，未导入 2 条"""
        return "，".join(f"{label} {self.count(status)} 条" for status, label in STATUS_LABELS.items())

    def table(self) -> list[list[Any]]:
        """Rows for the downloadable report (header: REPORT_HEADER)."""
        return [[r.row, r.label, r.message, r.listing_id, r.title] for r in self.rows]
