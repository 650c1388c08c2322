"""Pictures on listings: content-checked, EXIF stripped, re-encoded, two thumbnails, at most 6, alt text
required; bombs, PDFs named .jpg and SVGs with script are refused with a reason and nothing is stored."""

from __future__ import annotations

import io

from PIL import Image
from sqlmodel import select

from market.media import images
from market.media.models import ListingImage
from market.storage import storage
from tests.factories import login
from tests.media.conftest import PDF, SVG, jpeg_with_exif, png, png_bomb, webp


def _upload(client, result, data: bytes, name: str, alt: str = "电解液样品照片"):
    return client.post(
        f"/results/{result.id}/images",
        data={"image": (io.BytesIO(data), name), "alt": alt},
        content_type="multipart/form-data",
    )


def _rows(session):
    session.expire_all()
    return session.exec(select(ListingImage)).all()


def test_an_upload_is_re_encoded_without_exif_with_two_thumbnails(app, client, session, people, result):
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif().get(0x010F) == "SecretCam"
    login(client, people["uni"])
    assert _upload(client, result, original, "样品.jpg").status_code == 302
    [row] = _rows(session)
    assert (row.mimetype, row.width, row.height) == ("image/jpeg", 1200, 800)
    with app.app_context():
        full = storage().read(row.key)
        medium = storage().read(row.thumb_medium_key)
        small = storage().read(row.thumb_small_key)
    stored = Image.open(io.BytesIO(full))
    assert stored.format == "JPEG" and dict(stored.getexif()) == {}
    assert b"SecretCam" not in full and b"SecretCam" not in medium
    assert max(Image.open(io.BytesIO(medium)).size) == 480
    assert max(Image.open(io.BytesIO(small)).size) == 160
    page = client.get(f"/results/{result.id}").data.decode()
    assert 'alt="电解液样品照片"' in page and f"/images/{row.id}/medium" in page
    visitor = app.test_client()
    got = visitor.get(f"/results/{result.id}/images/{row.id}/small")
    assert got.status_code == 200 and got.mimetype == "image/jpeg" and got.data == small


def test_png_and_webp_keep_their_format(client, session, people, result):
    login(client, people["uni"])
    assert _upload(client, result, png(), "a.png").status_code == 302
    assert _upload(client, result, webp(), "b.webp").status_code == 302
    assert sorted(r.mimetype for r in _rows(session)) == ["image/png", "image/webp"]


def test_hostile_files_are_refused_with_a_reason_and_nothing_stored(app, client, session, people, result):
    login(client, people["uni"])
    cases = [
        (png_bomb(), "bomb.png", "图片像素过多"),
        (png_bomb(9000, 9000), "big.png", "（9000×9000）"),
        (PDF, "photo.jpg", "按文件内容检查"),
        (SVG, "logo.svg", "按文件内容检查"),
        (b"", "empty.png", "请选择图片文件"),
    ]
    for data, name, reason in cases:
        resp = _upload(client, result, data, name)
        assert resp.status_code == 303, name
        assert reason in client.get(f"/results/{result.id}").data.decode(), name
    assert _rows(session) == []
    with app.app_context():
        assert list(storage().keys("listing-images")) == []


def test_the_bomb_is_refused_from_its_header_without_decoding():
    try:
        images.process(png_bomb())
    except images.DomainError as exc:
        assert "像素过多" in exc.message
    else:
        raise AssertionError("a 2.5-gigapixel PNG was accepted")


def test_alt_text_is_required_and_six_is_the_limit(client, session, people, result):
    login(client, people["uni"])
    assert _upload(client, result, png(), "a.png", alt="").status_code == 303
    assert "请填写图片说明" in client.get(f"/results/{result.id}").data.decode()
    for i in range(6):
        assert _upload(client, result, png(), f"{i}.png", alt=f"第 {i} 张图").status_code == 302
    assert _upload(client, result, png(), "7.png", alt="第七张图").status_code == 303
    assert len(_rows(session)) == 6


def test_only_owners_upload_or_delete_and_only_viewers_see(app, session, people, result):
    c = app.test_client()
    login(c, people["uni"])
    _upload(c, result, png(), "a.png")
    [row] = _rows(session)
    key, row_id = row.key, row.id
    for role in ("other_uni", "ent", "agent"):
        other = app.test_client()
        login(other, people[role])
        assert _upload(other, result, png(), "x.png").status_code == 403
        assert other.post(f"/results/{result.id}/images/{row.id}/delete").status_code == 403
    assert len(_rows(session)) == 1
    assert c.post(f"/results/{result.id}/images/{row_id}/delete").status_code == 302
    assert _rows(session) == []
    with app.app_context():
        assert not storage().exists(key)
