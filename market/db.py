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
from flask import Flask, current_app, g, has_request_context, request
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


#: execution option marking a connection whose transactions will write (BEGIN IMMEDIATE on SQLite)
WRITE = "market_write"
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def the_app() -> Flask:
    """The application behind `current_app`, for what outlives the request or the command (threads,
    the worker, caches keyed by app): the proxy would point at whatever app is current later."""
    return current_app._get_current_object()  # type: ignore[attr-defined]


def make_engine(url: str, *, busy_timeout: float = 10.0, guard_reads: bool = False) -> sa.Engine:
    """An engine for `url`.

    SQLite is set up as a server-grade embedded database (SQLAlchemy's documented pysqlite recipe):
    WAL, so readers never block the writer; `synchronous=NORMAL`; a busy timeout; and SQLAlchemy, not
    pysqlite, emits BEGIN — `BEGIN IMMEDIATE` on connections marked for writing (`WRITE`), so that a
    transaction that will write takes the write lock first and waits its turn, instead of reading a
    snapshot and failing with "database is locked" when it tries to write after another writer.
    With `guard_reads` (development), a read transaction is also `query_only`, so a page that writes
    on a plain read fails loudly in tests instead of contending for the lock in production.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout},
            json_serializer=_json_dumps,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # Let SQLAlchemy, not pysqlite, emit BEGIN, so SAVEPOINTs and isolation work as documented.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            writes = bool(conn.get_execution_options().get(WRITE))
            if guard_reads:
                conn.exec_driver_sql(f"PRAGMA query_only = {0 if writes else 1}")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

        return engine
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, json_serializer=_json_dumps
    )


def _json_dumps(value: object) -> str:
    # Keep Chinese readable in JSON columns (and LIKE-searchable on both databases).
    return json.dumps(value, ensure_ascii=False)


def register_db(app: Flask) -> None:
    """Attach an engine and a session factory to the app; nothing connects until first use."""
    engine = app.config.get("DB_ENGINE") or make_engine(
        str(app.config["DATABASE_URL"]),
        busy_timeout=float(app.config.get("DB_BUSY_TIMEOUT", 10)),
        guard_reads=app.config.get("MARKET_ENV") != "production",
    )
    app.extensions["db.engine"] = engine
    app.extensions["db.sessionmaker"] = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()
        for write in g.pop("deferred_writes", ()):
            try:
                with _own_transaction() as later:
                    write(later)
            except sa.exc.DBAPIError:  # bookkeeping only (a token's last use): skipped, not an error
                app.logger.info("deferred write skipped", exc_info=True)


def engine() -> sa.Engine:
    """The current app's engine."""
    return current_app.extensions["db.engine"]


def reads_first(view):
    """Mark a view whose request session only reads (the signed-in user, what the view checks first)
    and whose one write runs in `write_transaction()`: a request refused on what it read never takes
    the write lock, and the one that writes holds it only for the write (a bid under contention)."""
    view.reads_first = True
    return view


def _write_intent() -> bool:
    """A request that may change something (POST, PUT, …) writes; a GET, HEAD or OPTIONS only reads,
    as does a view marked `reads_first`. Outside a request (commands, the worker) everything may write."""
    if not has_request_context():
        return True
    if request.method in SAFE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "reads_first", False)


def open_session(*, write: bool) -> Session:
    """A new session of the current app; `write` makes its transactions take the write lock first."""
    return current_app.extensions["db.sessionmaker"](execution_options={WRITE: True} if write else {})


def db() -> Session:
    """The session of the current request or app context (created on first use).

    A request that may write gets a session whose transactions begin by taking the write lock;
    a plain read (GET) never takes it, so reads never wait for writers and never write.
    """
    session = g.get("db_session")
    if session is None:
        session = g.db_session = open_session(write=_write_intent())
    return session


@contextmanager
def new_session(*, write: bool = True) -> Iterator[Session]:
    """A separate session (for CLI loops and the relay), closed afterwards."""
    session = open_session(write=write)
    try:
        yield session
    finally:
        session.close()


def defer_write(write) -> None:
    """Run `write(session)` in a short transaction of its own once the request's session is closed:
    bookkeeping a plain read must not do in its own transaction (a token's last use). Best effort."""
    g.setdefault("deferred_writes", []).append(write)


@contextmanager
def write_transaction() -> Iterator[Session]:
    """A short write transaction of its own, committed on success: a read request's one write, such
    as recording that a contact was shown. The request's read transaction ends first (its objects
    stay usable), so the write neither runs beside an open snapshot nor nests in it. A request that
    writes anyway uses its own session: this would wait for the lock it holds itself."""
    if has_request_context() and _write_intent():
        raise RuntimeError("write_transaction() is for read requests; a writing request uses db()")
    current = g.get("db_session") if has_request_context() else None
    if current is not None:
        current.commit()
    with _own_transaction() as session:
        yield session


@contextmanager
def _own_transaction() -> Iterator[Session]:
    with new_session(write=True) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
