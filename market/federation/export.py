"""The local library in the GB/T 30523 crosswalk, for partners that do not harvest: JSON and XLSX."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, select

from market import links
from market.accounts.models import Organization
from market.federation.crosswalk import ELEMENTS, core_metadata, platform_fields
from market.listings.models import KINDS
from vocab.taxonomy import ListingStatus

BATCH = 500


def records(session: Session, site: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every published listing as {core, fields}, results first, by id (contacts never included)."""
    for kind, model in KINDS.items():
        last = 0
        while True:
            rows = session.exec(
                select(model, Organization)
                .join(Organization, Organization.id == model.organization_id)
                .where(model.status == ListingStatus.PUBLISHED, model.id > last)
                .order_by(model.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            for listing, org in rows:
                url = site["url"] + links.listing(kind, listing.id)
                yield {
                    "core": core_metadata(listing, org, prefix=site["prefix"], url=url),
                    "fields": platform_fields(listing, org),
                }
            last = rows[-1][0].id


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "；".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # never a formula in a spreadsheet someone opens
    return value


def xlsx(session: Session, site: dict[str, str]) -> bytes:
    """One sheet: a column per crosswalk element (its Chinese name), a row per listing."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("科技资源核心元数据")
    sheet.append([f"{e.element}（{e.key}）" for e in ELEMENTS])
    for record in records(session, site):
        sheet.append([_cell(record["core"].get(e.key)) for e in ELEMENTS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
