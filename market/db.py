"""Persistence: the engine, the per-request session and the constraint naming convention.

The naming convention is set on SQLModel's metadata here, before any model module is imported, so that
Alembic migrations can drop constraints by name on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata


def utcnow() -> datetime:
    """Timezone-aware now, used as the callable default of timestamp columns."""
    return datetime.now(UTC)


def make_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=_json_dumps
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # Let SQLAlchemy, not pysqlite, emit BEGIN, so SAVEPOINTs and isolation work as documented.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, json_serializer=_json_dumps
    )


def _json_dumps(value: object) -> str:
    # Keep Chinese readable in JSON columns (and LIKE-searchable on both databases).
    return json.dumps(value, ensure_ascii=False)


def register_db(app: Flask) -> None:
    """Attach an engine and a session factory to the app; nothing connects until first use."""
    engine = app.config.get("DB_ENGINE") or make_engine(str(app.config["DATABASE_URL"]))
    app.extensions["db.engine"] = engine
    app.extensions["db.sessionmaker"] = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def engine() -> sa.Engine:
    """The current app's engine."""
    return current_app.extensions["db.engine"]


def db() -> Session:
    """The session of the current request or app context (created on first use)."""
    session = g.get("db_session")
    if session is None:
        session = current_app.extensions["db.sessionmaker"]()
        g.db_session = session
    return session


@contextmanager
def new_session() -> Iterator[Session]:
    """A separate session (for CLI loops and the relay), closed afterwards."""
    session = current_app.extensions["db.sessionmaker"]()
    try:
        yield session
    finally:
        session.close()
