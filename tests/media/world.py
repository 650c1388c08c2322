"""The pictures and attachments part of tests/security/support.py's world: an image on the published result
and one on the draft (same small PNG in all three sizes), and a PDF attachment on each."""

from __future__ import annotations

from pathlib import Path

from market.media.models import ListingFile, ListingImage
from tests.media.conftest import pdf, png


def media_world(app, session, *, result, draft) -> dict[str, int]:
    folder = Path(app.config["UPLOAD_DIR"]) / "listing-images"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, listing in (("image", result), ("image_draft", draft)):
        (folder / f"matrix-{name}.png").write_bytes(png((16, 16)))
        key = f"listing-images/matrix-{name}.png"
        row = ListingImage(
            kind="result", listing_id=listing.id, alt="矩阵图片", mimetype="image/png", width=16, height=16,
            size=100, key=key, thumb_medium_key=key, thumb_small_key=key,
        )  # fmt: skip
        session.add(row)
        session.flush()
        out[name] = row.id
    files = Path(app.config["UPLOAD_DIR"]) / "listing-files"
    files.mkdir(parents=True, exist_ok=True)
    for name, listing in (("file", result), ("file_draft", draft)):
        data = pdf(f"matrix {name}")
        (files / f"matrix-{name}.pdf").write_bytes(data)
        row = ListingFile(
            kind="result", listing_id=listing.id, title="矩阵附件", name="矩阵附件.pdf", size=len(data),
            pages=1, key=f"listing-files/matrix-{name}.pdf",
        )  # fmt: skip
        session.add(row)
        session.flush()
        out[name] = row.id
    return out
