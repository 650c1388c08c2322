"""`flask federation …`: fill the feed's change log, harvest partners now."""

from __future__ import annotations

import json
from collections.abc import Callable

import click
from flask.cli import with_appcontext

from market.db import the_app
from market.federation import feed, harvest
from market.outbox.worker import tx

federation_cli = click.Group("federation", help="京津冀互联互通：采集目录与合作平台")


def backfill_step(progress: Callable[[str], None]) -> None:
    """The rebuild step: published listings the feed's change log does not hold yet."""
    with tx(the_app()).write() as session:
        added = feed.backfill(session)
    progress(f"互联互通目录：补记 {added} 条")


@federation_cli.command("backfill")
@with_appcontext
def backfill_command() -> None:
    """Add published listings that are not in the feed yet (listings older than the feed)."""
    backfill_step(click.echo)


@federation_cli.command("harvest")
@with_appcontext
def harvest_command() -> None:
    """Harvest every partner that is due now and index what was harvested."""
    app = the_app()
    for partner_id in harvest.due_partners(app):
        click.echo(
            json.dumps(
                {"partner": partner_id, **harvest.harvest_partner(app, partner_id)}, ensure_ascii=False
            )
        )
    click.echo(f"已索引 {harvest.index_pending(app)} 条")
