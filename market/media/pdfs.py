"""PDF checks for listing attachments: the content decides (never the name or the declared type). A file
is accepted when it starts with ``%PDF-``, pypdf can read it, it is not encrypted (a password-protected
file could not be read by the people it is shared with, and could not be checked here), and it has at
least one page. The file is kept as uploaded (a PDF is not re-encoded), served only as a download."""

from __future__ import annotations

import logging
from io import BytesIO

from pypdf import PdfReader

from market.errors import DomainError

FIELD = "file"
NOT_PDF = "附件只能是 PDF 文件（按文件内容检查，不看文件名）"
BROKEN = "PDF 文件已损坏或格式不正确，无法读取"
ENCRYPTED = "PDF 文件已加密（设置了密码），请上传未加密的版本"
EMPTY = "PDF 文件没有任何页面"
MAX_PAGES = 2000


def check(data: bytes, *, max_bytes: int) -> int:
    """The page count of an acceptable PDF, else DomainError (field "file") with a Chinese reason."""
    if not data:
        raise DomainError((FIELD, "请选择要上传的 PDF 文件"))
    if len(data) > max_bytes:
        raise DomainError((FIELD, f"PDF 文件不能超过 {_mb(max_bytes)} MB"))
    if not data.startswith(b"%PDF-"):
        raise DomainError((FIELD, NOT_PDF))
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged upload is refused, not logged as ours
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DomainError((FIELD, ENCRYPTED))
        pages = len(reader.pages)
    except DomainError:
        raise
    except Exception:  # pypdf raises many kinds on hostile input (PdfReadError, KeyError, RecursionError…)
        raise DomainError((FIELD, BROKEN)) from None
    if pages < 1:
        raise DomainError((FIELD, EMPTY))
    if pages > MAX_PAGES:
        raise DomainError((FIELD, f"PDF 文件页数过多（{pages} 页），最多 {MAX_PAGES} 页"))
    return pages


def _mb(n: int) -> str:
    mb = n / 1024 / 1024
    return f"{mb:.0f}" if mb >= 1 else f"{mb:.2f}"
