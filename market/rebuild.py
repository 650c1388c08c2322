"""Full rebuilds of everything derived from the listings (search index, matches), with progress.

Used by `flask seed demo` and available to operators: the outbox entries written before the rebuild
started are covered by it and marked done; anything written meanwhile stays for the relay.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app

from market.db import db
from market.outbox import relay


def rebuild_all(echo: Callable[[str], None] = click.echo) -> None:
    """Rebuild the search index and every rebuild step features registered."""
    session = db()
    upto = relay.last_entry_id(session)
    for step in current_app.extensions.get("rebuild.steps", []):
        step(echo)
    relay.mark_done_up_to(session, upto)
    session.commit()


def register_rebuild_step(app, step: Callable[[Callable[[str], None]], None]) -> None:
    """Add a step to `rebuild_all` (called with an echo function, in registration order)."""
    app.extensions.setdefault("rebuild.steps", []).append(step)
