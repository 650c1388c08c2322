"""Home page and /healthz."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from market import health
from market.db import db
from market.listings import queries

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    """What the platform offers, with live numbers and the newest listings."""
    session = db()
    latest = {kind: queries.newest(session, kind) for kind in ("result", "need")}
    challenges = queries.newest(session, "need", challenge=True)
    return render_template("home.html", latest=latest, challenges=challenges)


@bp.route("/healthz")
def healthz():
    """Whether the database (reachable, writable, room on disk), the search engine and the worker are
    ok, as JSON; 503 when the database cannot take writes. Details are on the admin system page."""
    body, status = health.public_report()
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, status
