"""Image checks and re-encoding with Pillow: the format comes from the content (never the name); the
pixel count is checked from the header before anything is decoded (a decompression bomb is refused
without being expanded); the picture is re-encoded from its pixels, so EXIF (GPS, camera) and any
other metadata or trailing payload are gone; thumbnails at two sizes."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from market.errors import DomainError

FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # e.g. 8000 × 5000
MAX_SIDE = 1600  # the stored picture's longest side
THUMB_SMALL, THUMB_MEDIUM = 160, 480
FIELD = "image"
BOMB = f"图片像素过多，最多 {MAX_PIXELS // 1_000_000} 百万像素（防止解压炸弹）"


@dataclass(frozen=True)
class Encoded:
    mimetype: str
    suffix: str
    width: int
    height: int
    full: bytes
    small: bytes
    medium: bytes


def _save(img: Image.Image, fmt: str) -> bytes:
    out = BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    elif fmt == "WEBP":
        img.save(out, format="WEBP", quality=85)
    else:
        img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def process(data: bytes) -> Encoded:
    """Check an uploaded image and re-encode it; DomainError (field "image") with a Chinese reason."""
    if not data:
        raise DomainError((FIELD, "请选择图片文件"))
    if len(data) > MAX_BYTES:
        raise DomainError((FIELD, f"图片不能超过 {MAX_BYTES // 1024 // 1024} MB"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data))
            fmt, (width, height) = probe.format, probe.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DomainError((FIELD, BOMB)) from None  # Pillow refuses it from the header, before decoding
    except (UnidentifiedImageError, OSError, ValueError):
        raise DomainError((FIELD, "只接受 JPEG、PNG、WebP 图片（按文件内容检查，不看文件名）")) from None
    if fmt not in FORMATS:
        raise DomainError((FIELD, "只接受 JPEG、PNG、WebP 图片（按文件内容检查，不看文件名）"))
    if width * height > MAX_PIXELS:
        raise DomainError((FIELD, f"{BOMB}（{width}×{height}）"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.open(BytesIO(data)).verify()
            img = Image.open(BytesIO(data))
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError, SyntaxError):
        raise DomainError((FIELD, "图片已损坏或不完整，无法读取")) from None
    img = ImageOps.exif_transpose(img)  # keep the picture upright once its EXIF orientation is gone
    if img.mode not in ("RGB", "RGBA", "L"):
        img = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    clean = Image.new(img.mode, img.size)
    clean.paste(img)  # a fresh image carries no info, EXIF, ICC or text chunks from the upload
    clean.thumbnail((MAX_SIDE, MAX_SIDE))
    mimetype, suffix = FORMATS[fmt]
    small, medium = clean.copy(), clean.copy()
    small.thumbnail((THUMB_SMALL, THUMB_SMALL))
    medium.thumbnail((THUMB_MEDIUM, THUMB_MEDIUM))
    return Encoded(
        mimetype=mimetype,
        suffix=suffix,
        width=clean.width,
        height=clean.height,
        full=_save(clean, fmt),
        small=_save(small, fmt),
        medium=_save(medium, fmt),
    )
