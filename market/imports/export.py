"""Export of the published showcase lists (CSV / XLSX), with the showcase's filters; never contact details."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from market.imports.tabular import write_csv, write_xlsx
from market.listings.labels import heading
from market.listings.models import Listing
from market.listings.queries import Filters, published_page
from vocab.taxonomy import field_parent

EXPORT_MAX_ROWS = 5000
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_RESULT_FIELDS = (
    "id", "external_id", "title", "summary", "field", "field_parent", "keywords", "maturity", "ip_type",
    "patent_numbers", "transfer_modes", "price_wan", "organization", "region", "published_at", "link",
)  # fmt: skip
_NEED_FIELDS = (
    "id", "external_id", "title", "description", "field", "field_parent", "keywords", "cooperation_modes",
    "budget", "deadline", "is_challenge", "reward_wan", "organization", "region", "published_at", "link",
)  # fmt: skip
_RESULT_HEADER = [heading(name, "result") for name in _RESULT_FIELDS]
_NEED_HEADER = [heading(name, "need") for name in _NEED_FIELDS]


@dataclass
class Export:
    """A rendered export: the file's bytes, its row count and the number of matching listings."""

    content: bytes
    rows: int
    total: int


def _amount(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _budget(lo: float | None, hi: float | None) -> str:
    lo, hi = _amount(lo), _amount(hi)
    if lo is None and hi is None:
        return ""
    if lo is None:
        return f"{hi}以内"
    if hi is None:
        return f"{lo}以上"
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _row(listing: Listing, org, link: str) -> list[Any]:
    published = listing.published_at.date() if listing.published_at else None
    head = [listing.id, listing.external_id, listing.title]
    if listing.kind == "result":
        negotiable = listing.price_negotiable or listing.price_wan is None
        price = "面议" if negotiable else _amount(listing.price_wan)
        return [
            *head, listing.summary, listing.field, field_parent(listing.field), listing.keywords,
            listing.maturity, listing.ip_type, listing.patent_numbers, listing.transfer_modes, price,
            org.name, org.region, published, link,
        ]  # fmt: skip
    budget = _budget(listing.budget_min_wan, listing.budget_max_wan)
    challenge = "是" if listing.is_challenge else "否"
    return [
        *head, listing.description, listing.field, field_parent(listing.field), listing.keywords,
        listing.cooperation_modes, budget, listing.deadline, challenge, _amount(listing.reward_wan),
        org.name, org.region, published, link,
    ]  # fmt: skip


def export_published(
    session: Session,
    *,
    kind: str,
    filters: Filters,
    fmt: str,
    link: Callable[[Listing], str] = lambda listing: "",
    max_rows: int = EXPORT_MAX_ROWS,
) -> Export:
    """Published listings of `kind` that pass the showcase `filters`, as CSV or XLSX (at most `max_rows`)."""
    filters.page, filters.per_page = 1, max_rows
    page = published_page(session, kind, filters)
    rows = [_row(listing, org, link(listing)) for listing, org in page.items]
    header = _RESULT_HEADER if kind == "result" else _NEED_HEADER
    title = "科技成果" if kind == "result" else "技术需求"
    content = write_csv(rows, header) if fmt == "csv" else write_xlsx(rows, header, title=title)
    return Export(content=content, rows=len(rows), total=page.total)
