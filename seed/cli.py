"""`flask seed demo`: load the demo data (idempotent)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from market.db import db
from market.outbox.rebuild import rebuild_all
from market.searching.sync import index_is_missing, reindex_step
from seed import challenges, federation, financing_events, history, loader, media_messages, saved

seed_cli = AppGroup("seed", help="演示数据")


@seed_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="只在数据库为空时加载（make run 使用）")
def demo(if_empty: bool) -> None:
    """Load demo organisations, accounts, results, needs and matches."""
    session = db()
    if if_empty and not loader.is_empty(session):
        click.echo("数据库已有数据，跳过演示数据加载。")
        missing = index_is_missing(session)
        session.commit()  # end this read before the rebuild's own transactions
        if missing:
            # e.g. an upgrade emptied a search index of an older layout: searching would find nothing
            click.echo("搜索索引为空而数据库有已发布的条目，重建索引。")
            reindex_step(click.echo)
    else:
        with click.progressbar(length=loader.count_lines(), label="加载演示数据") as bar:
            report = loader.load_demo(session, progress=bar.update)
        session.commit()
        extra = financing_events.load(session, loader.DEMO_PASSWORD)
        session.commit()
        extra |= challenges.load(session) | saved.load(session) | media_messages.load(session)
        session.commit()
        if any(extra.values()):
            click.echo(
                f"投资机构 +{extra['investors']}，融资需求 +{extra['requests']}，活动 +{extra['events']}，"
                f"揭榜申请 +{extra['applications']}，收藏 +{extra['favourites']}，订阅搜索 +{extra['saved_searches']}，"
                f"图片 +{extra['images']}，附件 +{extra['files']}，消息 +{extra['messages']}"
            )
        click.echo(
            f"机构 +{report.organizations}，用户 +{report.users}，科技成果 +{report.listings['result']}，"
            f"技术需求 +{report.listings['need']}，已存在跳过 {report.skipped}"
        )
        if report.trade and not report.trade.skipped:
            t = report.trade
            click.echo(
                f"展示交易：公示 {t.publicities}，挂牌 {t.listings}，竞价 {t.auctions}，技术合同 {t.contracts}"
            )
        for problem in report.problems:
            click.echo(f"  ! {problem}", err=True)
        past = history.load_history(session, data_dir=loader.DATA)
        session.commit()
        history.mark_demo(current_app._get_current_object())
        partner = federation.load(session)
        session.commit()
        if partner["linked_records"]:
            click.echo(
                f"演示合作平台“{federation.NAME}”：关联记录 +{partner['linked_records']}（不采集、不计入统计）"
            )
        if not past.skipped:
            click.echo(
                f"演示历史（12 个月）：对接 {past.matches}，签约 {past.contracts}，认定登记 {past.registered}，"
                f"编辑 {past.edited}，待更新 {past.lapsed}"
            )
        rebuild_all(current_app._get_current_object(), click.echo)
    click.echo(f"\n演示账号（密码均为 {loader.DEMO_PASSWORD}）：")
    for spec in loader.DEMO_USERS:
        click.echo(f"  {spec['role']:<10} {spec['email']:<24} {spec['name']}")
    for spec in financing_events.demo_investors():
        click.echo(f"  {'investor':<10} {spec['email']:<24} {spec['person']}")
