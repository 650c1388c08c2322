"""Keeping the search index in step: the outbox handler and full rebuilds."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session

from market.db import the_app
from market.outbox import relay
from market.outbox.worker import tx
from market.searching.documents import (
    doc_id,
    listing_document,
    published_count,
    published_documents,
    searchable,
)
from market.searching.engine import get_engine
from search import EngineUnavailable
from vocab.analyzer import default_analyzer

#: how long the worker waits for an asynchronous engine (Meilisearch) to apply a batch
WRITE_TIMEOUT_S = 60.0


def search_handler(app: Flask) -> relay.Handler:
    """Upsert the documents of published listings and delete the others, one request each per batch."""

    def handle(changes: list[relay.Change], _tx: relay.Tx) -> None:
        engine = get_engine(app)
        # a listing past its freshness grace period leaves search until its owner re-confirms it
        kept = [c for c in changes if c.published and searchable(c.listing)]
        docs = [listing_document(c.listing, c.org) for c in kept]
        kept_keys = {(c.kind, c.listing_id) for c in kept}
        gone = [doc_id(c.kind, c.listing_id) for c in changes if (c.kind, c.listing_id) not in kept_keys]
        if docs:
            engine.wait(engine.upsert(docs), WRITE_TIMEOUT_S)
        if gone:
            engine.wait(engine.delete(gone), WRITE_TIMEOUT_S)

    return handle


def index_is_missing(session: Session) -> bool:
    """The index holds no document while the database has published listings (a new engine, or
    an upgrade that emptied an index file of an older layout)."""
    try:
        if get_engine(the_app()).count()["total"]:
            return False
    except EngineUnavailable:
        return False  # not missing, unreachable: `flask search status` says so
    return published_count(session) > 0


def reindex(
    app: Flask, *, progress: Callable[[int], None] | None = None, aside: bool = False
) -> dict[str, Any]:
    """Rebuild the whole index from the database into a fresh index and swap it in (`aside`: build a
    new file and rename it into place, for an index taken out of use by `discard`).

    Changes relayed while the new index was being built went to the old one; they are queued again.
    """
    engine = get_engine(app)
    with tx(app).read() as session:
        started_at = relay.last_entry_id(session)

    def docs():
        for doc in published_documents(tx(app).read):
            if progress:
                progress(1)
            yield doc

    try:
        result = engine.replace(docs()) if aside else engine.rebuild(docs())
    except EngineUnavailable as exc:
        raise RuntimeError(f"搜索引擎不可用：{exc}") from exc
    with tx(app).write() as session:
        result["requeued"] = relay.requeue_after(session, started_at)
    return result


def warm(app: Flask) -> str | None:
    """The worker's start: open the index and load the Chinese analyser's dictionary (over a second),
    so the first listing approved after a start is not searchable a second late; and, before the
    first batch is relayed into it, rebuild an index that is missing, damaged or was left unfinished."""
    default_analyzer().tokens("预热搜索分词")
    return keep_index(app)


def rebuild_mark(app: Flask) -> Path:
    """Present from the moment the worker decides to rebuild until the rebuild has finished: a worker
    killed in between leaves it, and the next one rebuilds (an index that was started afresh, or found
    empty, and then received only the newest changes is not empty, yet it is not whole)."""
    return Path(app.instance_path) / "search-rebuild.pending"


def keep_index(app: Flask) -> str | None:
    """Worker job: notice a search index that is missing, damaged, emptied or unfinished, and rebuild it.

    An embedded index is taken out of use first (a damaged file moved aside) and the whole new one
    renamed into its place, so searches fall back to the database meanwhile instead of answering from
    a partial index; a server that is down is left to come back (the relay retries its writes)."""
    engine = get_engine(app)
    mark = rebuild_mark(app)
    health = engine.health()
    embedded = hasattr(engine, "discard")
    if health.get("status") == "ok":
        if mark.exists():
            reason = "上次重建未完成"
        elif health.get("documents"):
            return None
        else:
            with tx(app).read() as session:
                if not published_count(session):
                    return None
            reason = "为空"
    elif embedded:
        reason = f"不可用（{health.get('error', '')[:80]}）"
    else:
        return None
    with contextlib.suppress(OSError):  # a read-only instance folder: rebuilt now, just not marked
        mark.touch()
    if embedded:
        engine.discard()
    result = reindex(app, aside=embedded)
    mark.unlink(missing_ok=True)
    return f"搜索索引{reason}，已从数据库重建 {result['indexed']} 条"


def reindex_step(progress: Callable[[str], None]) -> None:
    """The rebuild step (also `flask search reindex`): the index from the database, progress lines
    through `progress`."""
    app = the_app()
    with tx(app).read() as session:
        total = published_count(session)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if done % 5000 == 0:
            progress(f"  已索引 {done}/{total}")

    result = reindex(app, progress=tick)
    progress(f"索引已重建：{json.dumps(result, ensure_ascii=False, default=str)}")


def engine_health(app: Flask) -> dict[str, Any]:
    """The engine's own report (documents, errors), with "ok"."""
    health = get_engine(app).health()
    return {"ok": health.get("status") == "ok", **health}
