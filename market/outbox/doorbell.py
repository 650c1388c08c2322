"""The doorbell: a committed change wakes the worker at once instead of at its next poll.

Two bells, both fire-and-forget, and the worker's poll (every `OUTBOX_POLL_SECONDS`) catches anything
they miss:

* a Unix datagram socket in the instance folder, which the worker binds (same machine: the embedded
  default, and `make run`);
* on PostgreSQL, `NOTIFY market_outbox`, sent inside the writing transaction so that it is delivered
  exactly when (and only if) the change commits — workers on other machines hear it.

A request that changes a listing marks its session (`mark`); the session's after-commit event rings.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlmodel import Session

CHANNEL = "market_outbox"


def bell_path(instance_path: str | os.PathLike) -> str:
    return str(Path(instance_path) / "outbox.bell")


def mark(session: Session, path: str) -> None:
    """Ring `path` when this session's transaction commits (and NOTIFY within it on PostgreSQL)."""
    session.info["outbox_bell"] = path
    if session.get_bind().dialect.name == "postgresql" and not session.info.get("outbox_notified"):
        session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
        session.info["outbox_notified"] = True


def ring(path: str) -> None:
    """Wake a worker listening on `path`; nothing happens when none is."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.sendto(b"!", path)


@sa.event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    session.info.pop("outbox_notified", None)
    path = session.info.pop("outbox_bell", None)
    if path:
        ring(path)


@sa.event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("outbox_bell", None)
    session.info.pop("outbox_notified", None)


class Listener:
    """The worker's side: waits until a bell rings or `timeout` passes."""

    def __init__(self, path: str, database_url: str | None = None) -> None:
        self.path = path
        self._sock: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # a socket left by a worker that died
            self._sock.bind(path)
            self._sock.setblocking(False)
        except OSError:  # a read-only instance folder: no bell, the poll still works
            self._sock.close()
            self._sock = None
        self._pg = None
        if database_url and database_url.startswith("postgresql"):
            self._pg = _listen_postgres(database_url)

    def wait(self, timeout: float) -> bool:
        """True when a bell rang (every pending ring is consumed), False on timeout."""
        fds = [f for f in (self._sock, self._pg) if f is not None]
        try:
            if fds:
                ready, _, _ = select.select(fds, [], [], max(0.0, timeout))
            else:
                time.sleep(max(0.0, timeout))
                return False
        except (OSError, ValueError):
            return False
        rang = False
        with contextlib.suppress(BlockingIOError, OSError):
            while self._sock is not None and self._sock.recv(64):
                rang = True
        if self._pg is not None and self._pg in ready:
            try:
                rang = bool(list(self._pg.notifies(timeout=0))) or rang
            except Exception:  # a dropped connection: listen again; the poll covers the gap
                self._pg = None
        return rang or bool(ready)

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        if self._pg is not None:
            with contextlib.suppress(Exception):
                self._pg.close()


def _listen_postgres(url: str):
    """A psycopg connection LISTENing on the channel (None when it cannot be opened)."""
    try:
        conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = psycopg.connect(conninfo, autocommit=True)
        conn.execute(f"LISTEN {CHANNEL}")
        return conn
    except Exception:  # the poll still works without it
        return None
