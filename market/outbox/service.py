"""Writing to the outbox: called by services inside the transaction that changes a listing."""

from __future__ import annotations

from sqlmodel import Session

from market.outbox.models import OutboxEntry


def enqueue_listing(session: Session, *, kind: str, listing_id: int) -> None:
    """Record that a listing changed; the relay updates search and matches from the row's current state."""
    session.add(OutboxEntry(kind=kind, listing_id=listing_id))
    session.info["outbox_dirty"] = True  # lets the web process drain right after the response
