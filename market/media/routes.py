"""Listing images and PDF attachments: upload and delete (owners), and the pictures and files themselves
(whoever may see the listing)."""

from __future__ import annotations

import contextlib

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from market.db import db
from market.errors import DomainError
from market.listings import permissions as listing_perm
from market.media import attachments, service
from market.media.models import ListingFile, ListingImage
from market.storage import storage

bp = Blueprint("media", __name__)


def _detail(kind: str, listing_id: int) -> str:
    return url_for("listings.detail", kind=kind, listing_id=listing_id) + "#gallery"


def _image(kind: str, listing_id: int, image_id: int) -> ListingImage:
    image = db().get(ListingImage, image_id)
    if image is None or image.kind != kind or image.listing_id != listing_id:
        abort(404)
    return image


@bp.route("/<kind:kind>/<int:listing_id>/images", methods=["POST"])
@login_required
def upload(kind: str, listing_id: int):
    session = db()
    listing = listing_perm.load_listing(session, kind, listing_id, current_user, need=listing_perm.can_edit)
    if not FlaskForm().validate_on_submit():
        abort(400)
    file = request.files.get("image")
    try:
        service.add(
            session,
            actor=current_user,
            listing=listing,
            data=file.read() if file else b"",
            alt=request.form.get("alt"),
        )
        session.commit()  # the files move into place only now
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(_detail(kind, listing_id)), 303
    flash("图片已上传", "success")
    return redirect(_detail(kind, listing_id))


@bp.route("/<kind:kind>/<int:listing_id>/images/<int:image_id>/delete", methods=["POST"])
@login_required
def delete(kind: str, listing_id: int, image_id: int):
    session = db()
    listing_perm.load_listing(session, kind, listing_id, current_user, need=listing_perm.can_edit)
    image = _image(kind, listing_id, image_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    keys = service.remove(session, image)
    session.commit()
    for (
        key
    ) in keys:  # after the commit: a failed deletion leaves an orphan file, never a row without its file
        with contextlib.suppress(OSError):
            storage().delete(key)
    flash("图片已删除", "success")
    return redirect(_detail(kind, listing_id))


@bp.route("/<kind:kind>/<int:listing_id>/images/<int:image_id>/<any(full, medium, small):size>")
def image(kind: str, listing_id: int, image_id: int, size: str):
    listing_perm.load_listing(db(), kind, listing_id, current_user)
    resp = service.response(_image(kind, listing_id, image_id), size)
    if resp is None:
        abort(404)
    return resp


# --- PDF attachments -------------------------------------------------------------------------------------


def _files_anchor(kind: str, listing_id: int) -> str:
    return url_for("listings.detail", kind=kind, listing_id=listing_id) + "#files"


def _file(kind: str, listing_id: int, file_id: int) -> ListingFile:
    row = db().get(ListingFile, file_id)
    if row is None or row.kind != kind or row.listing_id != listing_id:
        abort(404)
    return row


@bp.route("/<kind:kind>/<int:listing_id>/files", methods=["POST"])
@login_required
def file_upload(kind: str, listing_id: int):
    session = db()
    listing = listing_perm.load_listing(session, kind, listing_id, current_user, need=listing_perm.can_edit)
    if not FlaskForm().validate_on_submit():
        abort(400)
    file = request.files.get("file")
    try:
        attachments.add(
            session,
            actor=current_user,
            listing=listing,
            data=file.read() if file else b"",
            name=file.filename if file else None,
            title=request.form.get("title"),
            description=request.form.get("description"),
        )
        session.commit()  # the file moves into place only now
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(_files_anchor(kind, listing_id)), 303
    flash("附件已上传", "success")
    return redirect(_files_anchor(kind, listing_id))


@bp.route("/<kind:kind>/<int:listing_id>/files/<int:file_id>/delete", methods=["POST"])
@login_required
def file_delete(kind: str, listing_id: int, file_id: int):
    session = db()
    listing_perm.load_listing(session, kind, listing_id, current_user, need=listing_perm.can_edit)
    row = _file(kind, listing_id, file_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    key = attachments.remove(session, row)
    session.commit()
    with contextlib.suppress(OSError):  # after the commit: at worst an orphan file, never a row without one
        storage().delete(key)
    flash("附件已删除", "success")
    return redirect(_files_anchor(kind, listing_id))


@bp.route("/<kind:kind>/<int:listing_id>/files/<int:file_id>")
def file_download(kind: str, listing_id: int, file_id: int):
    listing_perm.load_listing(db(), kind, listing_id, current_user)
    resp = attachments.response(_file(kind, listing_id, file_id))
    if resp is None:
        abort(404)
    return resp
