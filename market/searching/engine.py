"""One search engine per process, chosen by configuration and created on first use."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, current_app

from market.db import the_app
from search import SearchEngine, make_engine

_lock = threading.Lock()


def build_engine(config) -> SearchEngine:
    """Meilisearch when MEILI_URL is set, else the embedded FTS5 index at SEARCH_PATH."""
    if config.get("MEILI_URL"):
        return make_engine(
            str(config["MEILI_URL"]),
            api_key=str(config.get("MEILI_MASTER_KEY") or "") or None,
            index=str(config.get("MEILI_INDEX") or "listings"),
        )
    path = str(config["SEARCH_PATH"])
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(path, result_cache=int(config.get("SEARCH_RESULT_CACHE", 512)))


def get_engine(app: Flask | None = None) -> SearchEngine:
    """The process-wide engine of `app` (default: the current app)."""
    app = app or the_app()
    engine = app.extensions.get("search.engine")
    if engine is None:
        with _lock:
            engine = app.extensions.get("search.engine")
            if engine is None:
                engine = build_engine(app.config)
                app.extensions["search.engine"] = engine
    return engine


def engine_name(app: Flask | None = None) -> str:
    app = app or current_app
    return "meilisearch" if app.config.get("MEILI_URL") else "fts5"
