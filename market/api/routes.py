"""JSON API /api/v1: published listings for everyone; writes for partner platforms with an API token."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, render_template, request
from flask_login import current_user

from market.accounts.models import Organization
from market.api import contract
from market.api.openapi import openapi_document
from market.db import db
from market.errors import DomainError
from market.extensions import csrf
from market.listings import fields as field_suggestions
from market.listings import permissions as perm
from market.listings import queries, service
from market.listings.schemas import NeedIn, ResultIn, validate_listing
from market.listings.schemas_out import listing_json
from market.security import MAX_JSON_DEPTH, check_json
from matching.fields import MAX_TEXT as SUGGEST_MAX_TEXT
from vocab.taxonomy import Role

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Writes authenticate with a bearer token only (see token_user), never a cookie, so CSRF cannot apply.
csrf.exempt(bp)

WRITABLE_FIELDS = ("submit", "version")


class ApiError(DomainError):
    """An API-level refusal with an HTTP status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__((None, reason))
        self.status = status


def token_user():
    """The user of the request's bearer token; writes accept nothing else."""
    # current_user first: flask-login runs the bearer-token loader lazily, which sets g.token_auth.
    if not current_user.is_authenticated or not g.get("token_auth"):
        raise ApiError(
            401, "需要有效的 API 令牌：请求头 Authorization: Bearer <令牌>（在“我的账号”页面创建）"
        )
    return current_user._get_current_object()


def json_body() -> dict:
    """The request's JSON object, refused (400 / 422 naming the field) when it is not one or carries
    values the database cannot hold (see `security.check_json`)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the parser's own limit (about 1000 levels); silent only covers ValueError
        raise ApiError(400, f"请求体 JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）") from None
    if not isinstance(body, dict):
        raise ApiError(400, "请求体必须是 JSON 对象（Content-Type: application/json）")
    check_json(body)
    return body


def _checked(kind: str, body: dict, *, update: bool) -> ResultIn | NeedIn:
    """The body validated by the listing schema (the forms' rules and messages), then held to the
    OpenAPI document's request schema, which refuses what the forms and the import tolerate: unknown
    fields, a keyword string instead of a list, "yes" for true, a number written as text."""
    listing = validate_listing(kind, {k: v for k, v in body.items() if k not in WRITABLE_FIELDS})
    name = ("ResultIn" if kind == "result" else "NeedIn") + ("Update" if update else "")
    problems = contract.check(body, openapi_document()["components"]["schemas"][name])
    if problems:
        raise DomainError(*problems)
    return listing


def revision_json(revision) -> dict:
    """A pending revision as the API shows it to the listing's owners: the changed fields, before and
    after (the published version stays public until a reviewer approves it)."""
    return {
        "id": revision.id,
        "status": revision.status,
        "submitted_at": revision.created_at.isoformat() if revision.created_at else None,
        "base_version": revision.base_version,
        "changes": [
            {"field": field, "label": label, "before": before, "after": after}
            for field, label, before, after in revision.changes
        ],
    }


def _sees_revisions(user, listing) -> bool:
    return perm.is_owner(user, listing) or getattr(user, "role", None) == Role.ADMIN


def _listing_response(listing, status: int = 200, *, user=None):
    """The listing's JSON; its owners (and operators) also get `pending_revision`: the material edit
    waiting for review, or null."""
    session = db()
    org = session.get(Organization, listing.organization_id)
    body = listing_json(listing, org)
    if user is not None and _sees_revisions(user, listing):
        pending = service.pending_revision(session, listing)
        body["pending_revision"] = revision_json(pending) if pending is not None else None
    return jsonify(body), status


@bp.route("/<kind:kind>")
def listings(kind: str):
    """Published listings with the showcase filters and pagination."""
    filters = queries.Filters.parse(request.args, strict=True)
    page = queries.published_page(db(), kind, filters)
    return jsonify(
        {
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "items": [listing_json(listing, org) for listing, org in page.items],
        }
    )


@bp.route("/<kind:kind>/<int:listing_id>")
def listing(kind: str, listing_id: int):
    """One listing; drafts, pending and withdrawn listings are 404 to everyone but owners and admins."""
    item = perm.load_listing(db(), kind, listing_id, current_user)
    return _listing_response(item, user=current_user)


@bp.route("/<kind:kind>", methods=["POST"])
def create(kind: str):
    """Create a draft for the token's organisation; `"submit": true` also submits it for review."""
    user = token_user()
    body = json_body()
    if not perm.can_create(user, kind):
        raise ApiError(403, "该令牌的账号不能发布此类内容（科技成果由成果方发布，技术需求由需求方发布）")
    session = db()
    data = _checked(kind, body, update=False)
    item = service.create_listing(session, actor=user, kind=kind, data=data)
    if body.get("submit") is True:
        service.submit(session, actor=user, listing=item)
    session.commit()
    return _listing_response(item, 201, user=user)


@bp.route("/<kind:kind>/<int:listing_id>", methods=["PUT"])
def update(kind: str, listing_id: int):
    """Replace a listing's fields; `version` (from the last read) is required and stale versions get 409.
    A material edit of a published listing goes to review: 202, the published content unchanged, and
    the edit in `pending_revision` (200 when the edit applied at once)."""
    user = token_user()
    body = json_body()
    session = db()
    item = perm.load_listing(session, kind, listing_id, user, need=perm.can_edit)
    version = body.get("version")
    if isinstance(version, float) and version.is_integer():
        version = int(version)  # JSON Schema's integer includes 3.0
    if isinstance(version, bool) or not isinstance(version, int):
        raise DomainError(("version", "请提供整数 version（上次读取时的版本号），用于防止覆盖他人的修改"))
    data = _checked(item.kind, body, update=True)
    before = service.pending_revision(session, item)
    service.update_listing(session, actor=user, listing=item, data=data, expected_version=version)
    after = service.pending_revision(session, item)
    if body.get("submit") is True:
        service.submit(session, actor=user, listing=item)
    session.commit()
    proposed = after is not None and (before is None or after.id != before.id)
    return _listing_response(item, 202 if proposed else 200, user=user)


@bp.route("/<kind:kind>/<int:listing_id>/submit", methods=["POST"])
def submit(kind: str, listing_id: int):
    """Submit a draft or withdrawn listing for review."""
    user = token_user()
    session = db()
    item = perm.load_listing(session, kind, listing_id, user, need=perm.can_submit)
    service.submit(session, actor=user, listing=item)
    session.commit()
    return _listing_response(item, user=user)


@bp.route("/fields/suggest")
def suggest_fields():
    """Top-3 technical fields for a text (the listing forms' one-click suggestions)."""
    texts = request.args.getlist("text")
    if len(texts) != 1:
        raise ApiError(400, "请提供一个 text 参数（要判断技术领域的文字）")
    text = texts[0]
    if not 1 <= len(text) <= SUGGEST_MAX_TEXT:
        raise DomainError(("text", f"text 应为 1–{SUGGEST_MAX_TEXT} 个字"))
    model = field_suggestions.classifier(db())
    suggestions = model.suggest(text, k=3)
    inferred = model.infer(text)
    return jsonify(
        {
            "suggestions": [s.to_dict() for s in suggestions],
            "inferred": inferred.field if inferred else None,
            "threshold": model.threshold,
        }
    )


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/docs")
def docs():
    """Readable API documentation rendered from the OpenAPI document."""
    return render_template("api/docs.html", spec=openapi_document())
