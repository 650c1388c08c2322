"""The GB/T 30523-2023 crosswalk: which platform field fills which core metadata element.

One table read by the feed, the export (JSON and XLSX) and the crosswalk page, so they cannot drift.
Elements the issue of the standard names as core (标识符, 资源名称, 描述, 关键词, 生成日期, 注册日期,
资源提供方) are marked core; the others are this platform's extensions, labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from market.accounts.models import Organization
from market.listings.models import Listing, ResearchResult
from vocab.taxonomy import field_parent


@dataclass(frozen=True)
class Element:
    key: str
    element: str
    core: bool
    source_result: str
    source_need: str
    note: str = ""


ELEMENTS: tuple[Element, ...] = (
    Element(
        "identifier",
        "标识符",
        True,
        "平台前缀.result.编号",
        "平台前缀.need.编号",
        "全局唯一、稳定（GB/T 32843 思路）",
    ),
    Element("name", "资源名称", True, "成果名称 title", "需求名称 title"),
    Element("description", "描述", True, "成果简介 summary", "需求描述 description"),
    Element("keywords", "关键词", True, "关键词 keywords", "关键词 keywords"),
    Element("created", "生成日期", True, "创建时间 created_at", "创建时间 created_at", "ISO 8601"),
    Element("registered", "注册日期", True, "发布时间 published_at", "发布时间 published_at", "ISO 8601"),
    Element("provider", "资源提供方", True, "成果方机构名称", "需求方机构名称"),
    Element("type", "资源类型", False, "“科技成果”", "“技术需求”", "平台扩展"),
    Element("subject", "学科 / 技术领域", False, "技术领域 field", "技术领域 field", "平台扩展"),
    Element("url", "在线地址", False, "成果详情页网址", "需求详情页网址", "平台扩展：回链来源平台"),
)
CORE_KEYS = tuple(e.key for e in ELEMENTS)


def global_id(prefix: str, kind: str, listing_id: int) -> str:
    return f"{prefix}.{kind}.{int(listing_id)}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def core_metadata(listing: Listing, org: Organization, *, prefix: str, url: str) -> dict[str, Any]:
    """The GB/T 30523 core metadata of a listing (English keys; `ELEMENTS` names them)."""
    return {
        "identifier": global_id(prefix, listing.kind, listing.id),
        "name": listing.title,
        "description": listing.summary if isinstance(listing, ResearchResult) else listing.description,
        "keywords": list(listing.keywords or []),
        "created": _iso(listing.created_at),
        "registered": _iso(listing.published_at),
        "provider": org.name,
        "type": listing.label,
        "subject": listing.field,
        "url": url,
    }


def platform_fields(listing: Listing, org: Organization) -> dict[str, Any]:
    """The platform's own public fields beside the core metadata (never contacts)."""
    if isinstance(listing, ResearchResult):
        low = high = None if listing.price_negotiable else listing.price_wan
        challenge = False
        maturity = listing.maturity
    else:
        low, high = listing.budget_min_wan, listing.budget_max_wan
        challenge = listing.is_challenge
        maturity = None
    return {
        "title": listing.title,
        "summary": listing.body,
        "field": listing.field,
        "field_top": field_parent(listing.field),
        "keywords": list(listing.keywords or []),
        "maturity": maturity,
        "modes": listing.modes,
        "region": org.region,
        "is_challenge": challenge,
        "price_low_wan": low,
        "price_high_wan": high,
        "organization": org.name,
    }
