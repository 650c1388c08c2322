"""Full rebuilds of everything derived from the listings (search index, matches), with progress.

Each feature registers a step: a plain function taking a `progress(message)` callback. The outbox
entries written before the rebuild started are covered by it and marked done; anything written
meanwhile stays for the relay.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from market.outbox import relay
from market.outbox.worker import tx

Progress = Callable[[str], None]
#: a step may return a summary (counts); `rebuild_all` reports progress only
Step = Callable[[Progress], object]


def register_rebuild_step(app: Flask, name: str, step: Step) -> None:
    """Add a step to `rebuild_all` (run in registration order)."""
    app.extensions.setdefault("rebuild.steps", []).append((name, step))


def rebuild_all(app: Flask, progress: Progress = print) -> None:
    """Rebuild every derived store from the database, then mark the outbox entries it covered done."""
    with tx(app).read() as session:
        upto = relay.last_entry_id(session)
    for name, step in app.extensions.get("rebuild.steps", []):
        progress(f"重建：{name}")
        step(progress)
    with tx(app).write() as session:
        relay.mark_done_up_to(session, upto)
