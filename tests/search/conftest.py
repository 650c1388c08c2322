"""Engines for the search contract suite: FTS5 always, Meilisearch when MEILI_URL points to a server.

Independent of the Flask app and of tests/conftest.py fixtures.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from search.base import SearchEngine
from search.fts import FtsEngine
from search.meili import MeiliEngine
from tests.search.fixtures import fixture_docs

MEILI_URL = os.environ.get("MEILI_URL", "")
MEILI_KEY = os.environ.get("MEILI_MASTER_KEY") or os.environ.get("MEILI_KEY") or None
ENGINES = [
    "fts5",
    pytest.param(
        "meilisearch",
        marks=pytest.mark.skipif(
            not MEILI_URL, reason="MEILI_URL is not set: no live Meilisearch server here"
        ),
    ),
]


def settle(engine: SearchEngine, uid: int | None) -> None:
    """Wait for an asynchronous write (Meilisearch); FTS5 writes are already applied."""
    wait = getattr(engine, "wait", None)
    if wait is not None:
        wait(uid, 60)


def _open(kind: str, path: str) -> SearchEngine:
    if kind == "fts5":
        return FtsEngine(path)

    engine = MeiliEngine(MEILI_URL, api_key=MEILI_KEY, index=f"test_{uuid.uuid4().hex[:12]}")
    settle(engine, engine.apply_settings())
    return engine


def _close(engine: SearchEngine) -> None:
    if engine.name == "meilisearch":
        engine.client.delete_index(engine.index_uid)  # type: ignore[attr-defined]
    engine.close()


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path) -> Iterator[SearchEngine]:
    """A fresh, empty engine (for tests that write)."""
    eng = _open(request.param, str(tmp_path / "search.sqlite3"))
    yield eng
    _close(eng)


@pytest.fixture(scope="module", params=ENGINES)
def loaded(request, tmp_path_factory) -> Iterator[SearchEngine]:
    """An engine holding the fixture documents (read-only tests share it)."""
    eng = _open(request.param, str(tmp_path_factory.mktemp("search") / "search.sqlite3"))
    settle(eng, eng.upsert(fixture_docs()))
    yield eng
    _close(eng)
