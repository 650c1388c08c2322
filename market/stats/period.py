"""The date range of a statistics query (?from=YYYY-MM-DD&to=YYYY-MM-DD), parsed with reasons in Chinese."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from market.errors import DomainError

#: the platform's users are in Tianjin; a calendar day there starts at 00:00 UTC+8 (no daylight saving)
LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class StatsParamError(DomainError):
    """A statistics query parameter is invalid (400)."""


@dataclass(frozen=True)
class Period:
    """An inclusive range of calendar days; either end may be open."""

    start: date | None = None
    end: date | None = None

    @property
    def is_open(self) -> bool:
        return self.start is None and self.end is None

    def on_dates(self, column) -> list:
        """Conditions on a DATE column."""
        conds = []
        if self.start:
            conds.append(column >= self.start)
        if self.end:
            conds.append(column <= self.end)
        return conds

    def on_timestamps(self, column) -> list:
        """Conditions on a timestamp column: the local days, as UTC instants (end exclusive)."""
        conds = []
        if self.start:
            conds.append(column >= _utc_midnight(self.start))
        if self.end:
            conds.append(column < _utc_midnight(self.end + timedelta(days=1)))
        return conds


def _utc_midnight(day: date) -> datetime:
    # SQLite keeps timestamps as UTC wall time, so the bound must be UTC too.
    return datetime.combine(day, time.min, LOCAL_TZ).astimezone(UTC)


def parse_period(*, start: str | None, end: str | None) -> Period:
    """A Period from two YYYY-MM-DD strings (blank means open); StatsParamError in Chinese otherwise."""
    errors: list[tuple[str, str]] = []
    parsed: dict[str, date | None] = {}
    for name, label, raw in (("from", "开始日期", start), ("to", "结束日期", end)):
        text = (raw or "").strip()
        parsed[name] = None
        if not text:
            continue
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            parsed[name] = date.fromisoformat(text)
        except ValueError:
            errors.append((name, f"{label}“{text[:20]}”无效，请使用 YYYY-MM-DD 格式，例如 2025-01-31"))
    if not errors and parsed["from"] and parsed["to"] and parsed["from"] > parsed["to"]:
        errors.append(("from", "开始日期不能晚于结束日期"))
    if errors:
        raise StatsParamError(*errors)
    return Period(parsed["from"], parsed["to"])
