"""Image fixtures made locally with Pillow: a JPEG with EXIF (GPS and camera), a PNG, a WebP; and the
hostile files of the issue: a 50,000 × 50,000 PNG header, PDF content named .jpg, an SVG with script;
real PDFs made with reportlab and an encrypted one made with pypdf."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from market.accounts.models import Organization
from tests.factories import make_listing


def jpeg_with_exif(size=(1200, 800)) -> bytes:
    img = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = 1  # Orientation
    gps = {1: "N", 2: (39.0, 7.0, 0.0), 3: "E", 4: (117.0, 12.0, 0.0)}
    exif[0x8825] = gps
    out = BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(size=(640, 480), mode="RGBA") -> bytes:
    out = BytesIO()
    Image.new(mode, size, (200, 50, 50, 255) if mode == "RGBA" else (200, 50, 50)).save(out, format="PNG")
    return out.getvalue()


def webp(size=(320, 240)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(out, format="WEBP")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width=50_000, height=50_000) -> bytes:
    """A small file whose header claims 50,000 × 50,000 pixels (2.5 gigapixels once decoded)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024 * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(text: str = "附件", pages: int = 1) -> bytes:
    """A real PDF made with reportlab (deterministic: invariant mode)."""
    out = BytesIO()
    page = canvas.Canvas(out, invariant=1)
    for i in range(pages):
        page.drawString(72, 720, f"{text} {i + 1}")
        page.showPage()
    page.save()
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf("secret"))))
    writer.encrypt("密码123")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script></svg>'
)


@pytest.fixture
def result(session, people):
    listing = make_listing(
        session,
        kind="result",
        org=session.get(Organization, people["uni"].organization_id),
        created_by_id=people["uni"].id,
    )
    session.commit()
    return listing


@pytest.fixture
def need(session, people):
    listing = make_listing(
        session,
        kind="need",
        org=session.get(Organization, people["ent"].organization_id),
        created_by_id=people["ent"].id,
    )
    session.commit()
    return listing
