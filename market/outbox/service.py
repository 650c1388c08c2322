"""Writing to the outbox: called by services inside the transaction that changes a listing."""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlmodel import Session

from market.outbox import doorbell
from market.outbox.models import OutboxEntry


def enqueue_listing(session: Session, *, kind: str, listing_id: int) -> None:
    """Record that a listing changed; the worker updates search and matches from the row's current
    state, woken as soon as this transaction commits."""
    session.add(OutboxEntry(kind=kind, listing_id=listing_id))
    if has_app_context():
        doorbell.mark(session, doorbell.bell_path(current_app.instance_path))
