"""Health of the parts the site stands on. The database probe lives here (reachable, writable, room on
disk); each feature registers a probe for its own part (search engine, background worker, match store).
`/healthz` publishes only whether each part is ok; the admin system page shows the details."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from market.db import engine as db_engine
from market.db import the_app

#: a probe's answer is reused this long (load balancers poll often; the probe takes the write lock)
PROBE_SECONDS = 5.0
_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def forget() -> None:
    """Drop the cached probe (a request just saw the database refuse: the next /healthz looks again)."""
    with _lock:
        _cache.clear()


def _sqlite_file(url: sa.URL) -> Path | None:
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database.split("?", 1)[0].removeprefix("file:"))


def database_health(app: Flask | None = None) -> dict[str, Any]:
    """{"ok", "problem", "detail"}: reachable, accepts a write (rolled back), room left on its disk."""
    app = app or the_app()
    key = f"db:{id(app)}"
    with _lock:
        cached = _cache.get(key)
        if cached and time.monotonic() - cached[0] < PROBE_SECONDS:
            return cached[1]
    result = _probe(app)
    with _lock:
        _cache[key] = (time.monotonic(), result)
    return result


def _probe(app: Flask) -> dict[str, Any]:
    engine = db_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            postgres = engine.dialect.name == "postgresql"
            if postgres and conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on":
                return {"ok": False, "problem": "read-only", "detail": "the server only accepts reads"}
        if engine.dialect.name == "sqlite":
            path = _sqlite_file(engine.url)
            if path is not None:
                free = shutil.disk_usage(path.parent).free
                if free < int(app.config.get("DB_MIN_FREE_BYTES", 32 << 20)):
                    return {"ok": False, "problem": "disk-full", "detail": f"{free // 1024} KiB free"}
            _write_probe(engine)
    except (sa.exc.DBAPIError, sqlite3.Error) as exc:  # the probe uses the driver's connection too
        text = str(getattr(exc, "orig", exc))
        lowered = text.lower()
        if "locked" in lowered or "busy" in lowered:
            return {"ok": True, "problem": "busy", "detail": "a write is in progress"}
        if "readonly" in lowered or "read-only" in lowered:
            problem = "read-only"
        elif "full" in lowered:
            problem = "disk-full"
        else:
            problem = "unreachable"
        return {"ok": False, "problem": problem, "detail": text[:200]}
    return {"ok": True, "problem": None, "detail": None}


def _write_probe(engine: sa.Engine) -> None:
    """Take the write lock and change the file header, then roll back: fails on a read-only database.
    Waits at most a moment for a writer (busy is not unhealthy)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        (timeout,) = cur.execute("PRAGMA busy_timeout").fetchone()
        cur.execute("PRAGMA busy_timeout = 300")
        cur.execute("PRAGMA query_only = 0")  # a pooled connection may come from a read (guard_reads)
        try:
            cur.execute("BEGIN IMMEDIATE")
            try:
                (version,) = cur.execute("PRAGMA user_version").fetchone()
                cur.execute(f"PRAGMA user_version = {int(version)}")
            finally:
                cur.execute("ROLLBACK")
        finally:
            cur.execute(f"PRAGMA busy_timeout = {int(timeout)}")
            cur.close()
    finally:
        raw.close()


@dataclass(frozen=True)
class Probe:
    """A part's health: `check(app)` gives the admin page's details, with "ok"; `public(details)` what
    /healthz shows anyone (None: the part is not listed there)."""

    name: str
    check: Callable[[Flask], dict[str, Any]]
    public: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def register_probe(app: Flask, probe: Probe) -> None:
    app.extensions.setdefault("health.probes", {})[probe.name] = probe


def _probes(app: Flask) -> dict[str, Probe]:
    return app.extensions.get("health.probes", {})


def _checked(app: Flask, probe: Probe) -> dict[str, Any]:
    try:
        return probe.check(app)
    except Exception as exc:  # a probe that fails is a part that is down, reported, never raised
        return {"ok": False, "error": type(exc).__name__}


def part(app: Flask, name: str) -> dict[str, Any] | None:
    """One registered part's details (None when no feature registered it)."""
    probe = _probes(app).get(name)
    return None if probe is None else _checked(app, probe)


def details(app: Flask | None = None) -> dict[str, dict[str, Any]]:
    """Every part's details: the database and each registered probe (the admin system page)."""
    app = app or the_app()
    return {"database": database_health(app)} | {
        name: _checked(app, probe) for name, probe in _probes(app).items()
    }


def public_report() -> tuple[dict[str, Any], int]:
    """What /healthz shows anyone: ok or not per part, no paths, versions or error texts. 503 when the
    database cannot take writes; "degraded" when another part is down (the site still works)."""
    app = the_app()
    database = database_health(app)
    body: dict[str, Any] = {
        "status": "ok",
        "database": {
            "ok": database["ok"],
            **({"problem": database["problem"]} if database["problem"] else {}),
        },
    }
    for name, probe in _probes(app).items():
        if probe.public is not None:
            body[name] = probe.public(_checked(app, probe))
    if not all(part["ok"] for key, part in body.items() if key != "status"):
        body["status"] = "degraded"
    if not database["ok"]:
        body["status"] = "down"
    return body, 200 if database["ok"] else 503
