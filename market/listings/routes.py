"""Showcase, detail, create / edit and the owners' lifecycle actions for results and needs."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from market.accounts.models import Organization
from market.contacts import policy as contacts
from market.db import db, write_transaction
from market.errors import ConflictError, DomainError, apply_to_form
from market.listings import permissions as perm
from market.listings import queries, service
from market.listings.forms import FORMS, InterestForm, ReasonForm
from market.listings.models import KINDS
from market.listings.schemas import validate_listing
from market.security import safe_next
from vocab.taxonomy import COOPERATION_MODES, FIELDS, Maturity, Region, TransferMode, values

bp = Blueprint("listings", __name__)


#: WTForms' own messages for values it cannot read, in the site's language
_PARSE_MESSAGES = {
    "Not a valid decimal value.": "应为数字（单位：万元），例如 120",
    "Not a valid integer value.": "应为整数",
    "Not a valid date value.": "日期格式应为 2027-06-30",
}


def all_errors(form, kind: str) -> None:
    """After the form refused some values (numbers, dates it cannot read), check everything else with
    the schema as well, so every problem is shown at once, each next to its field."""
    refused = set()
    for name, field in form._fields.items():
        if field.errors:
            refused.add(name)
            field.errors = [_PARSE_MESSAGES.get(e, e) for e in field.errors]
    if "csrf_token" in form._fields and form.csrf_token.errors:
        return  # a stale page: nothing to check field by field
    data = {k: (None if k in refused else v) for k, v in form.to_data().items()}
    try:
        validate_listing(kind, data)
    except DomainError as exc:
        apply_to_form(form, DomainError(*[(f, r) for f, r in exc.errors if f not in refused]))


def detail_url(listing) -> str:
    return url_for("listings.detail", kind=listing.kind, listing_id=listing.id)


def _showcase(kind: str):
    filters = queries.Filters.parse(request.args)
    page = queries.published_page(db(), kind, filters)
    modes = values(TransferMode) if kind == "result" else COOPERATION_MODES
    return render_template(
        "listings/showcase.html",
        kind=kind,
        page=page,
        filters=filters,
        fields=FIELDS,
        maturities=values(Maturity),
        modes=modes,
        regions=values(Region),
    )


@bp.route("/results")
def results():
    return _showcase("result")


@bp.route("/needs")
def needs():
    return _showcase("need")


@bp.route("/<kind:kind>/<int:listing_id>")
def detail(kind: str, listing_id: int):
    session = db()
    listing = perm.load_listing(session, kind, listing_id, current_user)
    org = session.get(Organization, listing.organization_id)
    contact, basis = contacts.reveal(session, viewer=current_user, listing=listing)
    if contact is not None and basis != "owner":
        # A page view is a read; the one thing it records gets a short write transaction of its own.
        with write_transaction() as writing:
            contacts.record_reveal(writing, viewer=current_user, listing=listing, basis=basis)
    show_history = perm.is_owner(current_user, listing) or getattr(current_user, "is_admin", False)
    events = service.history(session, listing) if show_history else []
    revisions = service.revisions(session, listing) if show_history else []
    return render_template(
        "listings/detail.html",
        listing=listing,
        org=org,
        contact=contact,
        events=events,
        revisions=revisions,
        pending_revision=next((r for r in revisions if r.status == service.REVISION_PENDING), None),
        reason_form=ReasonForm(),
        interest_form=InterestForm(),
    )


@bp.route("/<kind:kind>/new", methods=["GET", "POST"])
@login_required
def create(kind: str):
    if not perm.can_create(current_user, kind):
        abort(403)
    form = FORMS[kind]()
    if form.validate_on_submit():
        session = db()
        try:
            listing = service.create_listing(session, actor=current_user, kind=kind, data=form.to_data())
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
        else:
            session.commit()
            flash("已保存为草稿。检查无误后请“提交审核”。", "success")
            return redirect(detail_url(listing))
    elif request.method == "POST":
        all_errors(form, kind)
    status = 400 if request.method == "POST" else 200
    return render_template("listings/edit.html", form=form, kind=kind, listing=None), status


MISSING_VERSION = (
    "缺少版本号，无法确认您修改的是最新内容（为防止覆盖他人的修改，未保存）。"
    "请重新打开编辑页面，再次修改后保存。"
)


@bp.route("/<kind:kind>/<int:listing_id>/edit", methods=["GET", "POST"])
@login_required
def edit(kind: str, listing_id: int):
    session = db()
    listing = perm.load_listing(session, kind, listing_id, current_user, need=perm.can_edit)
    form_cls = FORMS[listing.kind]
    # A published listing with an edit waiting for review opens on that edit (saving replaces it).
    revision = service.pending_revision(session, listing) if listing.status == "已发布" else None
    shown = SimpleNamespace(**service.revision_content(revision).model_dump()) if revision else listing
    form = form_cls() if request.method == "POST" else form_cls(obj=shown, version=listing.version)
    if request.method == "GET" and shown.keywords:
        form.keywords.data = "、".join(shown.keywords)
    if request.method == "GET":
        for name in ("patent_numbers", "inventors"):
            if hasattr(form, name):
                form[name].data = "、".join(getattr(shown, name) or [])
    status = 200
    valid = form.validate_on_submit()
    version = form.expected_version()
    if valid and version is None:
        # Without the version the form was opened on, a save could silently overwrite someone's edit.
        form.form_errors.append(MISSING_VERSION)
        status = 400
    elif valid:
        try:
            service.update_listing(
                session,
                actor=current_user,
                listing=listing,
                data=form.to_data(),
                expected_version=version,
            )
        except ConflictError as exc:
            session.rollback()
            apply_to_form(form, exc)
            status = 409
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
            status = 400
        else:
            session.commit()
            if listing.status == "已发布" and service.pending_revision(session, listing) is not None:
                flash(
                    "修改涉及标题、内容、价格、方式或领域，已提交平台审核；审核通过前，公开页面仍显示原内容。",
                    "info",
                )
            else:
                flash("修改已保存", "success")
            return redirect(detail_url(listing))
    elif request.method == "POST":
        all_errors(form, listing.kind)
        status = 400
    return render_template(
        "listings/edit.html", form=form, kind=listing.kind, listing=listing, revision=revision
    ), status


def _action(kind: str, listing_id: int, run, done: str):
    session = db()
    listing = perm.load_listing(session, kind, listing_id, current_user, need=lambda u, lst: True)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        run(session, listing, (form.reason.data or "").strip() or None)
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "danger")
    else:
        session.commit()
        flash(done, "success")
    return redirect(safe_next(request.form.get("back"), detail_url(listing)))


@bp.route("/<kind:kind>/<int:listing_id>/submit", methods=["POST"])
@login_required
def submit(kind: str, listing_id: int):
    return _action(
        kind,
        listing_id,
        lambda s, lst, _r: service.submit(s, actor=current_user, listing=lst),
        "已提交审核，平台运营审核通过后即公开发布",
    )


@bp.route("/<kind:kind>/<int:listing_id>/retract", methods=["POST"])
@login_required
def retract(kind: str, listing_id: int):
    return _action(
        kind,
        listing_id,
        lambda s, lst, _r: service.retract(s, actor=current_user, listing=lst),
        "已撤回审核，内容改回草稿，修改后可再次提交",
    )


@bp.route("/<kind:kind>/<int:listing_id>/revision/retract", methods=["POST"])
@login_required
def retract_revision(kind: str, listing_id: int):
    return _action(
        kind,
        listing_id,
        lambda s, lst, _r: service.retract_revision(s, actor=current_user, listing=lst),
        "已撤回待审核的修改，公开页面保持原内容",
    )


@bp.route("/<kind:kind>/<int:listing_id>/withdraw", methods=["POST"])
@login_required
def withdraw(kind: str, listing_id: int):
    return _action(
        kind,
        listing_id,
        lambda s, lst, r: service.withdraw(s, actor=current_user, listing=lst, reason=r),
        "已下架",
    )


@bp.route("/<kind:kind>/<int:listing_id>/close", methods=["POST"])
@login_required
def close(kind: str, listing_id: int):
    return _action(
        kind,
        listing_id,
        lambda s, lst, r: service.close(s, actor=current_user, listing=lst, reason=r),
        "已标记为已成交",
    )


@bp.route("/<kind:kind>/<int:listing_id>/interest", methods=["POST"])
@login_required
def interest(kind: str, listing_id: int):
    session = db()
    listing = perm.load_listing(session, kind, listing_id, current_user, need=perm.can_express_interest)
    form = InterestForm()
    if not form.validate_on_submit():
        abort(400)
    service.express_interest(session, user=current_user, listing=listing, message=form.message.data)
    session.commit()
    flash("意向已送达技术经纪人，对接后您将看到对方的联系方式", "success")
    return redirect(detail_url(listing))


@bp.route("/mine")
@login_required
def mine():
    if current_user.organization_id is None:
        abort(404)
    session = db()
    listings = queries.organization_listings(session, current_user.organization_id)
    org = session.get(Organization, current_user.organization_id)
    return render_template(
        "listings/mine.html",
        listings=listings,
        org=org,
        model_names={k: m.label for k, m in KINDS.items()},
    )
