"""`flask trade …`: verify an auction's bid log, close what is due now."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from market.db import new_session
from market.trade import closing
from market.trade import service as svc
from market.trade.models import Auction

trade_cli = AppGroup("trade", help="展示交易：竞价日志校验、到期处理")


@trade_cli.command("verify")
@click.argument("auction_id", type=int)
def verify_command(auction_id: int) -> None:
    """Recompute the hash chain of AUCTION_ID's bid log; exit 1 and say where it breaks."""
    with new_session(write=False) as session:
        auction = session.get(Auction, auction_id)
        if auction is None:
            raise click.ClickException(f"竞价 #{auction_id} 不存在")
        check = svc.verify_auction(session, auction)
    if not check.ok:
        click.echo(
            f"竞价 #{auction_id} 的出价日志校验失败：第 {check.broken_at} 条。{check.reason}", err=True
        )
        raise SystemExit(1)
    click.echo(f"竞价 #{auction_id} 的出价日志校验通过：{check.entries} 条，链头 {auction.head_hash}")


@trade_cli.command("close-due")
def close_due_command() -> None:
    """Close the publicities, listings and auctions whose time has come (the worker does this itself)."""
    click.echo(closing.run_due(current_app) or "没有到期的公示、挂牌或竞价")
