"""Listing attachments (PDF): add (at most LISTING_FILES_MAX, each at most LISTING_FILE_MAX_BYTES, title
required), list, delete, download. The same permissions as the pictures: owners add and delete, whoever
may see the listing downloads."""

from __future__ import annotations

import re

from flask import Response, current_app
from sqlmodel import Session, func, select

from market.accounts.models import User
from market.errors import DomainError
from market.listings.models import Listing
from market.media import pdfs
from market.media.models import ListingFile
from market.security import file_name_problem
from market.storage import StorageError, new_key, stage, storage

FOLDER = "listing-files"
TITLE_MIN, TITLE_MAX = 2, 120
DESCRIPTION_MAX = 300
DEFAULT_MAX_FILES = 5
DEFAULT_MAX_BYTES = 8 * 1024 * 1024  # below the request limit (MAX_CONTENT_LENGTH, 10 MB) with the form
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|]+')


def max_files() -> int:
    return int(current_app.config.get("LISTING_FILES_MAX", DEFAULT_MAX_FILES))


def max_bytes() -> int:
    return int(current_app.config.get("LISTING_FILE_MAX_BYTES", DEFAULT_MAX_BYTES))


def files(session: Session, kind: str, listing_id: int) -> list[ListingFile]:
    return list(
        session.exec(
            select(ListingFile)
            .where(ListingFile.kind == kind, ListingFile.listing_id == listing_id)
            .order_by(ListingFile.position, ListingFile.id)
        ).all()
    )


def download_name(name: str | None, title: str) -> str:
    """The file's name without any folder (a client may send "../../x.pdf" or "C:\\x.pdf"), characters
    that mean something to a file system dropped, ending in .pdf; the title when nothing is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = base[:-4] if base.lower().endswith(".pdf") else base
    stem = _UNSAFE_NAME.sub("_", stem).strip(" ._")
    if not stem:
        stem = _UNSAFE_NAME.sub("_", title).strip(" ._") or "附件"
    return f"{stem[:150]}.pdf"


def add(
    session: Session,
    *,
    actor: User,
    listing: Listing,
    data: bytes,
    name: str | None,
    title: str | None,
    description: str | None = None,
) -> ListingFile:
    """Check and keep one PDF; the file exists exactly when the row does (`market.storage.stage`)."""
    title_text, description_text = (title or "").strip(), (description or "").strip()
    errors = []
    if not TITLE_MIN <= len(title_text) <= TITLE_MAX:
        errors.append(("title", f"请填写附件标题（{TITLE_MIN}–{TITLE_MAX} 个字），说明这份文件是什么"))
    if len(description_text) > DESCRIPTION_MAX:
        errors.append(("description", f"附件说明不能超过 {DESCRIPTION_MAX} 个字"))
    problem = file_name_problem(name)
    if problem:
        errors.append((pdfs.FIELD, f"附件{problem}"))
    count = session.exec(
        select(func.count())
        .select_from(ListingFile)
        .where(ListingFile.kind == listing.kind, ListingFile.listing_id == listing.id)
    ).one()
    if count >= max_files():
        errors.append((pdfs.FIELD, f"每条最多 {max_files()} 个附件，请先删除不需要的"))
    if errors:
        raise DomainError(*errors)
    pages = pdfs.check(data, max_bytes=max_bytes())
    key = new_key(FOLDER, ".pdf")
    try:
        stage(session, key, data)
    except StorageError:
        raise DomainError((pdfs.FIELD, "附件保存失败（服务器存储不可用），请稍后重试")) from None
    row = ListingFile(
        kind=listing.kind,
        listing_id=listing.id,
        position=count,
        title=title_text,
        description=description_text,
        name=download_name(name, title_text),
        size=len(data),
        pages=pages,
        key=key,
        created_by_id=actor.id,
    )
    session.add(row)
    session.flush()
    return row


def remove(session: Session, row: ListingFile) -> str:
    """Delete the row; returns the key to delete from the storage once the deletion is committed."""
    key = row.key
    session.delete(row)
    session.flush()
    return key


def response(row: ListingFile) -> Response | None:
    """The PDF as a download (never shown inline: it was not re-encoded), or None when its file is gone."""
    resp = storage().response(row.key, mimetype="application/pdf", download_name=row.name)
    if resp is not None:
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Cache-Control"] = "private, no-store"
    return resp


def human_size(size: int) -> str:
    """1.2 MB, 36 KB, 800 字节."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} 字节"
