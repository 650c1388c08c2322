"""Existing data: listings returned before 已退回 existed (草稿 with a review note) read 已退回 after
the migration; plain drafts stay drafts; the downgrade puts them back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

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


def test_returned_drafts_become_returned(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, BEFORE)
    engine = sa.create_engine(url)
    with Session(engine) as session:
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
        session.commit()
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
