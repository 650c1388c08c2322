"""Fixtures: the schema is migrated once per database; each test runs in a rolled-back transaction.

The same suite runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from market import create_app, migrate
from market.db import make_engine
from market.listings import fields
from tests.factories import make_org, make_user

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


def pytest_report_header(config) -> str:
    if TEST_DATABASE_URL:
        return f"databases: SQLite and PostgreSQL ({TEST_DATABASE_URL.rsplit('@', 1)[-1]})"
    return "databases: SQLite only — TEST_DATABASE_URL is not set, so the PostgreSQL leg is skipped"


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema of the test database."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def backend_url(backend: str, tmp_path_factory) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    reset_postgres(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    url = backend_url(request.param, tmp_path_factory)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def app_config(engine, tmp_path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "DB_ENGINE": engine,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SEARCH_PATH": str(tmp_path / "search.sqlite3"),
        "MATCH_STORE_PATH": str(tmp_path / "matching.sqlite3"),
        "MATCH_LEARNED_PATH": str(tmp_path / "matching-learned.json"),
        "INSTANCE_PATH": str(tmp_path),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MEILI_URL": "",
    }


@pytest.fixture
def app(engine, app_config):
    """An app whose sessions all live inside one outer transaction, rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    app = create_app(app_config)
    app.extensions["db.sessionmaker"] = sessionmaker(
        bind=connection, class_=Session, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    # No app context stays pushed: each request must get its own g (session, current user).
    yield app
    outer.rollback()
    connection.close()


@pytest.fixture
def session(app):
    """A session on the test transaction, for arranging data and checking results."""
    s = app.extensions["db.sessionmaker"]()
    yield s
    s.close()


@pytest.fixture
def client(app):
    return app.test_client()


class QueryRecorder:
    """The SQL statements run on the test database while recording (SAVEPOINT bookkeeping excluded)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.on = False

    def __call__(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        if self.on and not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            self.statements.append(statement)

    @contextmanager
    def record(self):
        self.statements.clear()
        self.on = True
        try:
            yield self
        finally:
            self.on = False

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def query_recorder(engine):
    """Counts the statements a request runs: `with query_recorder.record(): client.get("/")`."""
    recorder = QueryRecorder()
    sa.event.listen(engine, "before_cursor_execute", recorder)
    yield recorder
    sa.event.remove(engine, "before_cursor_execute", recorder)


@pytest.fixture
def people(session):
    """One user per role; two members of the same university; a member of another university."""

    uni_org = make_org(session, name="天津大学", kind="高校")
    ent_org = make_org(session, name="海河新能源科技股份有限公司", kind="企业")
    people = {
        "uni": make_user(session, role="university", org=uni_org),
        "uni2": make_user(session, role="university", org=uni_org),
        "other_uni": make_user(session, role="university"),
        "ent": make_user(session, role="enterprise", org=ent_org),
        "agent": make_user(session, role="agent"),
        "admin": make_user(session, role="admin"),
    }
    session.commit()
    return people


@pytest.fixture(autouse=True)
def _fresh_field_classifier():
    """The site's field classifier is kept per process and learns from the database's listings: each
    test starts without one, so what it suggests never depends on the tests that ran before."""

    fields._cache.clear()
    yield
    fields._cache.clear()
