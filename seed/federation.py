"""A demo partner platform (京津冀 互联互通) with a few dozen linked records, so a fresh `make run` shows
partners' records in search and beside a listing's matches.

Nothing is downloaded and nothing is harvested: the partner has no address and no token (the worker
never calls it, introduction requests cannot be filed to it), and every record is generated from the
bundled demo data: a partner *result* answers one of the bundled needs (its keywords and must-haves),
a partner *need* asks for what one of the bundled results offers, so they match local listings. Names,
summaries and addresses say they are demo data (`.invalid` addresses point at nothing). Deterministic
(the same records every time) and idempotent (a second load adds nothing).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from market.federation.models import LinkedRecord, Partner
from seed.loader import DATA, read_jsonl
from vocab.taxonomy import Maturity, TransferMode

NAME = "京津冀演示伙伴平台（演示数据）"
PREFIX = "JJJDEMO"
BASE = "https://demo-partner.invalid"
PER_KIND = 18
#: fictional providers, labelled as demo
INSTITUTES = (
    "京北理工学院（演示）",
    "冀中工业大学（演示）",
    "燕赵材料研究院（演示）",
    "雄安智能制造创新中心（演示）",
    "京南生物医药研究所（演示）",
    "渤海湾新能源实验室（演示）",
)
FIRMS = (
    "廊坊新材科技有限公司（演示）",
    "保定智能装备有限公司（演示）",
    "亦庄医疗器械有限公司（演示）",
    "唐山绿色冶金有限公司（演示）",
    "石家庄生物制药有限公司（演示）",
    "海淀数据科技有限公司（演示）",
)
RESULT_MODES = tuple(m.value for m in TransferMode)
MATURITIES = tuple(m.value for m in Maturity)
REGISTERED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _every(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    rows = sorted(rows, key=lambda r: r["external_id"])
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def _record(kind: str, n: int, *, title: str, summary: str, source: dict, provider: str) -> dict[str, Any]:
    identifier = f"{PREFIX}.{kind}.{n}"
    url = f"{BASE}/{kind}s/{n}"
    registered = REGISTERED + timedelta(days=n)
    keywords = list(source.get("keywords") or [])[:8]
    return {
        "identifier": identifier,
        "kind": kind,
        "title": title[:200],
        "summary": summary,
        "keywords": keywords,
        "field": source.get("field"),
        "provider": provider,
        "region": "北京" if n % 2 else "河北",
        "url": url,
        "registered_at": registered,
        "core": {
            "identifier": identifier,
            "name": title[:200],
            "description": summary,
            "keywords": keywords,
            "created": registered.isoformat(),
            "registered": registered.isoformat(),
            "provider": provider,
            "type": "科技成果" if kind == "result" else "技术需求",
            "subject": source.get("field"),
            "url": url,
        },
    }


def demo_records(data_dir: Path = DATA) -> list[dict[str, Any]]:
    """The demo partner's records, from the bundled needs and results (the same on every call)."""
    needs = _every(list(read_jsonl(data_dir / "needs.jsonl")), PER_KIND)
    results = _every(list(read_jsonl(data_dir / "results.jsonl")), PER_KIND)
    out = []
    for n, need in enumerate(needs, start=1):
        words = need.get("keywords") or [need["title"]]
        record = _record(
            "result",
            n,
            title=f"{'·'.join(words[:2])}关键技术",
            summary=f"【演示数据】京津冀演示伙伴平台的示例成果，面向“{need['title']}”一类需求。"
            f"技术要点：{need.get('requirements') or ''}",
            source=need,
            provider=INSTITUTES[n % len(INSTITUTES)],
        )
        record["maturity"] = MATURITIES[1 + n % (len(MATURITIES) - 1)]
        record["modes"] = [m for m in need.get("cooperation_modes") or [] if m in RESULT_MODES] or [
            "技术许可"
        ]
        out.append(record)
    for n, result in enumerate(results, start=1):
        words = result.get("keywords") or [result["title"]]
        record = _record(
            "need",
            n,
            title=f"寻求{'·'.join(words[:2])}技术方案",
            summary=f"【演示数据】京津冀演示伙伴平台的示例需求。{result.get('problem') or ''}"
            f"希望引进与“{result['title']}”类似的技术。",
            source=result,
            provider=FIRMS[n % len(FIRMS)],
        )
        record["modes"] = list(result.get("transfer_modes") or [])[:3]
        price = result.get("price_wan")
        if price:
            record["price_low"], record["price_high"] = round(price * 0.6, 1), round(price * 1.2, 1)
        out.append(record)
    return out


def load(session: Session, data_dir: Path = DATA) -> dict[str, int]:
    """Add the demo partner and its records where missing (never changes what is there)."""
    partner = session.exec(select(Partner).where(Partner.prefix == PREFIX)).first()
    added_partner = 0
    if partner is None:
        # enabled, so its records show; no address and no token, so nothing is harvested or sent
        partner = Partner(name=NAME, base_url="", prefix=PREFIX, harvest_token=None, enabled=True)
        session.add(partner)
        session.flush()
        added_partner = 1
    records = demo_records(data_dir)
    have = set(
        session.exec(
            select(LinkedRecord.identifier).where(
                LinkedRecord.identifier.in_([r["identifier"] for r in records])
            )
        ).all()
    )
    added = 0
    for record in records:
        if record["identifier"] in have:
            continue
        session.add(LinkedRecord(partner_id=partner.id, **record))
        added += 1
    session.flush()
    live = session.exec(
        select(LinkedRecord.id).where(LinkedRecord.partner_id == partner.id, LinkedRecord.deleted.is_(False))
    ).all()
    partner.records_live = len(live)
    session.add(partner)
    return {"partners": added_partner, "linked_records": added}
