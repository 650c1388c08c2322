"""The puller: the worker harvests each enabled partner's feed from its stored cursor.

A page is fetched with no transaction open, checked whole (size, shape, every record), and applied in
one short write transaction together with the new cursor, so a crash leaves either the page and its
cursor or neither; a page that fails the check writes nothing but the failure (a logged reason, the
next attempt put off exponentially). Search follows in a separate step (`index_pending`): records are
written `indexed=False` and marked once the engine has them, so a crash between the two is repaired
by the next run.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlmodel import Session, func, select

from market.db import utcnow
from market.federation.crosswalk import CORE_KEYS
from market.federation.feed import CURSOR_RE, MAX_LIMIT
from market.federation.models import LinkedRecord, Partner
from market.outbox.worker import tx
from market.searching.documents import doc_id, linked_document
from market.searching.engine import get_engine
from market.searching.sync import WRITE_TIMEOUT_S
from search import EngineUnavailable

#: a page larger than this is refused unread
MAX_PAGE_BYTES = 8 * 1024 * 1024
PAGE_SIZE = 200
#: pages one partner gets per run, so one large partner does not hold the worker
PAGES_PER_RUN = 50
TIMEOUT_S = 15.0

#: fetches the feed page at an URL with a bearer token: returns the body, raises HarvestError
Fetch = Callable[[str, str, int], bytes]


class HarvestError(Exception):
    """A page that could not be fetched or was refused; the reason is logged and shown."""


@dataclass(frozen=True)
class Page:
    next: str
    more: bool
    records: list[dict[str, Any]]


def http_fetch(url: str, token: str, max_bytes: int = MAX_PAGE_BYTES, timeout: float = TIMEOUT_S) -> bytes:
    """GET the page with urllib (the standard library's client; none other is a runtime dependency)."""
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise HarvestError(f"页面过大（{int(length)} 字节，上限 {max_bytes}）")
            body = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace")
        raise HarvestError(f"合作平台返回 HTTP {exc.code}：{detail[:200]}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise HarvestError(f"无法连接合作平台：{getattr(exc, 'reason', exc)}") from None
    if len(body) > max_bytes:
        raise HarvestError(f"页面过大（超过 {max_bytes} 字节）")
    return body


# -- checking a page -------------------------------------------------------------------------------


def _text(record: dict, where: str, key: str, *, high: int, low: int = 0, nullable: bool = False) -> Any:
    value = record.get(key)
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not low <= len(value.strip()) <= high or "\x00" in value:
        raise HarvestError(f"{where}：{key} 应为 {low}–{high} 个字的文本")
    return value.strip()


def _texts(record: dict, where: str, key: str, *, items: int = 50, high: int = 60) -> list[str]:
    value = record.get(key, [])
    if (
        not isinstance(value, list)
        or len(value) > items
        or not all(isinstance(v, str) and len(v) <= high and "\x00" not in v for v in value)
    ):
        raise HarvestError(f"{where}：{key} 应为最多 {items} 个、每个最多 {high} 字的文本列表")
    return [v.strip() for v in value if v.strip()]


def _number(record: dict, where: str, key: str) -> float | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise HarvestError(f"{where}：{key} 应为非负数或 null")
    return float(value)


def _when(value: Any, where: str, key: str) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, str) and len(value) <= 40:
            return datetime.fromisoformat(value)
    except ValueError:
        pass
    raise HarvestError(f"{where}：{key} 应为 ISO 8601 时间")


def _checked_record(raw: Any, index: int, prefix: str) -> dict[str, Any]:
    where = f"第 {index + 1} 条记录"
    if not isinstance(raw, dict):
        raise HarvestError(f"{where}不是 JSON 对象")
    identifier = raw.get("identifier")
    kind = raw.get("kind")
    if kind not in ("result", "need"):
        raise HarvestError(f"{where}：kind 应为 result 或 need")
    if (
        not isinstance(identifier, str)
        or len(identifier) > 200
        or not identifier.startswith(f"{prefix}.{kind}.")
    ):
        raise HarvestError(f"{where}：identifier 应以该平台的前缀 {prefix}.{kind}. 开头")
    if not isinstance(raw.get("deleted"), bool):
        raise HarvestError(f"{where}：deleted 应为 true 或 false")
    if raw["deleted"]:
        return {"identifier": identifier, "kind": kind, "deleted": True}
    fields, core, provenance = raw.get("fields"), raw.get("core"), raw.get("provenance")
    if not isinstance(fields, dict) or not isinstance(core, dict) or not isinstance(provenance, dict):
        raise HarvestError(f"{where}：缺少 fields、core 或 provenance 对象")
    if set(core) - set(CORE_KEYS):
        raise HarvestError(f"{where}：core 含未知元素 {sorted(set(core) - set(CORE_KEYS))[:3]}")
    url = _text(provenance, where, "url", high=500, low=1)
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise HarvestError(f"{where}：provenance.url 应为 http(s) 网址")
    challenge = fields.get("is_challenge", False)
    if not isinstance(challenge, bool):
        raise HarvestError(f"{where}：is_challenge 应为 true 或 false")
    return {
        "identifier": identifier,
        "kind": kind,
        "deleted": False,
        "title": _text(fields, where, "title", low=1, high=200),
        "summary": _text(fields, where, "summary", high=20000),
        "keywords": _texts(fields, where, "keywords"),
        "field": _text(fields, where, "field", high=30, nullable=True),
        "maturity": _text(fields, where, "maturity", high=30, nullable=True),
        "modes": _texts(fields, where, "modes", items=20, high=30),
        "region": _text(fields, where, "region", high=30, nullable=True),
        "is_challenge": challenge,
        "price_low": _number(fields, where, "price_low_wan"),
        "price_high": _number(fields, where, "price_high_wan"),
        "provider": _text(fields, where, "organization", high=200),
        "url": url,
        "registered_at": _when(core.get("registered"), where, "core.registered"),
        "core": {k: core[k] for k in CORE_KEYS if k in core},
    }


def check_page(body: bytes, *, prefix: str, since: str, limit: int) -> Page:
    """The page, checked whole; HarvestError naming the first problem otherwise."""
    if len(body) > MAX_PAGE_BYTES:
        raise HarvestError(f"页面过大（超过 {MAX_PAGE_BYTES} 字节）")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise HarvestError("页面不是合法的 JSON") from None
    if not isinstance(data, dict):
        raise HarvestError("页面应为 JSON 对象")
    records, nxt, more = data.get("records"), data.get("next"), data.get("more")
    if not isinstance(records, list) or len(records) > min(limit, MAX_LIMIT):
        raise HarvestError(f"records 应为最多 {limit} 条的列表")
    if not isinstance(nxt, str) or not CURSOR_RE.match(nxt) or int(nxt) < int(since):
        raise HarvestError("next 游标无效（应为不小于 since 的非负整数）")
    if not isinstance(more, bool):
        raise HarvestError("more 应为 true 或 false")
    if more and int(nxt) == int(since):
        raise HarvestError("more 为 true 而游标没有前进")
    return Page(nxt, more, [_checked_record(r, i, prefix) for i, r in enumerate(records)])


# -- applying a page -------------------------------------------------------------------------------


def apply_page(session: Session, partner: Partner, page: Page, *, now: datetime) -> None:
    """Upsert the page's records, apply its tombstones, move the cursor: one transaction (the caller's)."""
    latest = {r["identifier"]: r for r in page.records}  # a later record of the same id wins
    existing = {
        r.identifier: r
        for r in session.exec(select(LinkedRecord).where(LinkedRecord.identifier.in_(list(latest) or [""])))
    }
    for identifier, record in latest.items():
        row = existing.get(identifier)
        if row is not None and row.partner_id != partner.id:
            continue  # another partner's identifier space (prefixes are unique, so this is corrupt data)
        if record["deleted"]:
            if row is not None and not row.deleted:
                row.deleted, row.indexed, row.harvested_at = True, False, now
                session.add(row)
            continue
        if row is None:
            row = LinkedRecord(partner_id=partner.id, identifier=identifier, kind=record["kind"], title="")
        for key, value in record.items():
            if key != "identifier":
                setattr(row, key, value)
        row.indexed, row.harvested_at = False, now
        session.add(row)
    session.flush()
    partner.cursor = page.next
    partner.last_harvest_at = now
    partner.failures, partner.next_attempt_at, partner.last_error = 0, None, None
    partner.records_live, partner.records_deleted = _counts(session, partner.id)
    session.add(partner)


def _counts(session: Session, partner_id: int) -> tuple[int, int]:
    rows = dict(
        session.exec(
            select(LinkedRecord.deleted, func.count())
            .where(LinkedRecord.partner_id == partner_id)
            .group_by(LinkedRecord.deleted)
        ).all()
    )
    return rows.get(False, 0), rows.get(True, 0)


def backoff_seconds(app: Flask, failures: int) -> float:
    base = float(app.config.get("FEDERATION_BACKOFF_SECONDS", 30))
    ceiling = float(app.config.get("FEDERATION_BACKOFF_MAX", 3600))
    return min(ceiling, base * 2 ** max(0, failures - 1))


def _failed(app: Flask, partner_id: int, reason: str) -> None:
    with tx(app).write() as session:
        partner = session.get(Partner, partner_id)
        partner.failures += 1
        now = utcnow()
        partner.last_error, partner.last_error_at = reason[:500], now
        partner.next_attempt_at = now + timedelta(seconds=backoff_seconds(app, partner.failures))
        session.add(partner)
    app.logger.warning("harvest of partner %s refused: %s", partner_id, reason)


def harvest_partner(
    app: Flask,
    partner_id: int,
    *,
    fetch: Fetch | None = None,
    page_size: int = PAGE_SIZE,
    max_pages: int = PAGES_PER_RUN,
) -> dict[str, Any]:
    """Harvest one partner from its cursor: up to `max_pages` pages, each applied with its cursor."""
    fetch = fetch or (lambda url, token, max_bytes: http_fetch(url, token, max_bytes))
    done = {"pages": 0, "records": 0, "error": None}
    for _ in range(max_pages):
        with tx(app).read() as session:
            partner = session.get(Partner, partner_id)
            if partner is None or not partner.enabled:
                break
            cursor, prefix, token = partner.cursor, partner.prefix, partner.harvest_token or ""
            url = f"{partner.base_url.rstrip('/')}/api/v1/feed?" + urllib.parse.urlencode(
                {"since": cursor, "limit": page_size}
            )
        try:
            page = check_page(fetch(url, token, MAX_PAGE_BYTES), prefix=prefix, since=cursor, limit=page_size)
        except HarvestError as exc:
            _failed(app, partner_id, str(exc))
            done["error"] = str(exc)
            break
        with tx(app).write() as session:
            partner = session.get(Partner, partner_id)
            if partner.cursor != cursor:
                break  # another worker applied this page meanwhile
            apply_page(session, partner, page, now=utcnow())
        done["pages"] += 1
        done["records"] += len(page.records)
        if not page.more:
            break
    return done


def index_pending(app: Flask, *, batch: int = 500) -> int:
    """Send records harvested since their last indexing to the search engine, then mark them."""
    done = 0
    while True:
        with tx(app).read() as session:
            rows = session.exec(
                select(LinkedRecord, Partner)
                .join(Partner, Partner.id == LinkedRecord.partner_id)
                .where(LinkedRecord.indexed.is_(False))
                .order_by(LinkedRecord.id)
                .limit(batch)
            ).all()
        if not rows:
            return done
        engine = get_engine(app)
        docs = [linked_document(r, p) for r, p in rows if not r.deleted and p.enabled]
        gone = [doc_id(r.kind, r.search_db_id) for r, p in rows if r.deleted or not p.enabled]
        if docs:
            engine.wait(engine.upsert(docs), WRITE_TIMEOUT_S)
        if gone:
            engine.wait(engine.delete(gone), WRITE_TIMEOUT_S)
        with tx(app).write() as session:
            for record, _ in rows:
                fresh = session.get(LinkedRecord, record.id)
                if fresh is not None and fresh.harvested_at == record.harvested_at:
                    fresh.indexed = True  # unless harvested again meanwhile
                    session.add(fresh)
        done += len(rows)


def due_partners(app: Flask) -> list[int]:
    now = utcnow()
    with tx(app).read() as session:
        rows = session.exec(
            select(Partner).where(Partner.enabled, Partner.base_url != "", Partner.harvest_token.is_not(None))
        ).all()
    return [p.id for p in rows if p.next_attempt_at is None or _aware(p.next_attempt_at) <= now]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def run_due(app: Flask) -> str | None:
    """Worker job: harvest every partner that is due, then index what was harvested."""
    lines = []
    for partner_id in due_partners(app):
        result = harvest_partner(app, partner_id)
        if result["records"] or result["error"]:
            lines.append(
                f"合作平台 {partner_id}：{result['records']} 条"
                + (f"，失败：{result['error']}" if result["error"] else "")
            )
    try:
        indexed = index_pending(app)
    except EngineUnavailable as exc:
        lines.append(f"搜索引擎不可用，稍后索引：{exc}")
        indexed = 0
    if indexed:
        lines.append(f"已索引 {indexed} 条合作平台记录")
    return "；".join(lines) or None
