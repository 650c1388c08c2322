"""Keeping the search index in step: the outbox handler, the after-response drain, full rebuilds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g
from sqlmodel import Session

from market.accounts.models import Organization
from market.listings.models import Listing
from market.outbox import relay
from market.searching.documents import doc_id, listing_document, published_documents
from market.searching.engine import get_engine
from search import EngineUnavailable
from vocab.taxonomy import ListingStatus


def search_handler(app: Flask) -> relay.Handler:
    """Upsert the document of a published listing, delete it otherwise; returns the engine's task uid."""

    def handle(
        session: Session, kind: str, listing_id: int, listing: Listing | None, org: Organization | None
    ) -> int | None:
        engine = get_engine(app)
        if listing is not None and org is not None and listing.status == ListingStatus.PUBLISHED:
            return engine.upsert([listing_document(listing, org)])
        return engine.delete([doc_id(kind, listing_id)])

    return handle


def drain_now(app: Flask, *, limit: int = 200, max_batches: int = 1000) -> relay.DrainStats:
    """Drain the outbox with the app's handlers (CLI, worker, after-response hook)."""
    engine = get_engine(app)
    factory = app.extensions["db.sessionmaker"]
    return relay.drain(
        factory,
        app.extensions.get("outbox.handlers", []),
        engine.task_status,
        limit=limit,
        max_batches=max_batches,
    )


def register_sync(app: Flask) -> None:
    """Search consumes listing changes; a request that wrote to the outbox drains it after responding."""
    relay.register_handler(app, search_handler(app))

    from market.rebuild import register_rebuild_step
    from market.searching.cli import reindex_with_progress

    register_rebuild_step(app, reindex_with_progress)

    @app.after_request
    def _drain_after_response(response):
        session = g.get("db_session")
        if (
            app.config.get("RELAY_AFTER_COMMIT")
            and session is not None
            and session.info.pop("outbox_dirty", None)
        ):
            # After the response is sent: the user never waits on the engine, and a failure only
            # leaves the entries for the worker or the next request.
            response.call_on_close(lambda: _safe_drain(app))
        return response


def _safe_drain(app: Flask) -> None:
    with app.app_context():
        try:
            drain_now(app, limit=50, max_batches=2)
        except Exception:  # never let a background drain break anything; the worker retries
            app.logger.warning("outbox drain after response failed", exc_info=True)


def index_is_missing(session: Session) -> bool:
    """The index holds no document while the database has published listings (a new engine, or
    an upgrade that emptied an index file of an older layout)."""
    try:
        if get_engine(current_app._get_current_object()).count()["total"]:
            return False
    except EngineUnavailable:
        return False  # not missing, unreachable: `flask search status` says so
    return next(published_documents(session, batch=1), None) is not None


def reindex(session: Session, *, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Rebuild the whole index from the database into a fresh index and swap it in.

    Changes relayed while the new index was being built went to the old one; they are queued again.
    """
    engine = get_engine(current_app._get_current_object())
    started_at = relay.last_entry_id(session)

    def docs():
        for doc in published_documents(session):
            if progress:
                progress(1)
            yield doc

    try:
        result = engine.rebuild(docs())
    except EngineUnavailable as exc:
        raise RuntimeError(f"搜索引擎不可用：{exc}") from exc
    result["requeued"] = relay.requeue_after(session, started_at)
    session.commit()
    return result
