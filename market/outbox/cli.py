"""`flask outbox work | drain | status | rebuild` and `flask serve` (the site with its worker)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from market.db import db, the_app
from market.outbox import relay, worker
from market.outbox.rebuild import rebuild_all
from market.outbox.supervisor import serve

outbox_cli = AppGroup("outbox", help="后台 worker：发件箱（搜索索引、匹配）、邮件与定时任务")


@outbox_cli.command("work")
@click.option("--name", default="main", show_default=True, help="worker 名称（多个 worker 时区分）")
@click.option("--batch", default=200, show_default=True, help="每批最多处理的变更数")
@click.option("--parent", type=int, default=None, hidden=True, help="父进程退出时随之退出")
def work_command(name: str, batch: int, parent: int | None) -> None:
    """Run the background worker until stopped (Ctrl+C or SIGTERM)."""
    loop = worker.Worker(the_app(), name=name, batch=batch, parent_pid=parent, echo=click.echo)
    worker.install_signal_handlers(loop)
    loop.run()
    click.echo("后台 worker 已停止")


@outbox_cli.command("drain")
@click.option("--batch", default=200, show_default=True)
def drain_command(batch: int) -> None:
    """Process every due change once, then exit (no loop)."""
    stats = worker.drain_now(the_app(), limit=batch)
    click.echo(f"已同步 {stats.listings} 条（{stats.processed} 个变更），失败 {stats.failed}")
    for error in stats.errors[:10]:
        click.echo(f"  ! {error}", err=True)
    if stats.failed:
        raise SystemExit(1)


def describe(session) -> dict:
    """Backlog and workers, for `status` commands and the admin page."""
    return {"backlog": relay.backlog(session), "workers": worker.status(session)}


def echo_status(session) -> None:
    info = describe(session)
    backlog = info["backlog"]
    click.echo(
        f"待同步：{backlog['due']}，处理中：{backlog['leased']}，退避重试中：{backlog['retrying']}"
        + (f"，最早一条已等待 {backlog['oldest_seconds']:.0f} 秒" if backlog["oldest_seconds"] else "")
    )
    if backlog["last_error"]:
        click.echo(f"最近的错误：{backlog['last_error']}")
    if not info["workers"]:
        click.echo("后台 worker：从未运行（make run 会自动启动；生产环境运行 make worker）")
    for w in info["workers"]:
        state = "运行中" if w["alive"] else ("已停止" if w["state"] == "stopped" else "无响应")
        click.echo(
            f"后台 worker {w['name']}：{state}（pid {w['pid']}，{w['beat_seconds_ago']:.0f} 秒前心跳，"
            f"已处理 {w['processed']}，失败 {w['failed']}）"
            + (f"，最近错误：{w['last_error']}" if w["last_error"] else "")
        )


@outbox_cli.command("status")
@click.option("--json", "as_json", is_flag=True)
def status_command(as_json: bool) -> None:
    """The backlog and every worker's last heartbeat."""
    if as_json:
        click.echo(json.dumps(describe(db()), ensure_ascii=False, default=str))
    else:
        echo_status(db())


@outbox_cli.command("rebuild")
def rebuild_command() -> None:
    """Rebuild the search index and every match from the database."""
    rebuild_all(the_app(), click.echo)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="只启动网站（后台 worker 另行运行）")
def serve_command(host: str, port: int, no_worker: bool) -> None:
    """Serve the site and run the background worker beside it (what `make run` does)."""
    serve(the_app(), host=host, port=port, worker=not no_worker)
