"""Full-text search (全文检索) as a library: one interface, two engines.

`make_engine("data/search.sqlite3")` gives the embedded SQLite FTS5 engine; an http(s) URL gives
Meilisearch. Both take and return plain data (see `search.base`) and never import the web app.
"""

from __future__ import annotations

from typing import Any

from search.base import (
    FACETS,
    FILTER_KEYS,
    DocumentError,
    EngineUnavailable,
    Hit,
    QueryError,
    SearchEngine,
    SearchError,
    SearchQuery,
    SearchResults,
    clean_document,
    document_id,
    make_document,
)
from search.fts import FtsEngine
from search.meili import MeiliEngine

__all__ = [
    "FACETS",
    "FILTER_KEYS",
    "DocumentError",
    "EngineUnavailable",
    "Hit",
    "QueryError",
    "SearchEngine",
    "SearchError",
    "SearchQuery",
    "SearchResults",
    "clean_document",
    "document_id",
    "make_document",
    "make_engine",
]


def make_engine(
    url_or_path: str, *, api_key: str | None = None, index: str = "listings", timeout: int = 5, **options: Any
) -> SearchEngine:
    """Meilisearch for an http(s) URL, SQLite FTS5 for a file path (or ":memory:")."""
    target = url_or_path.strip()
    if target.lower().startswith(("http://", "https://")):
        return MeiliEngine(target, api_key=api_key, index=index, timeout=timeout, **options)
    if target.lower().startswith("sqlite:///"):
        target = target[len("sqlite:///") :]
    return FtsEngine(target or ":memory:", **options)
