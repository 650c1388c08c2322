"""`flask search reindex | status | sync` (sync: the outbox drain under its old name)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from market.db import db, the_app
from market.health import part as health_of
from market.outbox import worker
from market.outbox.cli import drain_command, echo_status
from market.searching import sync
from market.searching.documents import published_count
from market.searching.engine import get_engine

search_cli = AppGroup("search", help="全文搜索索引")


@search_cli.command("sync")
@click.option("--forever", is_flag=True, help="作为后台 worker 持续运行（同 flask outbox work）")
@click.option("--batch", default=200, show_default=True)
@click.pass_context
def sync_command(ctx: click.Context, forever: bool, batch: int) -> None:
    """Drain the outbox into the search index and the matches (alias of `flask outbox drain|work`)."""
    if forever:
        loop = worker.Worker(the_app(), batch=batch, echo=click.echo)
        worker.install_signal_handlers(loop)
        loop.run()
        return
    ctx.invoke(drain_command, batch=batch)


@search_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the index from the database (a new index swapped in when complete)."""
    sync.reindex_step(click.echo)


@search_cli.command("status")
def status_command() -> None:
    """Engine, document counts, outbox backlog and the background worker."""
    engine = get_engine()
    health = engine.health()
    click.echo(f"引擎：{health.get('engine')}（{health.get('status')}）")
    if health.get("status") == "ok":
        counts = engine.count()
        click.echo(f"文档：共 {counts['total']}（成果 {counts['result']}，需求 {counts['need']}）")
    else:
        click.echo(f"错误：{health.get('error', '')}")
    click.echo(f"数据库已发布（在有效期或宽限期内）：{published_count(db())}")
    store = health_of(the_app(), "store")
    if store and store.get("ok") and not store.get("absent"):
        click.echo(
            f"匹配库：成果 {store['results']}，需求 {store['needs']}"
            + (
                f"，{store['deferred_offers']} 条批量导入的发布待补入对方的推荐列表"
                if store["deferred_offers"]
                else ""
            )
        )
    echo_status(db())
