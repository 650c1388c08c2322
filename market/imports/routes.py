"""Web upload of spreadsheets for listing owners, import templates, report download and list export."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from market.accounts.models import Organization
from market.db import db
from market.errors import DomainError
from market.extensions import limiter
from market.imports import columns as cols
from market.imports.downloads import report_response, save_report
from market.imports.export import FORMATS, export_published
from market.imports.forms import UploadForm
from market.imports.service import import_listings, limits
from market.imports.tabular import write_csv, write_xlsx
from market.listings.permissions import OWNER_ROLE
from market.listings.queries import Filters
from market.routing import KIND_SEGMENT, NOUN

bp = Blueprint("imports", __name__)

KIND_OF_ROLE = {role: kind for kind, role in OWNER_ROLE.items()}
#: report rows shown on the page; the downloadable CSV has them all
SHOW_ROWS = 1000


def _download(content: bytes, filename: str, fallback: str, fmt: str) -> Response:
    response = Response(content, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}.{fmt}\"; filename*=UTF-8''{quote(filename)}.{fmt}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/import", methods=["GET", "POST"])
@login_required
def upload():
    kind = KIND_OF_ROLE.get(current_user.role)
    if kind is None or current_user.organization_id is None:
        abort(403)
    session = db()
    org = session.get(Organization, current_user.organization_id)
    form = UploadForm()
    report, error, token, status = None, None, None, 200
    if form.validate_on_submit():
        max_bytes, max_rows = limits(current_app.config)
        upload_file = form.file.data
        try:
            report = import_listings(
                session,
                kind=kind,
                filename=(upload_file.filename or "")[:120],
                data=upload_file.read(max_bytes + 1),
                actor=current_user._get_current_object(),
                default_org=org,
                restrict_org_id=org.id,
                max_bytes=max_bytes,
                max_rows=max_rows,
            )
        except DomainError as exc:
            session.rollback()
            error, status = exc.message, 400
        else:
            session.commit()
            token = save_report(user_id=current_user.id, report=report)
    elif request.method == "POST":
        status = 400
    return _page(form, kind, org, report=report, error=error, token=token), status


def _page(form, kind: str, org, *, report=None, error: str | None = None, token: str | None = None) -> str:
    max_bytes, max_rows = limits(current_app.config)
    return render_template(
        "imports/upload.html",
        form=form,
        kind=kind,
        noun=NOUN[kind],
        org=org,
        columns=cols.template_columns(kind),
        hints=cols.HINTS,
        report=report,
        error=error,
        token=token,
        show_rows=SHOW_ROWS,
        max_rows=max_rows,
        max_mb=max_bytes / 1024 / 1024,
    )


@bp.errorhandler(413)
def too_large(_exc):
    """A request body over MAX_CONTENT_LENGTH is refused before the view reads it: answer on the
    import page itself, with the limits, rather than a bare error page."""
    kind = KIND_OF_ROLE.get(getattr(current_user, "role", None))
    if request.endpoint != "imports.upload" or kind is None or current_user.organization_id is None:
        return render_template("errors/error.html", code=413, message="上传的文件过大"), 413
    max_bytes = limits(current_app.config)[0]
    request_mb = current_app.config["MAX_CONTENT_LENGTH"] / 1024 / 1024
    error = (
        f"上传的文件过大：导入文件最大 {max_bytes / 1024 / 1024:g} MB（一次请求最多 {request_mb:g} MB）。"
        "请拆分为几个文件分别导入，或删去不需要的工作表和图片后重试。"
    )
    org = db().get(Organization, current_user.organization_id)
    return _page(UploadForm(formdata=None), kind, org, error=error), 413


@bp.route("/import/report/<token>.csv")
@login_required
def report(token: str):
    response = report_response(user_id=current_user.id, token=token)
    if response is None:
        abort(404)
    return response


@bp.route("/import/template/<kind:kind>.<any(csv,xlsx):fmt>")
def template(kind: str, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    columns = cols.template_columns(kind)
    header = cols.template_header(kind)
    example = [[c.example for c in columns]]
    content = write_csv(example, header) if fmt == "csv" else write_xlsx(example, header, title=NOUN[kind])
    return _download(content, f"{NOUN[kind]}导入模板", f"{KIND_SEGMENT[kind]}-import-template", fmt)


@bp.route("/export/<kind:kind>.<any(csv,xlsx):fmt>")
@limiter.limit("30 per minute")
def export(kind: str, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    filters = Filters.parse(request.args)
    result = export_published(
        db(),
        kind=kind,
        filters=filters,
        fmt=fmt,
        link=lambda listing: url_for("listings.detail", kind=kind, listing_id=listing.id, _external=True),
    )
    response = _download(result.content, NOUN[kind], KIND_SEGMENT[kind], fmt)
    response.headers["X-Export-Rows"] = str(result.rows)
    response.headers["X-Export-Total"] = str(result.total)
    return response
