"""Statistics pages and GET /api/v1/stats."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_login import current_user

from market.accounts.permissions import admin_required, is_admin
from market.db import db
from market.imports.tabular import write_csv
from market.stats import sections, service
from market.stats.service import Period, StatsParamError

bp = Blueprint("stats", __name__)


def _period() -> Period:
    """The ?from=YYYY-MM-DD&to=YYYY-MM-DD range; StatsParamError (400, in Chinese) when malformed."""
    return service.parse_period(start=request.args.get("from"), end=request.args.get("to"))


@bp.context_processor
def _helpers() -> dict:
    return {"percent": sections.percent}


@bp.route("/stats")
@admin_required
def dashboard():
    """The admin dashboard; a bad date range shows the error above the all-time figures (400)."""
    error = None
    try:
        period = _period()
    except StatsParamError as exc:
        error, period = exc.message, Period()
    data = service.dashboard(db(), period=period)
    html = render_template(
        "stats/dashboard.html",
        data=data,
        sections=sections.render(data),
        error=error,
        form={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
    )
    return html, 400 if error else 200


@bp.route("/stats/<name>.csv")
@admin_required
def csv(name: str):
    """One section's table as CSV (UTF-8 with BOM, formula-safe cells), for the same date range."""
    section = sections.SECTIONS.get(name)
    if section is None:
        abort(404)
    period = _period()
    body = write_csv(section.rows(section.load(db(), period)), section.header)
    span = "_".join(d.isoformat() for d in (period.start, period.end) if d)
    filename = f"stats-{name}{'-' + span if span else ''}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/stats/public")
def public():
    """交易概况 for everyone: totals and the plan context only."""
    return render_template("stats/public.html", data=service.public_summary(db()))


@bp.route("/api/v1/stats")
def api():
    """Admins get the dashboard's figures (scope "admin"); everyone else the public totals ("public")."""
    period = _period()
    if is_admin(current_user):
        body = {"scope": "admin", **service.to_json(service.dashboard(db(), period=period))}
    else:
        body = {"scope": "public", **service.to_json(service.public_summary(db(), period=period))}
    response = jsonify(body)
    response.headers["Cache-Control"] = "private, no-store"
    return response
