"""Listing images: add (at most 6, alt text required), list, delete, serve."""

from __future__ import annotations

from flask import Response
from sqlmodel import Session, func, select

from market.accounts.models import User
from market.errors import DomainError
from market.listings.models import Listing
from market.media import images as imaging
from market.media.models import ListingImage
from market.storage import StorageError, new_key, stage, storage

MAX_IMAGES = 6
ALT_MIN, ALT_MAX = 2, 120
SIZES = ("full", "medium", "small")


def images(session: Session, kind: str, listing_id: int) -> list[ListingImage]:
    return list(
        session.exec(
            select(ListingImage)
            .where(ListingImage.kind == kind, ListingImage.listing_id == listing_id)
            .order_by(ListingImage.position, ListingImage.id)
        ).all()
    )


def add(session: Session, *, actor: User, listing: Listing, data: bytes, alt: str | None) -> ListingImage:
    """Check, re-encode and keep one image with its thumbnails; the files exist exactly when the row does."""
    text = (alt or "").strip()
    errors = []
    if not ALT_MIN <= len(text) <= ALT_MAX:
        errors.append(("alt", f"请填写图片说明（替代文字，{ALT_MIN}–{ALT_MAX} 个字），方便读屏用户和搜索"))
    count = session.exec(
        select(func.count())
        .select_from(ListingImage)
        .where(ListingImage.kind == listing.kind, ListingImage.listing_id == listing.id)
    ).one()
    if count >= MAX_IMAGES:
        errors.append(("image", f"每条最多 {MAX_IMAGES} 张图片，请先删除不需要的"))
    if errors:
        raise DomainError(*errors)
    encoded = imaging.process(data)
    keys = [new_key("listing-images", encoded.suffix) for _ in range(3)]
    try:
        for key, blob in zip(keys, (encoded.full, encoded.medium, encoded.small), strict=True):
            stage(session, key, blob)
    except StorageError:
        raise DomainError(("image", "图片保存失败（服务器存储不可用），请稍后重试")) from None
    image = ListingImage(
        kind=listing.kind,
        listing_id=listing.id,
        position=count,
        alt=text,
        mimetype=encoded.mimetype,
        width=encoded.width,
        height=encoded.height,
        size=len(encoded.full),
        key=keys[0],
        thumb_medium_key=keys[1],
        thumb_small_key=keys[2],
        created_by_id=actor.id,
    )
    session.add(image)
    session.flush()
    return image


def remove(session: Session, image: ListingImage) -> list[str]:
    """Delete the row; returns the keys to delete from the storage once the deletion is committed."""
    keys = [image.key, image.thumb_medium_key, image.thumb_small_key]
    session.delete(image)
    session.flush()
    return keys


def key_for(image: ListingImage, size: str) -> str:
    return {"full": image.key, "medium": image.thumb_medium_key, "small": image.thumb_small_key}[size]


def response(image: ListingImage, size: str) -> Response | None:
    """The image inline (it was re-encoded by us, so its type is known), cached privately for a day."""
    data = storage().read(key_for(image, size))
    if data is None:
        return None
    resp = Response(data, mimetype=image.mimetype)
    resp.headers["Cache-Control"] = "private, max-age=86400"
    resp.headers["Content-Disposition"] = "inline"
    return resp
