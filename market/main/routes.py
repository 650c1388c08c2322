"""Home page and /healthz."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template

from market.db import db

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    """What the platform offers, with live numbers and the newest listings."""
    from market.listings import queries

    session = db()
    latest = {kind: queries.newest(session, kind) for kind in ("result", "need")}
    challenges = queries.newest(session, "need", challenge=True)
    return render_template("home.html", latest=latest, challenges=challenges)


@bp.route("/healthz")
def healthz():
    """State of the database and of the search engine, as JSON (503 when the database is down)."""
    try:
        db().execute(sa.text("SELECT 1"))
        database = {"ok": True}
    except Exception as exc:  # the point of a health check is to report, not raise
        database = {"ok": False, "error": type(exc).__name__}
    from market.searching.engine import get_engine

    try:
        search = get_engine().health()
    except Exception as exc:  # an engine that cannot even be created is reported, not raised
        search = {"status": "down", "error": type(exc).__name__}
    search["ok"] = search.get("status") == "ok"
    body = {"status": "ok" if database["ok"] else "degraded", "database": database, "search": search}
    return jsonify(body), 200 if database["ok"] else 503
