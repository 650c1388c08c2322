"""The search page and GET /api/v1/search."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

from market.db import db
from market.searching.engine import get_engine
from market.searching.fallback import fallback_search
from search import EngineUnavailable, QueryError, SearchQuery, SearchResults
from vocab.taxonomy import COOPERATION_MODES, FIELDS, Maturity, Region, values

bp = Blueprint("search", __name__)


def run_search(q: SearchQuery) -> tuple[SearchResults, bool]:
    """(results, degraded): the engine's results, or the database fallback when the engine is down."""
    try:
        return get_engine().query(q), False
    except EngineUnavailable:
        current_app.logger.warning("search engine unavailable; using the database fallback")
        return fallback_search(db(), q), True


def _params() -> dict:
    return {key: request.args.getlist(key) for key in request.args}


@bp.route("/search")
def page():
    error = None
    try:
        q = SearchQuery.from_params(_params())
    except QueryError as exc:
        error = exc.reason
        q = SearchQuery()
    results, degraded = run_search(q)
    return render_template(
        "search/page.html",
        q=q,
        results=results,
        degraded=degraded,
        error=error,
        fields=FIELDS,
        maturities=values(Maturity),
        modes=COOPERATION_MODES,
        regions=values(Region),
    ), 400 if error else 200


def hit_json(hit) -> dict:
    fields = {k: v for k, v in hit.fields.items() if k != "published_at"}
    return {
        "kind": hit.kind,
        "id": hit.db_id,
        "external_id": hit.external_id,
        "title": hit.title,
        "snippet": hit.snippet,
        "field": hit.field,
        "score": round(hit.score, 4),
        **fields,
    }


@bp.route("/api/v1/search")
def api():
    """Search results and facet counts as JSON; bad input is a 400 with a reason, never a 500."""
    try:
        q = SearchQuery.from_params(_params())
    except QueryError as exc:
        return jsonify({"error": "invalid", "message": exc.reason, "field": exc.field}), 400
    results, degraded = run_search(q)
    return jsonify(
        {
            "query": q.text,
            "kind": q.kind,
            "total": results.total,
            "page": results.page,
            "per_page": results.per_page,
            "engine": results.engine,
            "degraded": degraded,
            "hits": [hit_json(h) for h in results.hits],
            "facets": results.facets,
        }
    )
