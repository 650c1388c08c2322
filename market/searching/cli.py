"""`flask search sync [--forever] | reindex | status`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from market.db import db
from market.outbox import relay
from market.searching import sync
from market.searching.documents import published_count
from market.searching.engine import get_engine

search_cli = AppGroup("search", help="全文搜索索引")


@search_cli.command("sync")
@click.option("--forever", is_flag=True, help="作为后台 worker 持续运行（空闲或失败时退避）")
@click.option("--batch", default=200, show_default=True)
def sync_command(forever: bool, batch: int) -> None:
    """Drain the outbox into the search index and the matches."""
    app = current_app._get_current_object()
    if forever:
        click.echo("同步 worker 已启动，按 Ctrl+C 停止")
        try:
            relay.run_forever(lambda: sync.drain_now(app, limit=batch), echo=click.echo)
        except KeyboardInterrupt:
            click.echo("已停止")
        return
    stats = sync.drain_now(app, limit=batch)
    click.echo(f"已同步 {stats.processed}，失败 {stats.failed}，等待引擎任务 {stats.waiting}")
    for error in stats.errors[:10]:
        click.echo(f"  ! {error}", err=True)
    if stats.failed:
        raise SystemExit(1)


def reindex_with_progress(echo=click.echo) -> None:
    """Rebuild the index from the database with a progress bar."""
    session = db()
    with click.progressbar(length=published_count(session), label="重建索引") as bar:
        result = sync.reindex(session, progress=bar.update)
    echo(f"索引已重建：{json.dumps(result, ensure_ascii=False, default=str)}")


@search_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the index from the database (a new index swapped in when complete)."""
    reindex_with_progress()


@search_cli.command("status")
def status_command() -> None:
    """Engine, document counts and outbox backlog."""
    engine = get_engine()
    health = engine.health()
    click.echo(f"引擎：{health.get('engine')}（{health.get('status')}）")
    if health.get("status") == "ok":
        counts = engine.count()
        click.echo(f"文档：共 {counts['total']}（成果 {counts['result']}，需求 {counts['need']}）")
    else:
        click.echo(f"错误：{health.get('error', '')}")
    click.echo(f"数据库已发布：{published_count(db())}")
    backlog = relay.backlog(db())
    click.echo(
        f"待同步：{backlog['due']}，等待引擎任务：{backlog['waiting_task']}，退避重试中：{backlog['retrying']}"
    )
