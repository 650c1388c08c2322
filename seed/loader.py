"""Load the demo data in seed/data/ through the same services users go through.

Every listing passes the same validation as a form or an import, so the demo data is also a test of
the rules. Loading is idempotent: organisations by name, users by e-mail, listings by 编号.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from market.accounts import service as accounts
from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import DomainError
from market.freshness import rules as freshness
from market.listings import service as listings
from market.listings.models import KINDS
from market.listings.schemas import SCHEMAS
from seed import trade as trade_seed
from seed.directory import load_directory
from vocab.taxonomy import Role

DATA = Path(__file__).resolve().parent / "data"

#: demo accounts (demo data only; production has no default accounts)
DEMO_PASSWORD = "kejichengguo-demo-2026"
DEMO_USERS: list[dict[str, str]] = [
    {"email": "admin@demo.kjcg.cn", "name": "平台运营 刘敏", "role": Role.ADMIN, "org": ""},
    {
        "email": "tju@demo.kjcg.cn",
        "name": "天津大学技术转移办 王子涵",
        "role": Role.UNIVERSITY,
        "org": "天津大学",
    },
    {
        "email": "nankai@demo.kjcg.cn",
        "name": "南开大学科研院 陈静",
        "role": Role.UNIVERSITY,
        "org": "南开大学",
    },
    {
        "email": "haihe@demo.kjcg.cn",
        "name": "海河新能源 研发部 赵强",
        "role": Role.ENTERPRISE,
        "org": "海河新能源科技股份有限公司",
    },
    {
        "email": "jingu@demo.kjcg.cn",
        "name": "津沽智能装备 创新中心 孙悦",
        "role": Role.ENTERPRISE,
        "org": "津沽智能装备有限公司",
    },
    {
        "email": "bohai@demo.kjcg.cn",
        "name": "渤海精细化工 技术部 郑凯",
        "role": Role.ENTERPRISE,
        "org": "渤海精细化工有限公司",
    },
    {
        "email": "agent@demo.kjcg.cn",
        "name": "技术经纪人 周航",
        "role": Role.AGENT,
        "org": "天津市技术转移中心",
    },
    {
        "email": "agent2@demo.kjcg.cn",
        "name": "技术经纪人 吴桐",
        "role": Role.AGENT,
        "org": "滨海科技成果转化服务有限公司",
    },
]


@dataclass
class SeedReport:
    organizations: int = 0
    users: int = 0
    listings: dict[str, int] = field(default_factory=lambda: {"result": 0, "need": 0})
    skipped: int = 0
    brokers: int = 0
    problems: list[str] = field(default_factory=list)
    trade: trade_seed.TradeSeedReport | None = None


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def is_empty(session: Session) -> bool:
    """No users yet: a fresh database."""
    return session.exec(select(User.id).limit(1)).first() is None


def load_demo(
    session: Session,
    *,
    data_dir: Path = DATA,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Load organisations, demo accounts and published listings; returns what was added."""
    report = SeedReport()
    orgs: dict[str, Organization] = {}
    for row in read_jsonl(data_dir / "organizations.jsonl"):
        org, created = accounts.get_or_create_org(
            session,
            name=row["name"],
            kind=row["kind"],
            region=row["region"],
            district=row.get("district"),
            agency_type=row.get("agency_type"),
            growth_tier=row.get("growth_tier"),
            high_tech=bool(row.get("high_tech")),
            verified=bool(row.get("verified", True)),
        )
        orgs[org.name] = org
        report.organizations += created
    for spec in DEMO_USERS:
        if accounts.find_user_by_email(session, spec["email"]) is not None:
            continue
        if spec["role"] == Role.ADMIN:
            accounts.create_admin(
                session, email=spec["email"], display_name=spec["name"], password=DEMO_PASSWORD
            )
        else:
            user = accounts.register_user(
                session,
                email=spec["email"],
                display_name=spec["name"],
                password=DEMO_PASSWORD,
                role=spec["role"],
                org_name=spec["org"],
            )
            if user.pending_organization_id is not None:  # demo members join their organisations directly
                accounts.decide_membership(session, user=user, approve=True)
        report.users += 1

    rng = random.Random(2026)
    now = utcnow()
    for kind, filename in (("result", "results.jsonl"), ("need", "needs.jsonl")):
        model = KINDS[kind]
        existing = set(session.exec(select(model.external_id).where(model.external_id.is_not(None))).all())
        for row in read_jsonl(data_dir / filename):
            if progress:
                progress(1)
            if row["external_id"] in existing:
                report.skipped += 1
                continue
            org = orgs.get(row["organization"])
            if org is None:
                report.problems.append(f"{row['external_id']}: 未知机构 {row['organization']}")
                continue
            data = {k: row[k] for k in SCHEMAS[kind].model_fields if k in row}
            if kind == "need":
                data["no_secret_confirmed"] = True
            try:
                with session.begin_nested():
                    listing = listings.create_listing(
                        session, actor=None, kind=kind, data=data, organization=org
                    )
                    listings.publish_directly(session, actor=None, listing=listing, reason="演示数据")
            except DomainError as exc:
                report.problems.append(f"{row['external_id']}: {exc.message}")
                continue
            # Spread publication over the past year so "newest" and monthly statistics look like real use.
            listing.published_at = now - timedelta(days=rng.randint(1, 365), minutes=rng.randint(0, 1440))
            listing.created_at = listing.published_at - timedelta(days=rng.randint(1, 20))
            freshness.start_validity(listing, on=listing.published_at.date())
            session.add(listing)
            report.listings[kind] += 1
    session.flush()
    report.trade = trade_seed.load(session)  # 展示交易 in each of its states
    report.brokers = load_directory(session)
    return report


def count_lines(data_dir: Path = DATA) -> int:
    return sum(1 for name in ("results.jsonl", "needs.jsonl") for _ in read_jsonl(data_dir / name))
