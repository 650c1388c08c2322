"""Existing data: listings returned before 已退回 existed (草稿 with a review note) read 已退回 after
the migration; plain drafts stay drafts; the downgrade puts them back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

import market.models  # noqa: F401  (every table, for the scratch schema)
from market import migrate
from tests.factories import make_listing, make_org

BEFORE = "04baed91a410"


def statuses(engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT title, status FROM research_results UNION ALL SELECT title, status FROM tech_needs"
            )
        ).all()
    return dict(rows)


def _rows_in_old_schema(engine, make) -> None:
    """Rows made by today's factories (`make(session)`), written into a database at an older revision:
    made on a scratch database of today's schema, then copied column by column the old one has."""
    scratch = sa.create_engine("sqlite://")
    SQLModel.metadata.create_all(scratch)
    with Session(scratch) as session:
        make(session)
        session.commit()
    old = sa.MetaData()
    old.reflect(engine)
    with scratch.connect() as src, engine.begin() as dst:
        for name in ("organizations", "research_results", "tech_needs"):
            table = old.tables[name]
            rows = [dict(r._mapping) for r in src.execute(sa.select(SQLModel.metadata.tables[name]))]
            if rows:
                dst.execute(table.insert(), [{k: v for k, v in r.items() if k in table.c} for r in rows])
    scratch.dispose()


def test_returned_drafts_become_returned(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, BEFORE)
    engine = sa.create_engine(url)

    def make(session) -> None:
        uni = make_org(session, name="迁移测试大学", kind="高校")
        ent = make_org(session, name="迁移测试企业", kind="企业")
        make_listing(
            session, kind="result", org=uni, status="草稿", title="退回过的成果", review_note="请补充数据"
        )
        make_listing(session, kind="result", org=uni, status="草稿", title="普通草稿")
        make_listing(
            session, kind="need", org=ent, status="草稿", title="退回过的需求", review_note="预算不明确"
        )
        make_listing(session, kind="result", org=uni, status="已发布", title="已发布的成果")

    _rows_in_old_schema(engine, make)
    migrate.upgrade(url)
    assert statuses(engine) == {
        "退回过的成果": "已退回",
        "普通草稿": "草稿",
        "退回过的需求": "已退回",
        "已发布的成果": "已发布",
    }
    migrate.downgrade(url, BEFORE)
    assert statuses(engine)["退回过的成果"] == "草稿"
    engine.dispose()
